package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// An archive is a tar of an OCI image layout whose index.json names one
// root: a multi-platform index (or, from the engine, a single image). It is
// the format pkg/export writes for components, so one reader serves both.

// WriteArchive writes idx, unchanged, as an archive at path: index.json
// names idx as the root, and every manifest, config and layer it reaches is
// a blob. The file appears only complete; it returns its sha256.
func WriteArchive(path string, idx v1.ImageIndex) (string, error) {
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	h := sha256.New()
	w := &layoutWriter{tw: tar.NewWriter(io.MultiWriter(f, h)), seen: map[v1.Hash]bool{}}
	err = w.archive(idx)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), os.Rename(tmp, path)
}

type layoutWriter struct {
	tw   *tar.Writer
	seen map[v1.Hash]bool
}

var epoch = time.Unix(0, 0)

func (w *layoutWriter) archive(idx v1.ImageIndex) error {
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	mt, err := idx.MediaType()
	if err != nil {
		return err
	}
	root, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: mt, Size: int64(len(raw)), Digest: sha(raw)},
	}})
	if err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", root}} {
		if err := w.file(e.name, int64(len(e.data)), bytes.NewReader(e.data)); err != nil {
			return err
		}
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	if err := w.index(idx, raw); err != nil {
		return err
	}
	return w.tw.Close()
}

// index writes idx's manifest (raw) and everything its entries reach.
func (w *layoutWriter) index(idx v1.ImageIndex, raw []byte) error {
	if err := w.blobBytes(raw); err != nil {
		return err
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			craw, err := child.RawManifest()
			if err != nil {
				return err
			}
			if err := w.index(child, craw); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			if err := w.image(img); err != nil {
				return fmt.Errorf("%s: %w", d.Digest, err)
			}
		default:
			return fmt.Errorf("entry %s has media type %q, neither an image nor an index", d.Digest, d.MediaType)
		}
	}
	return nil
}

func (w *layoutWriter) image(img v1.Image) error {
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if err := w.blobBytes(raw); err != nil {
		return err
	}
	if err := w.blobBytes(cfg); err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	for _, l := range m.Layers {
		if w.seen[l.Digest] {
			continue
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return err
		}
		err = w.blob(l.Digest, l.Size, rc) // the registry's reader checks the digest at EOF
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
	}
	return nil
}

func (w *layoutWriter) blobBytes(data []byte) error {
	return w.blob(sha(data), int64(len(data)), bytes.NewReader(data))
}

func (w *layoutWriter) blob(h v1.Hash, size int64, r io.Reader) error {
	if w.seen[h] {
		return nil
	}
	w.seen[h] = true
	return w.file("blobs/"+h.Algorithm+"/"+h.Hex, size, r)
}

func (w *layoutWriter) file(name string, size int64, r io.Reader) error {
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch}); err != nil {
		return err
	}
	n, err := io.Copy(w.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s: %d bytes, want %d", name, n, size)
	}
	return err
}

func sha(data []byte) v1.Hash {
	s := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// Archive is an archive opened for reading: its members are read in place.
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
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s is not a tar archive: %w", filepath.Base(path), err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		// tar reads headers in whole blocks and nothing ahead: the file's
		// offset is where this member's data starts.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			f.Close()
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

// complete checks that every blob root reaches is in the archive with the
// size its descriptor gives, so a push cannot stop half-way for a missing one.
func (a *Archive) complete(root remote.Taggable) error {
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
				err = a.complete(child)
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
