package component

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"dagger.io/dagger"
	"github.com/sourcegraph/conc/pool"
)

// EngineFS is a directory of the engine as an fs.FS, so the module reads the
// specs where they already are instead of exporting the tree first. It is
// read on first use (options are checked before that): one Glob lists every
// path, and sizes come in parallel, as the context check needs them.
func EngineFS(ctx context.Context, d *dagger.Directory) fs.FS {
	return &engineFS{ctx: ctx, d: d, read: map[string][]byte{}}
}

// load lists d once.
func (e *engineFS) load() error {
	e.once.Do(func() { e.err = e.list() })
	return e.err
}

func (e *engineFS) list() error {
	ctx, d := e.ctx, e.d
	paths, err := d.Glob(ctx, "**")
	if err != nil {
		return fmt.Errorf("listing the directory in the engine: %w", err)
	}
	e.dirs, e.sizes, e.links = map[string][]string{".": nil}, map[string]int64{}, map[string]bool{}
	var files []string
	for _, p := range paths {
		name, isDir := strings.CutSuffix(p, "/")
		if isDir {
			e.dirs[name] = nil
		} else {
			files = append(files, name)
		}
		e.dirs[path.Dir(name)] = append(e.dirs[path.Dir(name)], path.Base(p))
	}
	var mu sync.Mutex
	wg := pool.New().WithMaxGoroutines(16)
	for _, f := range files {
		wg.Go(func() {
			n, err := d.File(f).Size(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// Listed but unreadable: a link pointing nowhere inside.
				e.links[f] = true
			}
			e.sizes[f] = int64(n)
		})
	}
	wg.Wait()
	return ctx.Err()
}

type engineFS struct {
	ctx   context.Context
	d     *dagger.Directory
	once  sync.Once
	err   error
	dirs  map[string][]string // directory → entries, a trailing / marking directories
	sizes map[string]int64    // file → size
	links map[string]bool     // files that are links leading nowhere inside
	mu    sync.Mutex
	read  map[string][]byte // contents read so far
}

func (e *engineFS) info(op, name string) (*info, error) {
	if err := e.load(); err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if _, ok := e.dirs[name]; ok {
		return &info{name: path.Base(name), mode: fs.ModeDir | 0o755}, nil
	}
	if n, ok := e.sizes[name]; ok {
		if e.links[name] {
			return &info{name: path.Base(name), mode: fs.ModeSymlink | 0o777}, nil
		}
		return &info{name: path.Base(name), size: n, mode: 0o644}, nil
	}
	return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ENOENT}
}

func (e *engineFS) Open(name string) (fs.File, error) {
	fi, err := e.info("open", name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &dir{info: fi}, nil
	}
	data, err := e.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &file{info: fi, Reader: bytes.NewReader(data)}, nil
}

func (e *engineFS) Stat(name string) (fs.FileInfo, error) { return e.info("stat", name) }

func (e *engineFS) ReadFile(name string) ([]byte, error) {
	if _, err := e.info("read", name); err != nil {
		return nil, err
	}
	e.mu.Lock()
	data, ok := e.read[name]
	e.mu.Unlock()
	if ok { // a Dockerfile is read to decode, lint and check it
		return data, nil
	}
	s, err := e.d.File(name).Contents(e.ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	e.mu.Lock()
	e.read[name] = []byte(s)
	e.mu.Unlock()
	return []byte(s), nil
}

func (e *engineFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if _, err := e.info("readdir", name); err != nil {
		return nil, err
	}
	names := slices.Clone(e.dirs[name])
	slices.Sort(names)
	out := make([]fs.DirEntry, 0, len(names))
	for _, n := range names {
		fi, err := e.info("readdir", path.Join(name, strings.TrimSuffix(n, "/")))
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	return out, nil
}

// Lstat tells a symlink from what it points to (fs.Lstat uses it).
func (e *engineFS) Lstat(name string) (fs.FileInfo, error) {
	fi, err := e.info("lstat", name)
	if err != nil || name == "." || !fi.Mode().IsRegular() {
		return fi, err
	}
	t, err := e.d.Stat(name, dagger.DirectoryStatOpts{DoNotFollowSymlinks: true}).FileType(e.ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	if t == dagger.FileTypeSymlink {
		fi.mode = fs.ModeSymlink | 0o777
	}
	return fi, nil
}

// ReadLink completes fs.ReadLinkFS; the engine API does not say where a link points.
func (e *engineFS) ReadLink(name string) (string, error) {
	return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
}

type info struct {
	name string
	size int64
	mode fs.FileMode
}

func (i *info) Name() string       { return i.name }
func (i *info) Size() int64        { return i.size }
func (i *info) Mode() fs.FileMode  { return i.mode }
func (i *info) ModTime() time.Time { return time.Time{} }
func (i *info) IsDir() bool        { return i.mode.IsDir() }
func (i *info) Sys() any           { return nil }

type file struct {
	*info
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

type dir struct{ *info }

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Read([]byte) (int, error)   { return 0, io.EOF }
func (d *dir) Close() error               { return nil }
