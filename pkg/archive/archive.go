// Package archive reads and writes OCI archives: a tar of an OCI image
// layout whose index.json names one root, a multi-platform index (or, from
// the engine, a single image, or the platforms themselves). Export checks
// the engine's archives and the bundle reads every archive with one reader.
package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Write writes idx, unchanged, as an archive at path: go-containerregistry's
// layout names idx in index.json and holds every manifest, config and layer
// it reaches as a blob; the tar of it has its entries in name order and no
// time, owner or mode of their own, so the same index gives the same bytes.
// The file appears only complete; Write returns its sha256.
func Write(path string, idx v1.ImageIndex) (string, error) {
	dir := path + ".layout" // beside path: the same disk, which has room for it
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err == nil {
		err = p.AppendIndex(idx)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	tmp := path + ".partial"
	defer os.Remove(tmp)
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = tarDir(io.MultiWriter(f, h), dir)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), os.Rename(tmp, path)
}

// tarDir writes the tree under dir as a tar, in name order, every file 0644.
func tarDir(w io.Writer, dir string) error {
	t := NewTar(w)
	if err := t.Tree(dir, "", func(string) int64 { return 0o644 }); err != nil {
		return err
	}
	return t.Close()
}

// Sum is the sha256 of the file at path, as SHA256SUMS lists it.
func Sum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read only
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
