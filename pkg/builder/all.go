package builder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"dagger.io/dagger"
	"github.com/sourcegraph/conc/pool"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/verify"
)

// Options of a whole run.
type Options struct {
	Source   *dagger.Directory         // the components directory, one folder per component
	Version  string                    // replaces ${VERSION} in args
	Mirrors  map[string]string         // run-wide mirror args, given only to Dockerfiles that declare them
	Secrets  map[string]*dagger.Secret // BuildKit secrets by id
	FailFast bool                      // cancel the rest at the first failure
	Sizes    bool                      // measure each variant's size (an extra tarball per cell)
	Stager   Stager                    // makes a dependency's variants available to its dependents
}

// Stager makes the variants of a component reachable by the Dockerfiles of
// components that build FROM it, and returns the digest-pinned reference.
type Stager interface {
	Stage(ctx context.Context, c component.Spec, variants []Variant) (string, error)
}

// Result is the outcome of All.
type Result struct {
	Report   *report.Report
	Variants map[string][]Variant // verified variants per component, in plan platform order
}

// ImageArg is the build arg through which a dependent receives component
// name's variant, e.g. JUPYTERHUB_IMAGE.
func ImageArg(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_IMAGE"
}

// All builds and verifies every planned cell, at most jobs at a time, and
// reports each one. Dependents wait for their dependencies and build FROM the
// variants of this run, never from a tag.
func (b *Builder) All(ctx context.Context, p *plan.Plan, o Options) *Result {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &report.Report{Version: o.Version, Platforms: p.Platforms}
	for _, c := range p.Cells {
		status := report.Skipped
		if c.Status == plan.NotRequested {
			status = report.NotRequested
		}
		r.Set(report.Cell{Component: c.Component, Platform: c.Platform, Status: status})
	}
	res := &Result{Report: r, Variants: map[string][]Variant{}}
	var mu sync.Mutex
	done := map[string]chan struct{}{}
	staged := map[string]string{}
	stageErr := map[string]error{}
	for _, c := range p.Components {
		done[c.Name] = make(chan struct{})
	}
	sem := make(chan struct{}, b.jobs)
	fail := func() {
		if o.FailFast {
			cancel()
		}
	}
	// One goroutine per component: most of them only wait for dependencies;
	// the semaphore bounds the cells that really run.
	wg := pool.New()
	for _, c := range p.Components {
		wg.Go(func() {
			defer close(done[c.Name])
			args, why := b.depArgs(ctx, c, done, &mu, staged, stageErr)
			if why != "" {
				for _, pl := range p.Platforms {
					if c.Supports(pl) {
						r.Set(report.Cell{Component: c.Name, Platform: pl, Status: report.Skipped, Error: why})
					}
				}
				mu.Lock()
				stageErr[c.Name] = errors.New(why)
				mu.Unlock()
				return
			}
			vs, ok := b.cells(ctx, c, p.Platforms, append(args, o.args(c)...), o, sem, r, fail)
			mu.Lock()
			res.Variants[c.Name] = vs
			mu.Unlock()
			if !ok {
				mu.Lock()
				stageErr[c.Name] = fmt.Errorf("%s did not build on every platform", c.Name)
				mu.Unlock()
				return
			}
			if o.Stager != nil && hasDependents(p, c.Name) {
				ref, err := o.Stager.Stage(ctx, c, vs)
				mu.Lock()
				staged[c.Name], stageErr[c.Name] = ref, err
				mu.Unlock()
				if err != nil {
					fail()
				}
			}
		})
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	return res
}

// depArgs waits for c's dependencies and returns their image args, or why c
// cannot be built.
func (b *Builder) depArgs(ctx context.Context, c component.Spec, done map[string]chan struct{}, mu *sync.Mutex, staged map[string]string, stageErr map[string]error) ([]dagger.BuildArg, string) {
	var args []dagger.BuildArg
	for _, d := range c.DependsOn {
		select {
		case <-done[d]:
		case <-ctx.Done():
			return nil, "run cancelled"
		}
		mu.Lock()
		ref, err := staged[d], stageErr[d]
		mu.Unlock()
		switch {
		case err != nil:
			return nil, fmt.Sprintf("dependency %s: %v", d, err)
		case ref == "":
			return nil, fmt.Sprintf("dependency %s was not staged: a run with dependents needs a stage registry", d)
		}
		args = append(args, dagger.BuildArg{Name: ImageArg(d), Value: ref})
	}
	return args, ""
}

// args are the component's explicit args and the mirrors its Dockerfile declares.
func (o Options) args(c component.Spec) []dagger.BuildArg {
	var out []dagger.BuildArg
	for _, a := range c.Args {
		v := strings.ReplaceAll(a.Value, "${VERSION}", o.Version)
		if v == "" {
			continue // the API has no empty build arg: the Dockerfile default applies
		}
		out = append(out, dagger.BuildArg{Name: a.Name, Value: v})
	}
	for _, m := range component.Mirrors() {
		if v := o.Mirrors[m]; v != "" && slices.Contains(c.Declared, m) {
			out = append(out, dagger.BuildArg{Name: m, Value: v})
		}
	}
	return out
}

// cells builds and verifies c on each supported platform and reports whether all verified.
func (b *Builder) cells(ctx context.Context, c component.Spec, platforms []string, args []dagger.BuildArg, o Options, sem chan struct{}, r *report.Report, fail func()) ([]Variant, bool) {
	req := Request{Component: c.Name, Dir: o.Source.Directory(c.Name), Dockerfile: c.Dockerfile, Target: c.Target, Args: args}
	for _, id := range c.Secrets {
		s, ok := o.Secrets[id]
		if !ok {
			for _, pl := range platforms {
				if c.Supports(pl) {
					r.Set(report.Cell{Component: c.Name, Platform: pl, Status: report.Failed, Step: "secrets",
						Error: fmt.Sprintf("%s %s: secret %q is not provided (pass --secret %s=env:VAR or file:PATH)", c.Name, pl, id, id)})
				}
			}
			fail()
			return nil, false
		}
		req.Secrets = append(req.Secrets, s)
	}
	var out []Variant
	var mu sync.Mutex
	ok := true
	cp := pool.New()
	for _, pl := range platforms {
		if !c.Supports(pl) {
			continue
		}
		cp.Go(func() {
			v, cell := b.cell(ctx, c, req, dagger.Platform(pl), o, sem)
			r.Set(cell)
			mu.Lock()
			defer mu.Unlock()
			if cell.Status != report.Verified {
				ok = false
				fail()
				return
			}
			out = append(out, v)
		})
	}
	cp.Wait()
	// Keep the plan's platform order, whatever order the cells finished in.
	ordered := make([]Variant, 0, len(out))
	for _, pl := range platforms {
		for _, v := range out {
			if string(v.Platform) == pl {
				ordered = append(ordered, v)
			}
		}
	}
	return ordered, ok
}

// cell builds, verifies and measures one variant.
func (b *Builder) cell(ctx context.Context, c component.Spec, req Request, pl dagger.Platform, o Options, sem chan struct{}) (_ Variant, cell report.Cell) {
	cell = report.Cell{Component: c.Name, Platform: string(pl), Status: report.Skipped}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		cell.Error = "not started: run cancelled"
		return Variant{}, cell
	}
	defer func() { <-sem }()
	if ctx.Err() != nil {
		cell.Error = "not started: run cancelled"
		return Variant{}, cell
	}
	t0 := time.Now()
	defer func() { cell.Seconds = time.Since(t0).Seconds() }()
	ctr, err := b.Container(req, pl).Sync(ctx)
	if err != nil {
		ce := NewCellError(c.Name, pl, err)
		cell.Status, cell.Step, cell.Command, cell.Output = report.Failed, "build", ce.Step, ce.Output
		cell.Error = ce.Error()
		if ce.Step != "" { // the command and its output have fields of their own
			cell.Error = fmt.Sprintf("%s %s: exit code %d", c.Name, pl, ce.ExitCode)
		}
		if ctx.Err() != nil && ce.Step == "" {
			cell.Status, cell.Step, cell.Error = report.Skipped, "", fmt.Sprintf("%s %s: not finished: %v", c.Name, pl, context.Cause(ctx))
		}
		return Variant{}, cell
	}
	if err := verify.Variant(ctx, ctr, pl, c.Smoke); err != nil {
		cell.Status, cell.Step, cell.Error = report.Failed, "verify", fmt.Sprintf("%s %s: %v", c.Name, pl, err)
		var f *verify.Failure
		if errors.As(err, &f) {
			cell.Step, cell.Command, cell.Output = f.Step, f.Command, f.Output
		}
		return Variant{}, cell
	}
	if o.Sizes {
		if n, err := ctr.AsTarball().Size(ctx); err == nil {
			cell.SizeBytes = int64(n)
		}
	}
	cell.Status = report.Verified
	return Variant{Platform: pl, Container: ctr}, cell
}

func hasDependents(p *plan.Plan, name string) bool {
	for _, c := range p.Components {
		if slices.Contains(c.DependsOn, name) {
			return true
		}
	}
	return false
}
