package bundle_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
)

var both = []string{"linux/amd64", "linux/arm64"}

func target(reg *mirrortest.Registry, tags ...string) registry.Client {
	return registry.Client{Registry: reg.Host + "/ai-infra", Tags: tags, Retry: registry.Retry{Attempts: 1}}
}

// source is an upstream registry with three third-party images and their list.
type source struct {
	reg     *mirrortest.Registry
	list    *mirror.List
	digests map[string]v1.Hash // by target repository
}

func newSource(t *testing.T) source {
	s := source{reg: mirrortest.New(t), list: &mirror.List{File: "third-party.yaml"}, digests: map[string]v1.Hash{}}
	for _, u := range []struct {
		name, ref, target string
		entries           []mirrortest.Entry
		platforms         []string
	}{
		{"postgres", "library/postgres:15-alpine", "postgres", mirrortest.Same(both...), nil},
		{"redis", "library/redis:7-alpine", "redis", mirrortest.Same("linux/amd64", "linux/arm64", "linux/s390x"), nil},
		{"phpldapadmin", "osixia/phpldapadmin:0.9.0", "osixia/phpldapadmin", mirrortest.Same("linux/amd64"), []string{"linux/amd64"}},
	} {
		s.digests[u.target] = s.reg.Push(t, u.ref, u.entries)
		s.list.Images = append(s.list.Images, mirror.Image{Name: u.name, Source: s.reg.Host + "/" + u.ref, Target: u.target, Platforms: u.platforms})
	}
	return s
}

// writeBundle writes the source's images as a bundle and returns its directory.
func writeBundle(t *testing.T, s source) (string, []bundle.Entry) {
	dir := t.TempDir()
	entries, err := bundle.WriteThirdParty(context.Background(), s.list, both, dir)
	require.NoError(t, err)
	require.NoError(t, bundle.Write(dir, entries))
	return dir, entries
}

func TestBundleThirdPartyImport(t *testing.T) {
	s := newSource(t)
	dir, entries := writeBundle(t, s)
	require.Len(t, entries, 3)
	for _, e := range entries {
		assert.Equal(t, bundle.KindThirdParty, e.Kind)
		assert.Equal(t, s.digests[e.Repository].String(), e.Digest, "%s: the archive holds the upstream index", e.File)
		assert.Contains(t, e.Source, "@"+e.Digest)
		assert.Len(t, e.PlatformDigests, len(e.Platforms))
	}
	assert.Equal(t, "postgres_15-alpine.oci.tar", entries[0].File)
	assert.Equal(t, []string{"linux/amd64"}, entries[2].Platforms)
	assert.Equal(t, []string{"0.9.0"}, entries[2].Tags)

	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", bundle.SumsFile)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	_, err := export.Check(filepath.Join(dir, entries[0].File), both)
	require.NoError(t, err, "pkg/export reads the third-party archive too")
	m, err := bundle.Verify(bundle.Dir{Path: dir})
	require.NoError(t, err)
	assert.Equal(t, entries, m.Archives)

	// The same reader takes a layout ggcr writes.
	p, err := layout.Write(t.TempDir(), empty.Index)
	require.NoError(t, err)
	a, err := archive.Open(filepath.Join(dir, entries[0].File))
	require.NoError(t, err)
	defer a.Close()
	root, err := a.Root()
	require.NoError(t, err)
	require.NoError(t, p.AppendIndex(root.(v1.ImageIndex)))

	dst := mirrortest.New(t)
	res, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst, "v1.0.0"))
	require.NoError(t, err)
	require.Len(t, res.Indexes, 3)
	assert.Len(t, res.Written, 3+3*2, "three indexes, each with its own tag and v1.0.0")
	assert.Empty(t, res.Present)
	for _, e := range entries {
		for _, tag := range append(e.Tags, "v1.0.0") {
			got, err := dst.Digest(t, "ai-infra/"+e.Repository+":"+tag)
			require.NoError(t, err)
			assert.Equal(t, s.digests[e.Repository], got, "%s:%s is identical by digest to the source", e.Repository, tag)
		}
		for _, pd := range e.PlatformDigests {
			_, err := dst.Digest(t, "ai-infra/"+e.Repository+"@"+pd.Digest)
			assert.NoError(t, err, "%s %s is there", e.Repository, pd.Platform)
		}
	}
	idx, err := remote.Index(dst.Ref(t, "ai-infra/redis:7-alpine"))
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	assert.Len(t, im.Manifests, 3, "the upstream index is kept whole, s390x too")
}

func TestBundleImportTwiceWritesNothing(t *testing.T) {
	dir, _ := writeBundle(t, newSource(t))
	dst := mirrortest.New(t)
	first, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst))
	require.NoError(t, err)
	assert.NotZero(t, dst.Writes())
	second, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst))
	require.NoError(t, err)
	assert.Zero(t, dst.Writes(), "the second import sends no PUT, POST or PATCH")
	assert.Empty(t, second.Written)
	want := append(append([]string(nil), first.Written...), first.Present...)
	got := append([]string(nil), second.Present...)
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got, "what the first wrote, the second finds there")
	assert.Equal(t, first.Indexes, second.Indexes)
}

func TestBundleImportRefuses(t *testing.T) {
	s := newSource(t)
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir string, entries []bundle.Entry)
		want  []string
	}{
		{"one byte flipped in an archive", func(t *testing.T, dir string, e []bundle.Entry) {
			path := filepath.Join(dir, e[1].File)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[len(b)/2] ^= 1
			require.NoError(t, os.WriteFile(path, b, 0o644))
		}, []string{"redis_7-alpine.oci.tar", "is corrupt", "SHA256SUMS says"}},
		{"an extra file", func(t *testing.T, dir string, _ []bundle.Entry) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi\n"), 0o644))
		}, []string{"notes.txt", "is not listed in SHA256SUMS"}},
		{"a missing file", func(t *testing.T, dir string, e []bundle.Entry) {
			require.NoError(t, os.Remove(filepath.Join(dir, e[0].File)))
		}, []string{"postgres_15-alpine.oci.tar", "is missing (listed in SHA256SUMS)"}},
		{"no SHA256SUMS", func(t *testing.T, dir string, _ []bundle.Entry) {
			require.NoError(t, os.Remove(filepath.Join(dir, bundle.SumsFile)))
		}, []string{"SHA256SUMS", "cannot be read"}},
		{"bundle.json edited", func(t *testing.T, dir string, e []bundle.Entry) {
			e[0].Tags = []string{"edited"}
			b, err := json.Marshal(bundle.Manifest{Version: bundle.ManifestVersion, Archives: e})
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, bundle.ManifestFile), b, 0o644))
		}, []string{"bundle.json", "is corrupt"}},
		{"bundle.json and SHA256SUMS agree, the archive does not", func(t *testing.T, dir string, e []bundle.Entry) {
			e[0].PlatformDigests[0].Digest = e[0].PlatformDigests[1].Digest
			require.NoError(t, bundle.Write(dir, e))
		}, []string{"postgres_15-alpine.oci.tar", "holds platforms"}},
		{"an archive listed in SHA256SUMS only", func(t *testing.T, dir string, e []bundle.Entry) {
			require.NoError(t, bundle.Write(dir, e[1:])) // postgres stays, unlisted
		}, []string{"postgres_15-alpine.oci.tar", "is not listed in SHA256SUMS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, entries := writeBundle(t, s)
			tc.spoil(t, dir, entries)
			dst := mirrortest.New(t)
			_, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst, "v1"))
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err), "%v is a bad bundle", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, dst.Catalog(t), "nothing was pushed")
			assert.Zero(t, dst.Writes())
		})
	}
}

func TestBundleImportUnreachable(t *testing.T) {
	dir, _ := writeBundle(t, newSource(t))
	dst := mirrortest.New(t)
	dst.Close()
	tgt := target(dst)
	tgt.Auth = registry.Auth{Username: "u", Password: "hunter2"}
	_, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, tgt)
	require.Error(t, err)
	assert.Equal(t, class.Unreachable, class.Of(err), "%v", err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestBundleThirdPartyMissingPlatform(t *testing.T) {
	s := newSource(t)
	s.list.Images[2].Platforms = nil // phpldapadmin is amd64 only upstream
	dir := t.TempDir()
	_, err := bundle.WriteThirdParty(context.Background(), s.list, both, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "phpldapadmin linux/arm64 failed at platform")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "no archive is left behind")
}

func TestBundleImportPushFails(t *testing.T) {
	dir, entries := writeBundle(t, newSource(t))
	dst := mirrortest.New(t)
	dst.Refuse("ai-infra/redis")
	_, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst, "v1"))
	require.Error(t, err)
	assert.Equal(t, class.Failed, class.Of(err), "a failed push: %v", err)
	assert.Contains(t, err.Error(), "no final tag was changed")
	for _, e := range entries {
		for _, tag := range append(e.Tags, "v1") {
			_, err := dst.Digest(t, "ai-infra/"+e.Repository+":"+tag)
			assert.Error(t, err, "%s:%s did not move", e.Repository, tag)
		}
	}
}

// TestBundleWrittenBefore: a bundle as matrix wrote it before archives were
// written with go-containerregistry's layout (testdata/v1, its hand-written
// tar) still checks out and imports.
func TestBundleWrittenBefore(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/v1")))
	m, err := bundle.Verify(bundle.Dir{Path: dir})
	require.NoError(t, err)
	require.Len(t, m.Archives, 1)
	e := m.Archives[0]
	_, err = export.Check(filepath.Join(dir, e.File), both)
	require.NoError(t, err, "the one reader takes it")

	dst := mirrortest.New(t)
	res, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst, "v1"))
	require.NoError(t, err)
	require.Len(t, res.Indexes, 1)
	for _, tag := range []string{"15-alpine", "v1"} {
		got, err := dst.Digest(t, "ai-infra/postgres:"+tag)
		require.NoError(t, err)
		assert.Equal(t, e.Digest, got.String(), "postgres:%s is the index the bundle holds", tag)
	}
	for _, pd := range e.PlatformDigests {
		_, err := dst.Digest(t, "ai-infra/postgres@"+pd.Digest)
		assert.NoError(t, err, "%s is there", pd.Platform)
	}
}
