package component

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// DefaultMaxContext is the largest build context a component may send to
// the engine: beyond it a run is refused before any upload starts.
const DefaultMaxContext int64 = 1 << 30

// ContextSize sums the regular files of c's folder of fsys (the components
// directory) that .dockerignore does not exclude.
func ContextSize(fsys fs.FS, c Spec) (int64, error) {
	sub, err := fs.Sub(fsys, c.Name)
	if err != nil {
		return 0, err
	}
	ignore := dockerignore(sub)
	var total int64
	err = fs.WalkDir(sub, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel != "." && ignored(ignore, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// CheckContext refuses a component whose build context exceeds limit.
func CheckContext(fsys fs.FS, c Spec, limit int64) error {
	if limit <= 0 {
		limit = DefaultMaxContext
	}
	n, err := ContextSize(fsys, c)
	if err != nil {
		return &Error{File: c.Dir, Problem: fmt.Sprintf("reading the build context: %v", err)}
	}
	if n > limit {
		return &Error{File: c.Dir, Problem: fmt.Sprintf("build context is %.1f MB, over the %.1f MB limit", float64(n)/1e6, float64(limit)/1e6),
			Fix: "exclude large files with a .dockerignore or raise --max-context"}
	}
	return nil
}

func dockerignore(fsys fs.FS) []string {
	data, err := fs.ReadFile(fsys, ".dockerignore")
	if err != nil {
		return nil
	}
	return IgnorePatterns(data)
}

// IgnorePatterns are the exclusions of a .dockerignore's content data, as
// the context size check and a cell's key both read them.
func IgnorePatterns(data []byte) []string {
	var out []string
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "!") {
			out = append(out, strings.TrimPrefix(strings.TrimSuffix(line, "/"), "/"))
		}
	}
	return out
}

// ignored matches rel against .dockerignore patterns (globs on the whole
// path or on any leading directory).
func ignored(patterns []string, rel string) bool {
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, rel); ok {
			return true
		}
		if ok, _ := filepath.Match(p, filepath.Base(rel)); ok && !strings.Contains(p, "/") {
			return true
		}
	}
	return false
}
