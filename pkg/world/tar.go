package world

import (
	"compress/gzip"
	"fmt"
	"os"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LayerFile makes an OCI layer from an existing tarball (a mmdebstrap rootfs).
func LayerFile(path string) (v1.Layer, error) {
	l, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("reading layer %s: %w", path, err)
	}
	return l, nil
}

// TarWriter writes a deterministic tarball (archive.Tar) to a file; Layer
// turns it into an OCI layer.
type TarWriter struct {
	*archive.Tar
	f *os.File
}

// NewTar starts a tarball in a temporary file under dir.
func NewTar(dir string) (*TarWriter, error) {
	f, err := os.CreateTemp(dir, "layer-*.tar")
	if err != nil {
		return nil, err
	}
	return &TarWriter{Tar: archive.NewTar(f), f: f}, nil
}

// Layer closes the tarball and returns it as an OCI layer.
func (t *TarWriter) Layer() (v1.Layer, error) {
	if err := t.Close(); err != nil {
		return nil, err
	}
	if err := t.f.Close(); err != nil {
		return nil, err
	}
	return LayerFile(t.f.Name())
}
