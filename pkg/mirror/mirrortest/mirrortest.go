// Package mirrortest gives tests an in-process registry that counts its
// writes, and upstream indexes built with go-containerregistry.
package mirrortest

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"
)

// Registry is go-containerregistry's registry behind httptest on 127.0.0.1.
type Registry struct {
	Host string // 127.0.0.1:port
	srv  *httptest.Server
	puts atomic.Int64
	// refuse, when set, answers 403 to the writes into repositories under it.
	refuse atomic.Pointer[string]
}

// Refuse answers 403 Forbidden to every write under /v2/<repo>, from now on.
func (r *Registry) Refuse(repo string) { r.refuse.Store(&repo) }

// New starts a registry that lives as long as the test.
func New(t testing.TB) *Registry {
	t.Helper()
	reg := &Registry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	reg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodPatch {
			if p := reg.refuse.Load(); p != nil && strings.HasPrefix(r.URL.Path, "/v2/"+*p+"/") {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"refused by the test"}]}`, http.StatusForbidden)
				return
			}
			reg.puts.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(reg.srv.Close)
	u, err := url.Parse(reg.srv.URL)
	require.NoError(t, err)
	reg.Host = u.Host
	return reg
}

// ReadOnly is a proxy in front of the registry at host that answers 403
// Forbidden to every write, as a registry answers a job without write
// credentials. It returns the proxy's host and the count of the writes it
// refused.
func ReadOnly(t testing.TB, host string) (string, func() int64) {
	t.Helper()
	var refused atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			refused.Add(1)
			http.Error(w, `{"errors":[{"code":"DENIED","message":"read-only"}]}`, http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), refused.Load
}

// Close stops the registry: it then does not answer.
func (r *Registry) Close() { r.srv.Close() }

// Writes counts the requests that write (PUT, POST, PATCH) and starts over.
func (r *Registry) Writes() int64 { return r.puts.Swap(0) }

// Catalog lists the registry's repositories.
func (r *Registry) Catalog(t testing.TB) []string {
	t.Helper()
	reg, err := name.NewRegistry(r.Host)
	require.NoError(t, err)
	repos, err := remote.Catalog(context.Background(), reg)
	require.NoError(t, err)
	return repos
}

// Ref parses repo:tag or repo@digest under the registry.
func (r *Registry) Ref(t testing.TB, ref string) name.Reference {
	t.Helper()
	out, err := name.ParseReference(r.Host + "/" + ref)
	require.NoError(t, err)
	return out
}

// Entry is one index entry: the descriptor says Desc, the image config Config.
type Entry struct{ Desc, Config string }

// Same are entries whose descriptor and config agree.
func Same(platforms ...string) []Entry {
	out := make([]Entry, len(platforms))
	for i, p := range platforms {
		out[i] = Entry{p, p}
	}
	return out
}

// Image is a small random image whose config says platform.
func Image(t testing.TB, platform string) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(platform)
	require.NoError(t, err)
	img, err := random.Image(256, 2)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// Index is an OCI index of one Image per entry.
func Index(t testing.TB, entries []Entry) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, e := range entries {
		desc, err := v1.ParsePlatform(e.Desc)
		require.NoError(t, err)
		adds = append(adds, mutate.IndexAddendum{Add: Image(t, e.Config), Descriptor: v1.Descriptor{Platform: desc}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// Push writes an index of entries to ref ("repo:tag") and returns its digest.
func (r *Registry) Push(t testing.TB, ref string, entries []Entry) v1.Hash {
	t.Helper()
	idx := Index(t, entries)
	require.NoError(t, remote.WriteIndex(r.Ref(t, ref), idx))
	d, err := idx.Digest()
	require.NoError(t, err)
	return d
}

// Digest is what ref names in the registry.
func (r *Registry) Digest(t testing.TB, ref string) (v1.Hash, error) {
	t.Helper()
	d, err := remote.Head(r.Ref(t, ref))
	if err != nil {
		return v1.Hash{}, err
	}
	return d.Digest, nil
}
