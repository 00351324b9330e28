package publish

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// testRegistry is go-containerregistry's in-process registry on 127.0.0.1,
// recording the reference of every manifest PUT.
type testRegistry struct {
	host string // 127.0.0.1:port
	mu   sync.Mutex
	puts []string // <repo>:<ref> of each PUT /v2/<repo>/manifests/<ref>
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	reg := &testRegistry{}
	h := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			if repo, ref, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/"); ok {
				reg.mu.Lock()
				reg.puts = append(reg.puts, repo+":"+ref)
				reg.mu.Unlock()
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u.Host, "127.0.0.1:"), "test registry must be on 127.0.0.1, is %s", u.Host)
	reg.host = u.Host
	return reg
}

// manifestPuts returns the manifest PUTs so far and forgets them.
func (r *testRegistry) manifestPuts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.puts
	r.puts = nil
	return out
}

func (r *testRegistry) target(tags ...string) Target {
	return Target{Client: registry.Client{Registry: r.host + "/proj", Tags: tags, Retry: registry.Retry{Attempts: 1}}}
}

func testRepo(t *testing.T, tgt Target, image string) name.Repository {
	t.Helper()
	repo, err := name.NewRepository(tgt.Repo(image), name.Insecure)
	require.NoError(t, err)
	return repo
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	require.NoError(t, err)
	return h
}

func TestReadBack(t *testing.T) {
	both := []string{"linux/amd64", "linux/arm64"}
	cases := []struct {
		name      string
		entries   []mirrortest.Entry // nil: nothing pushed
		platforms []string
		wantErr   string // "" passes
	}{
		{"complete amd64 then arm64", mirrortest.Same("linux/amd64", "linux/arm64"), both, ""},
		{"missing platform", mirrortest.Same("linux/amd64"), both, "1 entries, want 2"},
		{"wrong order", mirrortest.Same("linux/arm64", "linux/amd64"), both, "entry 0 is"},
		{"entry does not match its config", []mirrortest.Entry{{Desc: "linux/amd64", Config: "linux/amd64"}, {Desc: "linux/arm64", Config: "linux/amd64"}}, both, "entry linux/arm64 has config linux/amd64"},
		{"reference does not exist", nil, both, "reading back"},
	}
	reg := newTestRegistry(t)
	tgt := reg.target()
	ctx := context.Background()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := testRepo(t, tgt, "readback"+string(rune('a'+i)))
			ref := repo.Tag(registry.PendingTag)
			var want v1.Hash
			if tc.entries != nil {
				idx := mirrortest.Index(t, tc.entries)
				require.NoError(t, remote.WriteIndex(ref, idx, tgt.Remote(ctx)...))
				want = digestOf(t, idx)
			}
			got, err := ReadBack(ctx, ref, tc.platforms, tgt.Remote(ctx)...)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Nil(t, got)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), ref.String(), "the error names the reference")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, digestOf(t, got))
		})
	}
}

func TestAsIndex(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		push      func(t *testing.T, ref name.Tag, tgt Target) v1.Hash // returns the digest passed to asIndex
		platforms []string
		check     func(t *testing.T, repo name.Repository, tgt Target, pushed v1.Hash, got string, err error)
	}{
		{
			name: "an index comes back unchanged",
			push: func(t *testing.T, ref name.Tag, tgt Target) v1.Hash {
				idx, err := random.Index(64, 1, 2)
				require.NoError(t, err)
				require.NoError(t, remote.WriteIndex(ref, idx, tgt.Remote(ctx)...))
				return digestOf(t, idx)
			},
			platforms: []string{"linux/amd64", "linux/arm64"},
			check: func(t *testing.T, repo name.Repository, tgt Target, pushed v1.Hash, got string, err error) {
				require.NoError(t, err)
				assert.Equal(t, pushed.String(), got)
				_, err = remote.Head(repo.Tag(registry.PendingTag), tgt.Remote(ctx)...)
				assert.Error(t, err, "nothing is written under %s for an index", registry.PendingTag)
			},
		},
		{
			name: "a single image with one platform is wrapped",
			push: func(t *testing.T, ref name.Tag, tgt Target) v1.Hash {
				img := mirrortest.Image(t, "linux/arm64")
				require.NoError(t, remote.Write(ref, img, tgt.Remote(ctx)...))
				return digestOf(t, img)
			},
			platforms: []string{"linux/arm64"},
			check: func(t *testing.T, repo name.Repository, tgt Target, pushed v1.Hash, got string, err error) {
				require.NoError(t, err)
				assert.NotEqual(t, pushed.String(), got)
				head, err := remote.Head(repo.Tag(registry.PendingTag), tgt.Remote(ctx)...)
				require.NoError(t, err)
				assert.Equal(t, got, head.Digest.String(), "%s names the new index", registry.PendingTag)
				assert.Equal(t, types.OCIImageIndex, head.MediaType)

				idx, err := remote.Index(repo.Digest(got), tgt.Remote(ctx)...)
				require.NoError(t, err)
				m, err := idx.IndexManifest()
				require.NoError(t, err)
				require.Len(t, m.Manifests, 1)
				assert.Equal(t, pushed, m.Manifests[0].Digest, "the index holds the pushed image")
				require.NotNil(t, m.Manifests[0].Platform)
				assert.Equal(t, "linux", m.Manifests[0].Platform.OS)
				assert.Equal(t, "arm64", m.Manifests[0].Platform.Architecture)
				_, err = ReadBack(ctx, repo.Digest(got), []string{"linux/arm64"}, tgt.Remote(ctx)...)
				assert.NoError(t, err, "the wrapped index reads back complete")
			},
		},
		{
			name: "a single image with two platforms is an error",
			push: func(t *testing.T, ref name.Tag, tgt Target) v1.Hash {
				img := mirrortest.Image(t, "linux/amd64")
				require.NoError(t, remote.Write(ref, img, tgt.Remote(ctx)...))
				return digestOf(t, img)
			},
			platforms: []string{"linux/amd64", "linux/arm64"},
			check: func(t *testing.T, repo name.Repository, tgt Target, pushed v1.Hash, got string, err error) {
				require.Error(t, err)
				assert.Empty(t, got)
				assert.Contains(t, err.Error(), "is a single image, want an index of linux/amd64,linux/arm64")
				assert.Contains(t, err.Error(), repo.String()+"@"+pushed.String())
				_, err = remote.Head(repo.Tag(registry.PendingTag), tgt.Remote(ctx)...)
				assert.Error(t, err, "nothing is written under %s", registry.PendingTag)
			},
		},
		{
			name: "a digest that does not exist is an error",
			push: func(t *testing.T, ref name.Tag, tgt Target) v1.Hash {
				return digestOf(t, mirrortest.Image(t, "linux/amd64")) // never pushed
			},
			platforms: []string{"linux/amd64"},
			check: func(t *testing.T, repo name.Repository, tgt Target, pushed v1.Hash, got string, err error) {
				require.Error(t, err)
				assert.Empty(t, got)
				assert.Contains(t, err.Error(), "reading back "+repo.String()+"@"+pushed.String())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			tgt := reg.target()
			repo := testRepo(t, tgt, "asindex")
			pushed := tc.push(t, repo.Tag("engine"), tgt)
			got, err := tgt.asIndex(ctx, repo, pushed.String(), tc.platforms)
			tc.check(t, repo, tgt, pushed, got, err)
		})
	}
}

func TestTargetTag(t *testing.T) {
	ctx := context.Background()
	platforms := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	cases := []struct {
		name     string
		tags     []string
		archTags bool
		// before points tags at this run's index ("self") or another one
		// ("other") before the run.
		before   map[string]string
		runs     int      // tag is called this many times
		wantPuts []string // manifest PUTs of the last run, in order
		wantTags []string // in the report
	}{
		{
			name: "writes every final tag", tags: []string{"v1.2.3", "latest"}, runs: 1,
			wantPuts: []string{"v1.2.3", "latest"}, wantTags: []string{"v1.2.3", "latest"},
		},
		{
			name: "writes arch tags to the children", tags: []string{"v1.2.3"}, archTags: true, runs: 1,
			wantPuts: []string{"v1.2.3", "v1.2.3-amd64", "v1.2.3-arm64", "v1.2.3-armv7"},
			wantTags: []string{"v1.2.3", "v1.2.3-amd64", "v1.2.3-arm64", "v1.2.3-armv7"},
		},
		{
			name: "second run moves no tag", tags: []string{"v1.2.3", "latest"}, runs: 2,
			wantPuts: nil, wantTags: []string{"v1.2.3", "latest"},
		},
		{
			name: "second run with arch tags moves no tag", tags: []string{"v1.2.3", "latest"}, archTags: true, runs: 2,
			wantPuts: nil,
			wantTags: []string{"v1.2.3", "latest", "v1.2.3-amd64", "latest-amd64", "v1.2.3-arm64", "latest-arm64", "v1.2.3-armv7", "latest-armv7"},
		},
		{
			name: "a tag pointing elsewhere is moved", tags: []string{"v1.2.3", "latest"}, runs: 1,
			before:   map[string]string{"v1.2.3": "self", "latest": "other"},
			wantPuts: []string{"latest"}, wantTags: []string{"v1.2.3", "latest"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			tgt := reg.target(tc.tags...)
			tgt.ArchTags = tc.archTags
			repo := testRepo(t, tgt, "comp")
			pendingRef := repo.Tag(registry.PendingTag)
			require.NoError(t, remote.WriteIndex(pendingRef, mirrortest.Index(t, mirrortest.Same(platforms...)), tgt.Remote(ctx)...))
			idx, err := ReadBack(ctx, pendingRef, platforms, tgt.Remote(ctx)...)
			require.NoError(t, err)
			digest := digestOf(t, idx)

			other := mirrortest.Index(t, mirrortest.Same("linux/amd64"))
			for tag, what := range tc.before {
				if what == "self" {
					require.NoError(t, remote.Tag(repo.Tag(tag), idx, tgt.Remote(ctx)...))
				} else {
					require.NoError(t, remote.WriteIndex(repo.Tag(tag), other, tgt.Remote(ctx)...))
				}
			}

			s := &pending{c: component.Spec{Name: "comp", Image: "comp"}, repo: repo, index: idx}
			var r *report.Report
			for range tc.runs {
				reg.manifestPuts()
				r = &report.Report{}
				require.NoError(t, tgt.tag(ctx, s, r))
			}

			var want []string
			for _, tag := range tc.wantPuts {
				want = append(want, "proj/comp:"+tag)
			}
			assert.Equal(t, want, reg.manifestPuts(), "manifest PUTs of the last run")

			require.Len(t, r.Indexes, 1)
			m, err := idx.IndexManifest()
			require.NoError(t, err)
			var entries []report.PlatformDigest
			for i, d := range m.Manifests {
				entries = append(entries, report.PlatformDigest{Platform: platforms[i], Digest: d.Digest.String()})
			}
			assert.Equal(t, report.Index{Component: "comp", Ref: repo.String(), Digest: digest.String(), Tags: tc.wantTags, Platforms: entries,
				Reused: len(tc.wantPuts) == 0}, r.Indexes[0], "the report names the index, its tags and each platform's digest, and whether no tag moved")

			for _, tag := range tc.tags {
				head, err := remote.Head(repo.Tag(tag), tgt.Remote(ctx)...)
				require.NoError(t, err, tag)
				assert.Equal(t, digest, head.Digest, "%s names the index", tag)
			}
			m, err = idx.IndexManifest()
			require.NoError(t, err)
			for _, d := range m.Manifests {
				for _, tag := range tc.tags {
					at := tag + "-" + d.Platform.Architecture + d.Platform.Variant
					head, err := remote.Head(repo.Tag(at), tgt.Remote(ctx)...)
					if !tc.archTags {
						assert.Error(t, err, "no arch tag %s without ArchTags", at)
						continue
					}
					require.NoError(t, err, at)
					assert.Equal(t, d.Digest, head.Digest, "%s names the %s child", at, d.Platform)
					assert.False(t, head.MediaType.IsIndex(), "%s is an image manifest", at)
				}
			}
		})
	}
}
