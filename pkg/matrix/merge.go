package matrix

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Merge assembles one index per planned component from the results files
// of --push-by-digest legs (by file name), then moves the final tags as
// Publish does. It refuses, before writing anything, legs of different
// revisions and results that do not cover every planned cell, naming what
// is missing; publish.Merge then checks every digest in the registry.
func (r *Run) Merge(ctx context.Context, legs map[string]report.Results) (*Result, error) {
	if err := r.Options.Push.tagged("merge"); err != nil {
		return nil, err
	}
	if len(legs) == 0 {
		return nil, class.BadInput.Errorf("merge: no results files; give the results.json of each build-all --push-by-digest")
	}
	files := make([]string, 0, len(legs))
	for f := range legs {
		files = append(files, f)
	}
	sort.Strings(files)
	rev, version, err := r.legRevision(files, legs)
	if err != nil {
		return nil, err
	}
	o := r.Options
	o.Run.Revision, o.Run.Created = rev, legs[files[0]].Created
	t := o.target()
	t.Annotations[publish.AnnotationVersion] = version
	rep := &report.Report{Version: version, Revision: rev, Created: o.Run.Created, Platforms: r.Plan.Platforms}
	var missing []string
	for _, c := range r.Plan.Cells {
		if c.Status == plan.NotRequested {
			rep.Set(report.Cell{Component: c.Component, Platform: c.Platform, Status: report.NotRequested})
			continue
		}
		cell, why, err := r.legCell(t, files, legs, c.Component, c.Platform)
		if err != nil {
			return nil, err
		}
		if why != "" {
			missing = append(missing, c.Component+" "+c.Platform+" ("+why+")")
			cell = report.Cell{Component: c.Component, Platform: c.Platform, Status: report.Skipped, Error: "merge: " + why}
		}
		rep.Set(cell)
	}
	res := &Result{Report: rep}
	if len(missing) > 0 {
		return res, class.Failed.Errorf("merge: the results do not cover %d planned cell(s): %s; no index was written and no tag moved",
			len(missing), strings.Join(missing, ", "))
	}
	if err := t.Ping(ctx); err != nil {
		return res, err
	}
	if err := publish.Merge(ctx, t, r.Plan, digests(rep), rep); err != nil {
		return res, class.Failed.Wrap(err)
	}
	return res, nil
}

// legRevision is the one revision and version of all the legs; legs of two
// revisions would make an index of two trees.
func (r *Run) legRevision(files []string, legs map[string]report.Results) (rev, version string, err error) {
	byRev := map[string][]string{}
	for _, f := range files {
		if legs[f].Revision == "" {
			return "", "", class.BadInput.Errorf("merge: %s has no revision; it is not the results of a build-all --push-by-digest", f)
		}
		byRev[legs[f].Revision] = append(byRev[legs[f].Revision], f)
	}
	if len(byRev) > 1 {
		var parts []string
		for rv, fs := range byRev {
			parts = append(parts, rv+" in "+strings.Join(fs, ", "))
		}
		sort.Strings(parts)
		return "", "", class.BadInput.Errorf("merge: the results are of %d revisions (%s); merge the legs of one commit", len(byRev), strings.Join(parts, "; "))
	}
	rev = legs[files[0]].Revision
	if want := r.Options.Run.Revision; want != "" && want != rev {
		return "", "", class.BadInput.Errorf("merge: --revision %s, but the results are of %s", want, rev)
	}
	version = legs[files[0]].Version
	for _, f := range files[1:] {
		if v := legs[f].Version; v != version {
			return "", "", class.BadInput.Errorf("merge: %s is version %q and %s version %q; merge the legs of one run", files[0], version, f, v)
		}
	}
	return rev, version, nil
}

// legCell finds component × platform in the legs: the verified cell with
// its digest, or why it is missing. Two legs with different digests for
// one cell, or a leg pushed to another repository, are bad input.
func (r *Run) legCell(t publish.Target, files []string, legs map[string]report.Results, component, platform string) (report.Cell, string, error) {
	spec, _ := r.Plan.Component(component)
	var found report.Cell
	var from, why string
	for _, f := range files {
		for _, cr := range legs[f].Components {
			if cr.Component != component {
				continue
			}
			for _, pr := range cr.Platforms {
				if pr.Platform != platform || pr.Status == report.NotRequested {
					continue
				}
				if pr.Status != report.Verified || pr.Digest == "" {
					why = fmt.Sprintf("%s in %s", pr.Status, f)
					continue
				}
				if want := t.Repo(spec.Image); cr.Ref != want {
					return found, "", class.BadInput.Errorf("merge: %s pushed %s %s to %s, not %s; merge into the registry the legs pushed to", f, component, platform, cr.Ref, want)
				}
				if from != "" && found.Digest != pr.Digest {
					return found, "", class.BadInput.Errorf("merge: %s %s is %s in %s and %s in %s; give each cell's leg once", component, platform, found.Digest, from, pr.Digest, f)
				}
				from = f
				found = report.Cell{Component: component, Platform: platform, Status: report.Verified, Ref: cr.Ref, Digest: pr.Digest,
					Engine: pr.Engine, Native: pr.Native, SizeBytes: pr.SizeBytes, Seconds: pr.Seconds}
			}
		}
	}
	if from != "" {
		return found, "", nil
	}
	if why == "" {
		why = "in no results file"
	}
	return found, why, nil
}

// ReadLegs reads each results file named, or every *.json in a directory
// named, keyed by path.
func ReadLegs(args ...string) (map[string]report.Results, error) {
	if len(args) == 0 {
		return nil, class.BadInput.Errorf("merge: give the results files of the legs, e.g. matrix merge results/*.json --registry ... --tags ...")
	}
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, class.BadInput.Errorf("merge: %v", err)
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, "*.json"))
		if len(found) == 0 {
			return nil, class.BadInput.Errorf("merge: %s holds no *.json results file", a)
		}
		paths = append(paths, found...)
	}
	return readLegs(paths, os.ReadFile, "")
}

// ReadLegsFS reads every *.json results file at the top of fsys, a
// directory the caller names where (the module's --results), keyed by
// where/name: the module reads it in the engine, exporting nothing.
func ReadLegsFS(fsys fs.FS, where string) (map[string]report.Results, error) {
	found, err := fs.Glob(fsys, "*.json")
	if err != nil || len(found) == 0 {
		return nil, class.BadInput.Errorf("merge: %s holds no *.json results file", where)
	}
	return readLegs(found, func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) }, where)
}

// readLegs reads each results file named with read, keyed by its name
// under dir ("" for none).
func readLegs(names []string, read func(string) ([]byte, error), dir string) (map[string]report.Results, error) {
	sort.Strings(names)
	out := map[string]report.Results{}
	for _, n := range names {
		shown := filepath.Join(dir, n)
		data, err := read(n)
		if err != nil {
			return nil, class.BadInput.Errorf("merge: %s: %v", shown, component.Problem(err))
		}
		res, err := report.ParseResults(shown, data)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		out[shown] = res
	}
	return out, nil
}
