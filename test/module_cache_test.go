package system_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moduleWrites are the module's functions that write outside the engine,
// and what they write: Dagger must never answer them from its call cache
// (by default it may, for 7 days, without running the function).
var moduleWrites = map[string]string{
	"Publish":  "pushes to --registry",
	"Merge":    "pushes the index to --registry",
	"Mirror":   "pushes to --registry",
	"Import":   "pushes the bundle to --registry",
	"BuildAll": "pushes to --registry with --push-by-digest",
	"Export":   "returns the bundle, to be exported",
	"Report":   "returns the report files, to be exported",
	"Init":     "returns the files it writes into the tree, to be exported",
}

// moduleCached are the functions that write nothing that outlives the
// call, which the call cache may answer. Render's page is a function of
// the files it is given alone, so a cached answer is the same page.
var moduleCached = []string{"Lint", "Plan", "BuildComponent", "Verify", "Render"}

// TestModuleWritersNeverCached: every function of ci/main.go that writes is
// marked +cache="never", and no other is; a function taking a registry or
// returning a directory counts as one that writes, so a new one cannot
// slip in cached.
func TestModuleWritersNeverCached(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "ci/main.go", nil, parser.ParseComments)
	require.NoError(t, err)
	var seen []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !fn.Name.IsExported() || receiver(fn) != "Matrix" {
			continue
		}
		name := fn.Name.Name
		seen = append(seen, name)
		never := fn.Doc != nil && slices.ContainsFunc(fn.Doc.List, func(c *ast.Comment) bool {
			return strings.TrimSpace(strings.TrimPrefix(c.Text, "//")) == `+cache="never"`
		})
		if why, ok := moduleWrites[name]; ok {
			assert.True(t, never, `%s %s: it must be marked +cache="never"`, name, why)
			continue
		}
		assert.Contains(t, moduleCached, name, "%s is neither a function that writes nor one that may be cached: add it to one list", name)
		assert.False(t, never, "%s writes nothing outside the engine: its answer may be cached", name)
		assert.False(t, writes(fn), "%s takes a registry or returns a directory: it writes, list it in moduleWrites", name)
	}
	for name := range moduleWrites {
		assert.Contains(t, seen, name, "ci/main.go has a function %s", name)
	}
	for _, name := range moduleCached {
		assert.Contains(t, seen, name, "ci/main.go has a function %s", name)
	}
}

// receiver is the type name of fn's receiver.
func receiver(fn *ast.FuncDecl) string {
	typ := fn.Recv.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// writes tells a function that takes a registry to write to or returns a
// directory to be exported.
func writes(fn *ast.FuncDecl) bool {
	for _, p := range fn.Type.Params.List {
		for _, n := range p.Names {
			if n.Name == "registry" {
				return true
			}
		}
	}
	if fn.Type.Results == nil {
		return false
	}
	for _, r := range fn.Type.Results.List {
		if s, ok := r.Type.(*ast.StarExpr); ok {
			if sel, ok := s.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Directory" {
				return true
			}
		}
	}
	return false
}

// TestModuleArgumentDocsRender: no argument of a module function (New
// included) has a backtick in its doc. The dagger CLI's flag help, as
// pflag's, takes a `word` in backticks for the flag's value placeholder:
// "--push-by-digest merge" instead of "--push-by-digest".
func TestModuleArgumentDocsRender(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "ci/main.go", nil, parser.ParseComments)
	require.NoError(t, err)
	checked := 0
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || !fn.Name.IsExported() || (fn.Recv == nil && fn.Name.Name != "New") {
			continue
		}
		checked++
		params := fn.Type.Params
		for _, g := range f.Comments {
			if g.Pos() < params.Pos() || g.End() > params.End() {
				continue
			}
			assert.NotContains(t, g.Text(), "`", "%s: an argument's doc with a backtick renders as the flag's placeholder in dagger call help: %s",
				fset.Position(g.Pos()), strings.TrimSpace(g.Text()))
		}
	}
	assert.Greater(t, checked, 10, "the module's functions, New among them")
}
