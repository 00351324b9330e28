package world

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is the fixed mtime of every entry we write, so the same inputs give
// the same layer digest.
var epoch = time.Unix(0, 0)

// LayerFile makes an OCI layer from an existing tarball (a mmdebstrap rootfs).
func LayerFile(path string) (v1.Layer, error) {
	l, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("reading layer %s: %w", path, err)
	}
	return l, nil
}

// TarWriter writes a deterministic tarball to a file; Layer turns it into an OCI layer.
type TarWriter struct {
	f  *os.File
	tw *tar.Writer
}

// NewTar starts a tarball in a temporary file under dir.
func NewTar(dir string) (*TarWriter, error) {
	f, err := os.CreateTemp(dir, "layer-*.tar")
	if err != nil {
		return nil, err
	}
	return &TarWriter{f: f, tw: tar.NewWriter(f)}, nil
}

// Dir adds a directory entry.
func (t *TarWriter) Dir(name string) error {
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: epoch})
}

// File adds the regular file src as name with the given mode.
func (t *TarWriter) File(name, src string, mode int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: st.Size(), ModTime: epoch}); err != nil {
		return err
	}
	_, err = io.Copy(t.tw, in)
	return err
}

// Tree adds the directory src under prefix; mode picks each file's mode from
// its slash-separated path relative to src.
func (t *TarWriter) Tree(src, prefix string, mode func(rel string) int64) error {
	if err := t.Dir(prefix); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := path.Join(prefix, rel)
		switch {
		case d.IsDir():
			return t.Dir(name)
		case d.Type().IsRegular():
			return t.File(name, p, mode(rel))
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: epoch})
		}
		return nil
	})
}

// Layer closes the tarball and returns it as an OCI layer.
func (t *TarWriter) Layer() (v1.Layer, error) {
	if err := t.tw.Close(); err != nil {
		return nil, err
	}
	if err := t.f.Close(); err != nil {
		return nil, err
	}
	return LayerFile(t.f.Name())
}
