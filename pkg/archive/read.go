package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Archive is an archive opened for reading: its members are read in place,
// not extracted, since a bundle's archives may be gigabytes.
type Archive struct {
	Path  string
	f     *os.File
	files map[string]member
}

type member struct{ off, size int64 }

// Open indexes the archive at path (headers only: data is skipped by seeking).
func Open(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a := &Archive{Path: path, f: f, files: map[string]member{}}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = f.Close() // read only
			return nil, fmt.Errorf("%s is not a tar archive: %w", filepath.Base(path), err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		// tar reads headers in whole blocks and nothing ahead: the file's
		// offset is where this member's data starts.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			_ = f.Close() // read only
			return nil, err
		}
		a.files[strings.TrimPrefix(hdr.Name, "./")] = member{off: off, size: hdr.Size}
	}
	return a, nil
}

// Close closes the archive file.
func (a *Archive) Close() error { return a.f.Close() }

func (a *Archive) open(name string) (*io.SectionReader, error) {
	m, ok := a.files[name]
	if !ok {
		return nil, fmt.Errorf("%s has no %s", filepath.Base(a.Path), name)
	}
	return io.NewSectionReader(a.f, m.off, m.size), nil
}

func (a *Archive) read(name string) ([]byte, error) {
	r, err := a.open(name)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

func sha(data []byte) v1.Hash {
	s := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// blob reads a small blob (a manifest or config) and checks its digest.
func (a *Archive) blob(h v1.Hash) ([]byte, error) {
	data, err := a.read(blobName(h))
	if err != nil {
		return nil, err
	}
	if got := sha(data); got != h {
		return nil, fmt.Errorf("%s: blob %s has digest %s", filepath.Base(a.Path), h, got)
	}
	return data, nil
}

// Root is what the archive holds, as the registry should get it: the one
// index (or image) index.json names, or index.json itself when it lists the
// platforms directly.
func (a *Archive) Root() (remote.Taggable, error) {
	raw, err := a.read("index.json")
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI archive: %w", filepath.Base(a.Path), err)
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", filepath.Base(a.Path), err)
	}
	if len(m.Manifests) == 1 && m.Manifests[0].Platform == nil {
		d := m.Manifests[0]
		if d.MediaType.IsIndex() {
			return a.index(d.Digest)
		}
		if d.MediaType.IsImage() {
			return a.image(d.Digest)
		}
	}
	return &tarIndex{a: a, raw: raw}, nil
}

func (a *Archive) index(h v1.Hash) (*tarIndex, error) {
	raw, err := a.blob(h)
	if err != nil {
		return nil, err
	}
	return &tarIndex{a: a, raw: raw}, nil
}

func (a *Archive) image(h v1.Hash) (v1.Image, error) {
	raw, err := a.blob(h)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", h, err)
	}
	return partial.CompressedToImage(&tarImage{a: a, raw: raw, m: m})
}

// tarIndex is an index in an archive.
type tarIndex struct {
	a   *Archive
	raw []byte
}

func (i *tarIndex) MediaType() (types.MediaType, error) {
	m, err := i.IndexManifest()
	if err != nil || m.MediaType == "" {
		return types.OCIImageIndex, err
	}
	return m.MediaType, nil
}
func (i *tarIndex) Digest() (v1.Hash, error) { return sha(i.raw), nil }
func (i *tarIndex) Size() (int64, error)     { return int64(len(i.raw)), nil }
func (i *tarIndex) RawManifest() ([]byte, error) {
	return i.raw, nil
}
func (i *tarIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(i.raw))
}
func (i *tarIndex) Image(h v1.Hash) (v1.Image, error)           { return i.a.image(h) }
func (i *tarIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) { return i.a.index(h) }

// tarImage is an image in an archive, as partial.CompressedImageCore.
type tarImage struct {
	a   *Archive
	raw []byte
	m   *v1.Manifest
}

func (i *tarImage) RawConfigFile() ([]byte, error) { return i.a.blob(i.m.Config.Digest) }
func (i *tarImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType == "" {
		return types.OCIManifestSchema1, nil
	}
	return i.m.MediaType, nil
}
func (i *tarImage) RawManifest() ([]byte, error) { return i.raw, nil }
func (i *tarImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.m.Config.Digest {
		return &tarLayer{a: i.a, d: i.m.Config}, nil
	}
	for _, l := range i.m.Layers {
		if l.Digest == h {
			return &tarLayer{a: i.a, d: l}, nil
		}
	}
	return nil, fmt.Errorf("layer %s is not in manifest", h)
}

// tarLayer is a blob in an archive, read in place.
type tarLayer struct {
	a *Archive
	d v1.Descriptor
}

func (l *tarLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l *tarLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l *tarLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }
func (l *tarLayer) Compressed() (io.ReadCloser, error) {
	r, err := l.a.open(blobName(l.d.Digest))
	if err != nil {
		return nil, err
	}
	return io.NopCloser(r), nil
}

// Complete checks that every blob root reaches is in the archive with the
// size its descriptor gives, so a push cannot stop half-way for a missing one.
func (a *Archive) Complete(root remote.Taggable) error {
	switch r := root.(type) {
	case v1.ImageIndex:
		m, err := r.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range m.Manifests {
			var child remote.Taggable
			if d.MediaType.IsIndex() {
				child, err = r.ImageIndex(d.Digest)
			} else {
				child, err = r.Image(d.Digest)
			}
			if err == nil {
				err = a.Complete(child)
			}
			if err != nil {
				return err
			}
		}
		return nil
	case v1.Image:
		m, err := r.Manifest()
		if err != nil {
			return err
		}
		for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			got, ok := a.files[blobName(d.Digest)]
			if !ok {
				return fmt.Errorf("%s has no blob %s", filepath.Base(a.Path), d.Digest)
			}
			if got.size != d.Size {
				return fmt.Errorf("%s: blob %s is %d bytes, its descriptor says %d", filepath.Base(a.Path), d.Digest, got.size, d.Size)
			}
		}
		return nil
	}
	return fmt.Errorf("%T is neither an index nor an image", root)
}

// Platforms are the os/arch of each of root's entries, in order: the
// descriptor's platform, or for an entry without one (the engine writes a
// single variant so) and for a single image, its image config's.
func Platforms(root remote.Taggable) ([]string, error) {
	if img, ok := root.(v1.Image); ok {
		p, err := configPlatform(img)
		if err != nil {
			return nil, err
		}
		return []string{p}, nil
	}
	idx, ok := root.(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("%T is neither an index nor an image", root)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range m.Manifests {
		if d.Platform != nil {
			out = append(out, d.Platform.OS+"/"+d.Platform.Architecture)
			continue
		}
		img, err := idx.Image(d.Digest)
		var p string
		if err == nil {
			p, err = configPlatform(img)
		}
		if err != nil {
			return nil, fmt.Errorf("entry %s has no platform and no readable image config: %w", d.Digest, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func configPlatform(img v1.Image) (string, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	if cf.OS == "" {
		return "", fmt.Errorf("the image config names no os")
	}
	return cf.OS + "/" + cf.Architecture, nil
}
