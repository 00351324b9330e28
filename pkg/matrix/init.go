package matrix

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"text/tabwriter"

	"github.com/ai-infra-matrix/matrix/pkg/adopt"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// Adopted is what Init wrote into a tree, and the plan of it.
type Adopted struct {
	*adopt.Adoption
	Changes []adopt.Change
	Run     *Run // the plan of the tree as init left it
	where   string
}

// Init adopts the tree fsys, which a build script built (where names it):
// it writes matrix.yaml, and component.yaml and third-party.yaml where the
// tree's conventions need them (see adopt.Scan), with write, overwriting
// nothing unless force; then it plans what it wrote, as plan does, with the
// tree's .env.example as the build-arg file. It needs no engine. components
// is --components-path; empty: found from the Dockerfiles.
func Init(fsys fs.FS, where, components string, force bool, write adopt.WriteFunc) (*Adopted, error) {
	a, err := adopt.Scan(fsys, where, components)
	if err != nil {
		return nil, err
	}
	res := &Adopted{Adoption: a, where: where}
	if res.Changes, err = a.Write(fsys, where, force, write); err != nil {
		return res, err
	}
	var o Options
	if a.ArgFile != "" {
		data, err := fs.ReadFile(fsys, a.ArgFile)
		if err != nil {
			return res, &component.Error{File: path.Join(where, a.ArgFile), Problem: component.Problem(err)}
		}
		o.Run.BuildArgFiles = []ArgFile{{Name: path.Join(where, a.ArgFile), Data: data}}
	}
	t := component.Tree{FS: adopt.Overlay(fsys, a.Files), Where: where, Components: a.Components}
	if res.Run, err = Inspect(o, t); err != nil {
		return res, fmt.Errorf("the configuration init wrote does not plan: %w", err)
	}
	return res, nil
}

// Report writes what Init did, file by file, what to look at, the flags a
// run of this tree takes, and the plan as plan's table shows it.
func (a *Adopted) Report(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range a.Changes {
		fmt.Fprintf(tw, "%s\t%s\n", c.Status, path.Join(a.where, c.Path))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range a.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	flags := "--source " + a.where + " --components-path " + a.Components
	if a.ArgFile != "" {
		flags += " --build-arg-file " + path.Join(a.where, a.ArgFile)
	}
	fmt.Fprintf(w, "run it with: matrix %s plan\n\n", flags)
	if a.Run == nil {
		return nil
	}
	return a.Run.Plan.Table(w)
}
