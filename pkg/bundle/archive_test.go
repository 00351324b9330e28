package bundle_test

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
)

// tarLayout writes the layout directory src as the archive path, "./"
// prefixed as some tools write it.
func tarLayout(t *testing.T, src, path string) {
	f, err := os.Create(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	tw := tar.NewWriter(f)
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = "./" + filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil || info.IsDir() {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer func() { _ = in.Close() }()
		_, err = io.Copy(tw, in)
		return err
	}))
	require.NoError(t, tw.Close())
}

// TestBundleComponentArchiveShapes: the archive shapes the engine writes for
// components are read by the same reader, described and imported.
func TestBundleComponentArchiveShapes(t *testing.T) {
	idx := mirrortest.Index(t, mirrortest.Same(both...))
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	arm, err := idx.Image(m.Manifests[1].Digest)
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		write     func(p layout.Path) error
		platforms []string
	}{
		{"an index nested one level", func(p layout.Path) error { return p.AppendIndex(idx) }, both},
		{"a single image", func(p layout.Path) error { return p.AppendImage(arm) }, []string{"linux/arm64"}},
		{"platforms listed in index.json", func(p layout.Path) error {
			for _, d := range m.Manifests {
				img, err := idx.Image(d.Digest)
				if err != nil {
					return err
				}
				if err := p.AppendImage(img, layout.WithPlatform(*d.Platform)); err != nil {
					return err
				}
			}
			return nil
		}, both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			p, err := layout.Write(src, empty.Index)
			require.NoError(t, err)
			require.NoError(t, tc.write(p))
			dir := t.TempDir()
			tarLayout(t, src, filepath.Join(dir, "ai-infra-base_v1.oci.tar"))
			sum, err := export.Check(filepath.Join(dir, "ai-infra-base_v1.oci.tar"), tc.platforms)
			require.NoError(t, err, "pkg/export reads it too")
			e, err := bundle.Describe(dir, bundle.Entry{File: "ai-infra-base_v1.oci.tar", Kind: bundle.KindComponent, Name: "base",
				Repository: "ai-infra-base", Platforms: tc.platforms, Tags: []string{"v1"}, SHA256: sum})
			require.NoError(t, err)
			require.NoError(t, bundle.Write(dir, []bundle.Entry{e}))

			dst := mirrortest.New(t)
			res, err := bundle.Import(context.Background(), bundle.Dir{Path: dir}, target(dst))
			require.NoError(t, err)
			require.Len(t, res.Indexes, 1)
			got, err := dst.Digest(t, "ai-infra/ai-infra-base:v1")
			require.NoError(t, err)
			assert.Equal(t, e.Digest, got.String())
			for _, pd := range e.PlatformDigests {
				_, err := v1.NewHash(pd.Digest)
				assert.NoError(t, err)
			}
		})
	}
}
