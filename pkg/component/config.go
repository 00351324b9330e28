package component

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// ConfigFile, in the components directory, holds the run-wide defaults.
const ConfigFile = "matrix.yaml"

// Config is matrix.yaml.
type Config struct {
	// Context is the build context of every component, relative to the
	// components directory (".." for a repository whose components are
	// src/<name>/); empty: each component's own folder.
	Context string `yaml:"context"`
	// Ignore lists folders of the components directory that are not
	// components.
	Ignore []string `yaml:"ignore"`
}

// configFields are the keys of matrix.yaml, with the fix shown for a wrong type.
var configFields = map[string]string{
	"context": "a path relative to this file's directory, such as ..",
	"ignore":  "a list of folder names, such as [shared, safeline]",
}

// readConfig reads and checks matrix.yaml of the components directory of t
// (missing is none), and returns it with the shared context inside the
// tree ("" when there is none).
func readConfig(t Tree) (Config, string, error) {
	file := t.Name(path.Join(t.Components, ConfigFile))
	data, err := fs.ReadFile(t.FS, path.Join(t.Components, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, "", nil
	}
	if err != nil {
		return Config{}, "", &Error{File: file, Problem: Problem(err)}
	}
	var c Config
	if err := decodeStrict(file, data, configFields, &c); err != nil {
		return Config{}, "", err
	}
	bad := func(field, problem, fix string) error {
		return &Error{File: file, Field: field, Problem: problem, Fix: fix}
	}
	for i, name := range c.Ignore {
		field := fmt.Sprintf("ignore[%d]", i)
		if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return Config{}, "", bad(field, fmt.Sprintf("%q is not a folder name", name), "list folders of this directory by name, such as shared")
		}
		if slices.Index(c.Ignore, name) != i {
			return Config{}, "", bad(field, name+" is listed twice", "list each folder once")
		}
		if info, err := fs.Stat(t.FS, path.Join(t.Components, name)); err != nil || !info.IsDir() {
			return Config{}, "", bad(field, fmt.Sprintf("there is no folder %s here", name), "remove it, or fix the name")
		}
	}
	if c.Context == "" {
		return c, "", nil
	}
	ctx, err := t.context(c.Context)
	if err != nil {
		return Config{}, "", bad("context", err.Error(), "name a folder that holds this one, inside the tree given to matrix (--source)")
	}
	return c, ctx, nil
}

// context resolves rel, a context relative to the components directory, to
// a path inside the tree. The context must hold the components directory
// (each Dockerfile is read from inside it) and stay in the tree.
func (t Tree) context(rel string) (string, error) {
	if path.IsAbs(rel) || strings.Contains(rel, `\`) {
		return "", fmt.Errorf("%q is not a relative path", rel)
	}
	ctx := path.Join(t.components(), rel)
	if ctx == ".." || strings.HasPrefix(ctx, "../") {
		return "", fmt.Errorf("%q leaves the tree given to matrix", rel)
	}
	if ctx != "." && ctx != t.components() && !strings.HasPrefix(t.components(), ctx+"/") {
		return "", fmt.Errorf("%q does not hold the components directory %s", rel, t.Name(t.components()))
	}
	return ctx, nil
}
