package archive

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"
)

// Epoch is the time of every entry Tar writes, and of anything else this
// project makes that must give the same digest from the same inputs.
var Epoch = time.Unix(0, 0)

// Tar writes a tar whose entries carry no time or owner of their own and
// only the modes given, so the same tree gives the same bytes: the OCI
// archives here, and the world's image layers (pkg/world).
type Tar struct{ tw *tar.Writer }

// NewTar starts a tar on w; Close ends it.
func NewTar(w io.Writer) *Tar { return &Tar{tw: tar.NewWriter(w)} }

// Dir adds a directory entry (0755).
func (t *Tar) Dir(name string) error { return t.DirMode(name, 0o755) }

// DirMode adds a directory entry with mode, such as 01777 for tmp.
func (t *Tar) DirMode(name string, mode int64) error {
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: Epoch})
}

// File adds the regular file src as name with mode.
func (t *Tar) File(name, src string, mode int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read only
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: st.Size(), ModTime: Epoch}); err != nil {
		return err
	}
	_, err = io.Copy(t.tw, in)
	return err
}

// Tree adds the directory src under prefix (with an entry for prefix
// itself, unless it is ""), in name order; mode picks each file's mode from
// its slash-separated path relative to src.
func (t *Tar) Tree(src, prefix string, mode func(rel string) int64) error {
	if prefix != "" {
		if err := t.Dir(prefix); err != nil {
			return err
		}
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
			return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: Epoch})
		}
		return nil
	})
}

// Close ends the tar (not w).
func (t *Tar) Close() error { return t.tw.Close() }
