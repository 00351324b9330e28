package component

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/ai-infra-matrix/matrix/pkg/lint"
)

// DefaultMaxContext is the largest build context a cell may have after its
// .dockerignore: beyond it a run is refused before any upload starts.
const DefaultMaxContext int64 = 1 << 30

// entry is one path of the upload, relative to it.
type entry struct {
	path string
	size int64 // of a regular file; 0 for a directory or a link
	dir  bool
}

// listing walks the upload once.
func (s *Set) listing() ([]entry, error) {
	if s.files != nil {
		return s.files, nil
	}
	fsys, err := s.tree.Sub(s.Upload)
	if err != nil {
		return nil, err
	}
	files := []entry{}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		e := entry{path: p, dir: d.IsDir()}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			e.size = info.Size()
		}
		files = append(files, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.tree.Name(s.Upload), err)
	}
	s.files = files
	return files, nil
}

// UploadBytes is the size of the upload: every regular file of Upload,
// sent once per engine.
func (s *Set) UploadBytes() (int64, error) {
	files, err := s.listing()
	var n int64
	for _, e := range files {
		n += e.size
	}
	return n, err
}

// ignoreFile reads the .dockerignore that applies to c's context, picked as
// BuildKit and Dagger pick it: <Dockerfile>.dockerignore first, then the
// context root's. It returns its patterns and its name ("" when none).
func (s *Set) ignoreFile(c Spec) ([]string, string, error) {
	ctx := path.Join(s.Upload, c.Context)
	for _, f := range []string{c.ContextDockerfile + ".dockerignore", ".dockerignore"} {
		p := path.Join(ctx, f)
		data, err := fs.ReadFile(s.tree.FS, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		name := s.tree.Name(p)
		if err != nil {
			return nil, "", &Error{File: name, Problem: Problem(err)}
		}
		return IgnorePatterns(data), name, nil
	}
	return nil, "", nil
}

// IgnorePatterns are the patterns of a .dockerignore's content data, read
// as Dagger's DockerBuild reads them (moby/patternmatcher's ignorefile, !
// exceptions kept), so a cell's key digests the context the build gets.
func IgnorePatterns(data []byte) []string {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	return patterns
}

// Context is a cell's build context after its .dockerignore.
type Context struct {
	Dir     string // as messages name it
	Ignore  string // the .dockerignore applied, as messages name it; "" none
	Bytes   int64  // the regular files kept
	kept    []entry
	dropped []entry // what the .dockerignore excludes
}

// Context reads c's build context: what of it the .dockerignore keeps.
func (s *Set) Context(c Spec) (*Context, error) {
	files, err := s.listing()
	if err != nil {
		return nil, &Error{File: s.tree.Name(s.Upload), Problem: err.Error()}
	}
	patterns, ignore, err := s.ignoreFile(c)
	if err != nil {
		return nil, err
	}
	var pm *patternmatcher.PatternMatcher
	if len(patterns) > 0 {
		if pm, err = patternmatcher.New(patterns); err != nil {
			return nil, &Error{File: ignore, Problem: err.Error(), Fix: "fix the pattern (see https://docs.docker.com/build/concepts/context/#dockerignore-files)"}
		}
	}
	out := &Context{Dir: s.tree.Name(path.Join(s.Upload, c.Context)), Ignore: ignore}
	if path.Join(s.Upload, c.Context) == "." {
		// The module and the CLI name the tree differently; its root alike.
		out.Dir = "(the root of the tree given to matrix)"
	}
	prefix := ""
	if c.Context != "." {
		prefix = c.Context + "/"
	}
	for _, e := range files {
		rel, ok := strings.CutPrefix(e.path, prefix)
		if !ok {
			continue
		}
		e.path = rel
		if pm != nil {
			if excluded, _ := pm.MatchesOrParentMatches(rel); excluded {
				out.dropped = append(out.dropped, e)
				continue
			}
		}
		out.kept = append(out.kept, e)
		out.Bytes += e.size
	}
	return out, nil
}

// has tells whether p (a path or a glob, relative to the context) names
// something in list: the path itself, or anything under it.
func has(list []entry, p string) bool {
	glob := strings.ContainsAny(p, `*?[`)
	for _, e := range list {
		if glob {
			if ok, _ := path.Match(p, e.path); ok {
				return true
			}
		} else if e.path == p || strings.HasPrefix(e.path, p+"/") {
			return true
		}
	}
	return false
}

// Check refuses, before any build, a cell whose context after its
// .dockerignore is over limit (0: DefaultMaxContext), or whose Dockerfile
// COPYs or ADDs a path the context does not hold (a generated or downloaded
// input not made yet, or one the .dockerignore drops). args are the build
// args the cell gets, for the paths that name them.
func (s *Set) Check(c Spec, limit int64, args map[string]string) (*Context, error) {
	if limit <= 0 {
		limit = DefaultMaxContext
	}
	ctx, err := s.Context(c)
	if err != nil {
		return nil, err
	}
	if ctx.Bytes > limit {
		fix := "exclude large files with a .dockerignore or raise --max-context"
		if ctx.Ignore != "" {
			fix = "exclude large files in " + ctx.Ignore + " or raise --max-context"
		}
		return nil, &Error{File: c.Dir, Problem: fmt.Sprintf("build context is %s, over the %s limit (the context: %s)",
			units.HumanSize(float64(ctx.Bytes)), units.HumanSize(float64(limit)), ctx.Dir), Fix: fix}
	}
	file := path.Join(c.Dir, c.Dockerfile)
	fsys, err := s.tree.Sub(path.Join(s.Upload, c.Context))
	if err != nil {
		return nil, &Error{File: ctx.Dir, Problem: Problem(err)}
	}
	df, err := fs.ReadFile(fsys, c.ContextDockerfile)
	if err != nil {
		return nil, &Error{File: file, Problem: Problem(err)}
	}
	srcs, err := lint.Sources(file, df, c.Target, args)
	if err != nil {
		return nil, &Error{File: file, Problem: "cannot be parsed: " + strings.TrimPrefix(err.Error(), file+": "), Fix: "fix the Dockerfile syntax"}
	}
	for _, src := range srcs {
		p := path.Clean("./" + strings.TrimPrefix(src.Path, "/"))
		if p == "." || has(ctx.kept, p) {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, src.Line)
		if has(ctx.dropped, p) {
			return nil, &Error{File: at, Problem: fmt.Sprintf("%s %s: excluded from the build context %s by %s", src.Instruction, src.Path, ctx.Dir, ctx.Ignore),
				Fix: "stop excluding it in " + ctx.Ignore + " (a !" + p + " line), or remove the " + src.Instruction}
		}
		what := "no such file or directory"
		if strings.ContainsAny(p, `*?[`) {
			what = "matches no file"
		}
		return nil, &Error{File: at, Problem: fmt.Sprintf("%s %s: %s in the build context %s", src.Instruction, src.Path, what, ctx.Dir),
			Fix: "create it before the build (a generated or downloaded input: run the step that makes it first), or fix the path, relative to the context"}
	}
	return ctx, nil
}

// Excluded lists, as exclude patterns, what of the upload no cell's build
// context keeps: what every .dockerignore drops. The CLI leaves it out of
// the upload (the history, the .env), and each cell still gets the context
// its .dockerignore gives. The Dockerfiles and the .dockerignore files stay,
// for Dagger reads them from the uploaded directory. cells are the planned
// components; with each component's folder as its context, nothing is left
// out.
func (s *Set) Excluded(cells []Spec) ([]string, int64, error) {
	files, err := s.listing()
	if err != nil {
		return nil, 0, err
	}
	if !s.Shared() {
		n, err := s.UploadBytes()
		return nil, n, err
	}
	keep := map[string]bool{".dockerignore": true}
	for _, c := range cells {
		ctx, err := s.Context(c)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range ctx.kept {
			keep[e.path] = true
		}
		keep[c.ContextDockerfile], keep[c.ContextDockerfile+".dockerignore"] = true, true
	}
	needed := map[string]bool{} // kept, or holds something kept
	for p := range keep {
		for ; p != "." && !needed[p]; p = path.Dir(p) {
			needed[p] = true
		}
	}
	var out []string
	var n int64
	gone := "" // the last directory left out: its whole tree goes with it
	for _, e := range files {
		switch {
		case gone != "" && strings.HasPrefix(e.path, gone+"/"):
		case needed[e.path]:
			n += e.size
		default:
			out, gone = append(out, literal(e.path)), e.path
		}
	}
	return out, n, nil
}

// literal is path p as an exclude pattern that matches p alone.
func literal(p string) string {
	var b strings.Builder
	for i, r := range p {
		if strings.ContainsRune(`\*?[`, r) || (i == 0 && r == '!') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
