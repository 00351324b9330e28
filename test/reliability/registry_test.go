//go:build engine

package reliability

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

var (
	images = map[string][]string{
		"fixture-base":  {"linux/amd64", "linux/arm64"},
		"fixture-child": {"linux/amd64", "linux/arm64"},
		"fixture-x86":   {"linux/amd64"},
	}
	tags = []string{"v1", "latest"}
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// publishVia publishes the fixtures through the fault proxy.
func publishVia(t *testing.T, ctx context.Context, c *dagger.Client, px *proxy, dir, repo, version string, attest bool) (*report.Report, error) {
	t.Helper()
	opts := matrix.Options{Run: matrix.RunOptions{Jobs: 4, Version: version}, Attest: matrix.AttestOptions{NoAttest: !attest},
		Push: matrix.PushOptions{Mode: matrix.PushTagged, Registry: px.addr + "/" + repo, Tags: tags,
			Retry: registry.Retry{Attempts: 5, Base: 200 * time.Millisecond, Max: 3 * time.Second}}}
	res, err := enginetest.Local(t, opts, dir).Publish(ctx, c, c.Host().Directory(dir))
	require.NotNil(t, res, "the run got past its checks: %v", err)
	return res.Report, err
}

// finalDigests reads every final tag straight from the registry (not through
// the proxy); a missing tag maps to "".
func finalDigests(t *testing.T, registry, repo string) map[string]string {
	out := map[string]string{}
	for img := range images {
		for _, tag := range tags {
			ref, err := name.ParseReference(fmt.Sprintf("%s/%s/%s:%s", registry, repo, img, tag))
			require.NoError(t, err)
			d, err := remote.Head(ref)
			var te *transport.Error
			switch {
			case errors.As(err, &te) && te.StatusCode == http.StatusNotFound:
				out[ref.String()] = ""
			case err != nil:
				t.Fatalf("reading %s: %v", ref, err)
			default:
				out[ref.String()] = d.Digest.String()
			}
		}
	}
	return out
}

// poller checks, while a run goes on, that every final tag is either absent
// or a complete index: never an index missing a platform.
type poller struct {
	polls, partial atomic.Int64
	stop           chan struct{}
	wg             sync.WaitGroup
	mu             sync.Mutex
	bad            []string
}

func startPoller(t *testing.T, registry, repo string) *poller {
	p := &poller{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx := context.Background()
		for i := 0; i < 100000; i++ { // bounded; stops when the test says so
			select {
			case <-p.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for img, platforms := range images {
				for _, tag := range tags {
					ref, _ := name.ParseReference(fmt.Sprintf("%s/%s/%s:%s", registry, repo, img, tag))
					p.polls.Add(1)
					if _, err := remote.Head(ref); err != nil {
						continue // absent: fine
					}
					if _, err := publish.ReadBack(ctx, ref, platforms); err != nil {
						p.partial.Add(1)
						p.mu.Lock()
						p.bad = append(p.bad, err.Error())
						p.mu.Unlock()
					}
				}
			}
		}
	}()
	t.Cleanup(p.done)
	return p
}

func (p *poller) done() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

// TestFaultRegistry runs each registry fault against a fresh repository:
// the run either completes through bounded retries, or fails leaving every
// final tag as it was, and a rerun completes; no final tag is ever partial.
func TestFaultRegistry(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	dir := enginetest.Fixtures(t, false)

	type faultCase struct {
		name   string
		faults func() []*fault
		want   string // "ok": retries carry the run; "fail": it must fail; "either"
	}
	// Three groups side by side, each behind a proxy of its own: the two
	// long cases alone, the two short ones one after the other.
	groups := []struct {
		name  string
		cases []faultCase
	}{
		{"retried", []faultCase{
			{"503 storm", func() []*fault { return []*fault{{status: 503, left: 4}} }, "ok"},
			{"429 with Retry-After on read-back", func() []*fault {
				return []*fault{{match: manifestGet, status: 429, retryAfter: "1", left: 1}}
			}, "ok"},
		}},
		{"reset", []faultCase{
			{"connection reset mid-blob", func() []*fault { return []*fault{{match: blobUpload, reset: true, left: 2}} }, "either"},
		}},
		{"stopped", []faultCase{
			{"registry stops mid-publish", func() []*fault {
				var seen atomic.Int32
				return []*fault{{match: func(*http.Request) bool { return seen.Add(1) > 12 }, status: 503, left: -1}}
			}, "fail"},
		}},
	}
	for g, group := range groups {
		t.Run(group.name, func(t *testing.T) {
			t.Parallel()
			px := startProxy(t, faultAddrs[g], "127.0.0.1:5000")
			for i, tc := range group.cases {
				t.Run(tc.name, func(t *testing.T) {
					faultCaseRun(t, c, px, registry, dir, fmt.Sprintf("%d-%d", g, i), tc.faults, tc.want)
				})
			}
		})
	}
}

// faultCaseRun publishes the fixtures cleanly, then again under faults
// through px while a poller watches the final tags, and checks the outcome
// (want: ok, fail or either) and that no final tag was ever partial.
func faultCaseRun(t *testing.T, c *dagger.Client, px *proxy, registry, dir, id string, faults func() []*fault, want string) {
	ctx := testCtx(t)
	repo := enginetest.Unique("reliability-" + id)
	// A first, clean publish sets the final tags. It need not attest: its
	// SBOM scans cost more than its pushes, and the faults hit the next.
	first, err := publishVia(t, ctx, c, px, dir, repo, "v1", false)
	require.NoError(t, err)
	require.True(t, first.OK(), first.Summary())
	before := finalDigests(t, registry, repo)

	// A new version, under faults, while a poller watches the final tags.
	pl := startPoller(t, registry, repo)
	for _, f := range faults() {
		px.add(f)
	}
	injectedBefore := px.injected()
	r, err := publishVia(t, ctx, c, px, dir, repo, enginetest.Unique("v2"), true)
	px.clear()
	injected := px.injected() - injectedBefore
	assert.Positive(t, injected, "faults were injected")
	after := finalDigests(t, registry, repo)
	firstOK := err == nil
	switch want {
	case "ok":
		require.NoError(t, err, r.Summary())
	case "fail":
		require.Error(t, err, "a registry that stopped cannot take a publish")
		assert.Contains(t, err.Error(), "no final tag was changed")
		assert.Equal(t, class.Failed, class.Of(err), "a publish that failed midway is a failed step")
	}
	if !firstOK {
		assert.Equal(t, before, after, "a failed run moved no final tag")
		r, err = publishVia(t, ctx, c, px, dir, repo, enginetest.Unique("v3"), true)
		require.NoError(t, err, "the rerun completes")
		require.True(t, r.OK(), "the rerun completes: %s", r.Summary())
	}
	pl.done()
	assert.Zero(t, pl.partial.Load(), "final tags were never partial: %v", pl.bad)
	assert.NotEqual(t, before, finalDigests(t, registry, repo), "the completed run moved the tags")
	t.Logf("figures: case=%q injected=%d first_attempt_ok=%v polls=%d partial=%d", t.Name(), injected, firstOK, pl.polls.Load(), pl.partial.Load())
}

// TestFaultRetryAfterHonoured: the request after a 429 waits Retry-After.
func TestFaultRetryAfterHonoured(t *testing.T) {
	enginetest.Registry(t)
	px := startProxy(t, faultAddr, "127.0.0.1:5000")
	px.add(&fault{match: manifestGet, status: 429, retryAfter: "2", left: 1})
	ref, err := name.ParseReference(faultAddr + "/library/debian:bookworm-slim")
	require.NoError(t, err)
	r := registry.Retry{Attempts: 3, Base: 10 * time.Millisecond, Max: 5 * time.Second}
	_, err = remote.Head(ref, remote.WithTransport(r.Transport(http.DefaultTransport)))
	require.NoError(t, err)
	hits := px.log()
	require.GreaterOrEqual(t, len(hits), 2)
	var first, next time.Time
	for _, h := range hits {
		if h.Injected {
			first = h.At
		} else if !first.IsZero() && next.IsZero() {
			next = h.At
		}
	}
	assert.GreaterOrEqual(t, next.Sub(first), 2*time.Second, "waited the registry's Retry-After")
	t.Logf("figures: retry_after=2s waited=%s", next.Sub(first).Round(10*time.Millisecond))
}
