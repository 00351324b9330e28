package reuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/cellkey"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
)

const (
	key      = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	otherKey = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// variant pushes a random image of arch carrying annotation key k to repo
// and returns repo@digest.
func variant(t *testing.T, repo, arch, k string) string {
	img, err := random.Image(32, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	if k != "" {
		img = mutate.Annotations(img, map[string]string{cellkey.Annotation: k}).(v1.Image)
	}
	ref, err := name.NewTag(repo + ":x")
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img))
	d, err := img.Digest()
	require.NoError(t, err)
	return repo + "@" + d.String()
}

// TestLookup: an entry is used only when it and the variant it names agree
// on the key and the platform; else the cell builds.
func TestLookup(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	for i, tc := range []struct {
		name  string
		entry func(c *Cache) // writes the entry of key, or not
		want  string         // "ref": the variant; "": a miss
		err   string
	}{
		{name: "no entry", entry: func(*Cache) {}},
		{name: "the variant", entry: func(c *Cache) {
			require.NoError(t, c.Record(ctx, key, "linux/amd64", variant(t, host+"/app", "amd64", key)))
		}, want: "ref"},
		{name: "a deleted manifest", entry: func(c *Cache) {
			require.NoError(t, c.Record(ctx, key, "linux/amd64", host+"/gone@sha256:3333333333333333333333333333333333333333333333333333333333333333"))
		}, err: "variant " + host + "/gone@"},
		{name: "the wrong platform", entry: func(c *Cache) {
			require.NoError(t, c.Record(ctx, key, "linux/amd64", variant(t, host+"/app", "arm64", key)))
		}, err: "not linux/amd64"},
		{name: "a variant of another key", entry: func(c *Cache) {
			require.NoError(t, c.Record(ctx, key, "linux/amd64", variant(t, host+"/app", "amd64", otherKey)))
		}, err: "carries key"},
		{name: "an entry of another platform", entry: func(c *Cache) {
			require.NoError(t, c.Record(ctx, key, "linux/arm64", variant(t, host+"/app", "arm64", key)))
		}, err: "not this cell's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCache(fmt.Sprintf("%s/case%d/matrix-cache", host, i))
			require.NoError(t, err)
			tc.entry(c)
			got, err := c.Lookup(ctx, key, "linux/amd64")
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				var te *transport.Error
				var be *BadEntry
				assert.True(t, errors.As(err, &te) || errors.As(err, &be), "an answer of the registry, not a cache that is down: %v", err)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, host+"/app@sha256:")
			}
		})
	}
}

// TestRecordTwoRunsAtOnce: two runs writing the same key at once both
// succeed, and the entry names one of their variants, complete.
func TestRecordTwoRunsAtOnce(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	c, err := NewCache(host + "/matrix-cache")
	require.NoError(t, err)
	refs := []string{variant(t, host+"/a", "amd64", key), variant(t, host+"/b", "amd64", key)}
	var wg sync.WaitGroup
	errs := make([]error, len(refs))
	for i, ref := range refs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Record(ctx, key, "linux/amd64", ref) }()
	}
	wg.Wait()
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	got, err := c.Lookup(ctx, key, "linux/amd64")
	require.NoError(t, err)
	assert.Contains(t, refs, got)
}

// TestReadOnlyCache: through a proxy that refuses every write (a PR job
// without write credentials), a lookup still finds the entry, and a
// record fails without writing anything.
func TestReadOnlyCache(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	roHost, refused := mirrortest.ReadOnly(t, host)
	ctx := context.Background()
	rw, err := NewCache(host + "/matrix-cache")
	require.NoError(t, err)
	require.NoError(t, rw.Record(ctx, key, "linux/amd64", variant(t, host+"/app", "amd64", key)))

	c, err := NewCache(roHost + "/matrix-cache")
	require.NoError(t, err)
	got, err := c.Lookup(ctx, key, "linux/amd64")
	require.NoError(t, err)
	assert.Contains(t, got, host+"/app@sha256:", "the entry names the variant where it was pushed")
	assert.Error(t, c.Record(ctx, otherKey, "linux/amd64", got))
	assert.Positive(t, refused(), "the proxy refused the write")
	_, err = remote.Head(rw.tag(otherKey))
	assert.Error(t, err, "nothing was written")
}
