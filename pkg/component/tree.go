package component

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Tree is the directory matrix was given and the components directory in
// it: the CLI's --source (default the working directory) or the module's,
// or a bare components directory.
type Tree struct {
	FS         fs.FS
	Where      string // how messages name FS: a path, or "." for the module's --source
	Components string // the components directory inside FS, a slash path; "" or "." when FS is it
}

func (t Tree) components() string { return path.Clean("./" + t.Components) }

// Name is how messages name p, a path inside the tree.
func (t Tree) Name(p string) string { return path.Join(t.Where, p) }

// Sub is the directory p of the tree.
func (t Tree) Sub(p string) (fs.FS, error) {
	if p = path.Clean(p); p == "." {
		return t.FS, nil
	}
	return fs.Sub(t.FS, p)
}

// Set is a components directory as read.
type Set struct {
	Specs  []Spec
	Config Config // matrix.yaml
	// Upload is what the engine gets, inside the tree: the shared context
	// when there is one, else the components directory. Each cell's
	// Spec.Context is inside it.
	Upload string
	Notes  []string // folders that are not components, and what to do about them
	tree   Tree
	files  []entry // Upload's files, listed on first use
}

// Shared tells whether the components build in one shared context.
func (s *Set) Shared() bool { return s.Config.Context != "" }

// Load reads every component of the tree's components directory (one
// folder per component) and its matrix.yaml. A folder that is neither a
// component (a Dockerfile or a component.yaml) nor listed under ignore: is
// skipped with a note.
func Load(t Tree) (*Set, error) {
	comps := t.components()
	where := t.Name(comps)
	fsys, err := t.Sub(comps)
	if err != nil {
		return nil, &Error{File: where, Problem: Problem(err)}
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, &Error{File: where, Problem: Problem(err), Fix: "point --components-dir at the directory holding one folder per component"}
	}
	cfg, shared, err := readConfig(t)
	if err != nil {
		return nil, err
	}
	defaults, err := Annotations(fsys, where)
	if err != nil {
		return nil, err
	}
	s := &Set{Config: cfg, Upload: comps, tree: t}
	if shared != "" {
		s.Upload = shared
	}
	images := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || slices.Contains(cfg.Ignore, e.Name()) {
			continue
		}
		if note := notComponent(fsys, e.Name(), path.Join(where, e.Name())); note != "" {
			s.Notes = append(s.Notes, note)
			continue
		}
		specs, err := Read(fsys, e.Name(), where)
		if err != nil {
			return nil, err
		}
		for _, c := range specs {
			// One repository per image across the run: each gets its own index.
			if other, ok := images[c.Image]; ok {
				return nil, &Error{File: path.Join(c.Dir, FileName), Field: cmp.Or(c.imageField, "image"),
					Problem: fmt.Sprintf("%q is also the image of component %s", c.Image, other), Fix: "give each image its own repository name"}
			}
			images[c.Image] = c.Name
			if err := s.place(&c, fsys); err != nil {
				return nil, err
			}
			s.Specs = append(s.Specs, c.WithDefaults(defaults))
		}
	}
	if len(s.Specs) == 0 {
		return nil, &Error{File: where, Problem: "no components found", Fix: "add " + where + "/<name>/Dockerfile"}
	}
	return s, nil
}

// place sets where c builds: its context inside Upload and its Dockerfile
// inside that, and lints it against the .dockerignore that context has.
func (s *Set) place(c *Spec, comps fs.FS) error {
	if !s.Shared() {
		c.Context, c.ContextDockerfile = c.Component(), c.Dockerfile
		return nil
	}
	in := strings.TrimPrefix(strings.TrimPrefix(s.tree.components(), s.Upload), "/")
	c.Context, c.ContextDockerfile = ".", path.Join(in, c.Component(), c.Dockerfile)
	df, err := fs.ReadFile(comps, path.Join(c.Component(), c.Dockerfile))
	if err != nil {
		return &Error{File: path.Join(c.Dir, c.Dockerfile), Problem: Problem(err)}
	}
	_, ignore, err := s.ignoreFile(*c)
	if err != nil {
		return err
	}
	return c.lint(df, ignore != "")
}

// notComponent says why folder name of the components directory fsys is
// not a component, or "" when it is one (it has a Dockerfile or a
// component.yaml). dir names the folder.
func notComponent(fsys fs.FS, name, dir string) string {
	for _, f := range []string{"Dockerfile", FileName} {
		if _, err := fs.Stat(fsys, path.Join(name, f)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return ""
		}
	}
	if data, err := fs.ReadFile(fsys, path.Join(name, "dependency.conf")); err == nil {
		what := "a third-party image"
		if ref := DependencyImage(data); ref != "" {
			what += " (" + ref + ")"
		}
		return fmt.Sprintf("%s: not a component: it holds only dependency.conf, %s to pull and re-tag; add it to %s to mirror and export it", dir, what, "third-party.yaml")
	}
	return fmt.Sprintf("%s: not a component (no Dockerfile, no %s); skipped. List it under ignore: in %s to silence this note", dir, FileName, ConfigFile)
}

// DependencyImage is the first image reference with a tag or digest that a
// dependency.conf line gives (KEY=ref or ref), or "".
func DependencyImage(data []byte) string {
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, v, ok := strings.Cut(line, "="); ok {
			line = v
		}
		line = strings.Trim(strings.TrimSpace(line), `"'`)
		if !strings.ContainsAny(line, ":@") || strings.Contains(line, "://") {
			continue
		}
		if ref, err := name.ParseReference(line); err == nil {
			return ref.String()
		}
	}
	return ""
}
