package adopt

import (
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing/fstest"
)

// Overlay is the tree fsys with files written into it, as it will be once
// they are: the plan of what init writes is read from it, before or without
// writing (the module returns the files as a directory).
func Overlay(fsys fs.FS, files []File) fs.FS {
	o := overlay{base: fsys, files: fstest.MapFS{}}
	for _, f := range files {
		o.files[f.Path] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
	}
	return o
}

type overlay struct {
	base  fs.FS
	files fstest.MapFS
}

func (o overlay) Open(name string) (fs.File, error) {
	if _, ok := o.files[name]; ok {
		return o.files.Open(name)
	}
	f, err := o.base.Open(name)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || !info.IsDir() {
		return f, nil
	}
	entries, err := o.ReadDir(name)
	if err != nil {
		_ = f.Close() // the read error is the one to report
		return nil, err
	}
	return &dir{File: f, entries: entries}, nil
}

// dir is a directory of the base, listing the files written into it too.
type dir struct {
	fs.File
	entries []fs.DirEntry
}

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

func (o overlay) Stat(name string) (fs.FileInfo, error) {
	if _, ok := o.files[name]; ok {
		return fs.Stat(o.files, name)
	}
	return fs.Stat(o.base, name)
}

// Lstat and ReadLink keep the base's links visible (a Dockerfile that is a
// link is refused).
func (o overlay) Lstat(name string) (fs.FileInfo, error) {
	if _, ok := o.files[name]; ok {
		return fs.Stat(o.files, name)
	}
	return fs.Lstat(o.base, name)
}

func (o overlay) ReadLink(name string) (string, error) {
	if _, ok := o.files[name]; ok {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return fs.ReadLink(o.base, name)
}

func (o overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(o.base, name)
	if err != nil {
		return nil, err
	}
	for p := range o.files {
		if path.Dir(p) != name {
			continue
		}
		info, err := fs.Stat(o.files, p)
		if err != nil {
			return nil, err
		}
		entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() == info.Name() })
		entries = append(entries, fs.FileInfoToDirEntry(info))
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}
