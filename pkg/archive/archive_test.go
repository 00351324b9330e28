package archive_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
)

func blob(t *testing.T, v any) (v1.Hash, []byte) {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	h, _, err := v1.SHA256(bytes.NewReader(b))
	require.NoError(t, err)
	return h, b
}

// tarOf writes files (name to content) as the archive path.
func tarOf(t *testing.T, path string, files map[string][]byte) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, data := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644}))
		_, err := tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func TestArchivePlatforms(t *testing.T) {
	cfgHash, cfg := blob(t, v1.ConfigFile{OS: "linux", Architecture: "arm64"})
	manHash, man := blob(t, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: v1.Descriptor{Digest: cfgHash}})
	two := v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{
		{Digest: manHash, MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
		{Digest: manHash, MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}},
	}}
	innerHash, inner := blob(t, two)
	blobs := map[string][]byte{"blobs/sha256/" + cfgHash.Hex: cfg, "blobs/sha256/" + manHash.Hex: man, "blobs/sha256/" + innerHash.Hex: inner}
	for _, tc := range []struct {
		name  string
		index v1.IndexManifest
		want  []string
		err   string
	}{
		{"platforms in the index", two, []string{"linux/amd64", "linux/arm64"}, ""},
		{"index nested one level", v1.IndexManifest{Manifests: []v1.Descriptor{{Digest: innerHash, MediaType: types.OCIImageIndex}}}, []string{"linux/amd64", "linux/arm64"}, ""},
		{"single image: platform from its config", v1.IndexManifest{Manifests: []v1.Descriptor{{Digest: manHash, MediaType: types.OCIManifestSchema1}}}, []string{"linux/arm64"}, ""},
		{"no platform, no manifest", v1.IndexManifest{Manifests: []v1.Descriptor{{Digest: cfgHash}}}, nil, "has no platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, idx := blob(t, tc.index)
			files := map[string][]byte{"index.json": idx}
			for k, v := range blobs {
				files["./"+k] = v // "./" as some tools write it
			}
			path := filepath.Join(t.TempDir(), "a.oci.tar")
			tarOf(t, path, files)
			a, err := archive.Open(path)
			require.NoError(t, err)
			defer a.Close()
			root, err := a.Root()
			require.NoError(t, err)
			got, err := archive.Platforms(root)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestWrite: an index written and read back is the same index, complete,
// and the same index gives the same bytes.
func TestWrite(t *testing.T) {
	idx := mirrortest.Index(t, mirrortest.Same("linux/amd64", "linux/arm64"))
	want, err := idx.Digest()
	require.NoError(t, err)
	dir := t.TempDir()
	sums := make([]string, 2)
	for i := range sums {
		path := filepath.Join(dir, []string{"a.oci.tar", "b.oci.tar"}[i])
		sums[i], err = archive.Write(path, idx)
		require.NoError(t, err)
		got, err := archive.Sum(path)
		require.NoError(t, err)
		assert.Equal(t, sums[i], got, "Write returns the file's sha256")
	}
	assert.Equal(t, sums[0], sums[1], "the same index gives the same bytes")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, left, 2, "no layout directory or partial file is left")

	a, err := archive.Open(filepath.Join(dir, "a.oci.tar"))
	require.NoError(t, err)
	defer a.Close()
	root, err := a.Root()
	require.NoError(t, err)
	got, err := root.(v1.ImageIndex).Digest()
	require.NoError(t, err)
	assert.Equal(t, want, got, "the root is the index, unchanged")
	assert.NoError(t, a.Complete(root))
	platforms, err := archive.Platforms(root)
	require.NoError(t, err)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, platforms)

	hdrs := headers(t, filepath.Join(dir, "a.oci.tar"))
	for _, h := range hdrs {
		assert.Zero(t, h.ModTime.Unix(), h.Name)
		assert.Zero(t, h.Uid+h.Gid, h.Name)
	}
	assert.Contains(t, names(hdrs), "index.json")
	assert.Contains(t, names(hdrs), "oci-layout")
}

func headers(t *testing.T, path string) []*tar.Header {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	var out []*tar.Header
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		out = append(out, h)
	}
	return out
}

func names(hdrs []*tar.Header) []string {
	var out []string
	for _, h := range hdrs {
		out = append(out, h.Name)
	}
	return out
}
