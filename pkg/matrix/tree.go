package matrix

import (
	"cmp"
	"os"
	"path/filepath"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// LocalTree is the tree of this machine a run reads: --source (default the
// working directory) and the components directory inside it, named by
// --components-path (inside --source) or by --components-dir (a path,
// default components). Without --source, a components directory outside the
// working directory is a tree of its own. Empty arguments were not given.
func LocalTree(source, componentsDir, componentsPath string) (component.Tree, error) {
	root := cmp.Or(source, ".")
	bad := func(format string, args ...any) (component.Tree, error) {
		return component.Tree{}, class.BadInput.Errorf(format, args...)
	}
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return bad("--source %s: not a directory; give the repository to build (default: the working directory)", root)
	}
	if componentsPath != "" {
		if componentsDir != "" {
			return bad("--components-dir and --components-path exclude each other: name the components directory inside --source with --components-path, or give its path with --components-dir")
		}
		if !filepath.IsLocal(componentsPath) {
			return bad("--components-path %q: not a path inside --source %s; give it relative, such as src", componentsPath, root)
		}
		return component.Tree{FS: os.DirFS(root), Where: root, Components: filepath.ToSlash(componentsPath)}, nil
	}
	dir := cmp.Or(componentsDir, "components")
	absRoot, err1 := filepath.Abs(root)
	absDir, err2 := filepath.Abs(dir)
	if err := cmp.Or(err1, err2); err != nil {
		return bad("--components-dir %s: %v", dir, err)
	}
	if rel, err := filepath.Rel(absRoot, absDir); err == nil && (rel == "." || filepath.IsLocal(rel)) {
		return component.Tree{FS: os.DirFS(root), Where: root, Components: filepath.ToSlash(rel)}, nil
	}
	if source != "" {
		return bad("--components-dir %s is not inside --source %s; name it inside --source with --components-path", dir, source)
	}
	return component.Tree{FS: os.DirFS(dir), Where: dir}, nil
}

// Path is where p, a path inside a tree LocalTree made, is on this machine.
func Path(t component.Tree, p string) string {
	return filepath.Join(t.Where, filepath.FromSlash(p))
}

// TreeFrom is which of its inputs a module call reads its tree from.
type TreeFrom int

const (
	FromSource        TreeFrom = iota + 1 // --source, with --components-path in it
	FromComponentsDir                     // --components-dir
	FromModule                            // the module's own components
)

// ModuleTree picks the tree of a module call from what it was given:
// --source (with the components at --components-path in it, default
// components), else --components-dir, else the module's own components,
// with a note saying so. Giving both, or --components-path without
// --source, is bad input.
func ModuleTree(source, componentsDir bool, componentsPath string) (TreeFrom, component.Tree, string, error) {
	bad := func(format string, args ...any) (TreeFrom, component.Tree, string, error) {
		return 0, component.Tree{}, "", class.BadInput.Errorf(format, args...)
	}
	switch {
	case source && componentsDir:
		return bad("--components-dir and --source exclude each other: name the components directory inside --source with --components-path")
	case source:
		comps := cmp.Or(componentsPath, "components")
		if !filepath.IsLocal(comps) {
			return bad("--components-path %q: not a path inside --source; give it relative, such as src", comps)
		}
		return FromSource, component.Tree{Where: ".", Components: comps}, "", nil
	case componentsPath != "":
		return bad("--components-path names a folder inside --source: give --source too, e.g. --source . --components-path %s", componentsPath)
	case componentsDir:
		return FromComponentsDir, component.Tree{Where: "components"}, "", nil
	}
	return FromModule, component.Tree{Where: "components"},
		"no --source or --components-dir: this is the matrix module's own components/, not your tree (build yours with --source . --components-path DIR)", nil
}
