package builder

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"dagger.io/dagger"
	"github.com/sourcegraph/conc/pool"

	"github.com/ai-infra-matrix/matrix/pkg/cellkey"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/verify"
)

// Options of a whole run.
type Options struct {
	Source   *dagger.Directory         // the upload: the shared context, or the components directory (component.Set.Upload)
	Version  string                    // replaces ${VERSION} in args
	Mirrors  map[string]string         // run-wide mirror args, given only to Dockerfiles that declare them
	Secrets  map[string]*dagger.Secret // BuildKit secrets by id
	FailFast bool                      // cancel the rest at the first failure
	Sizes    bool                      // measure each variant's size (an extra tarball per cell)
	Stager   Stager                    // makes a dependency's variants available to its dependents
	Events   func(report.Event)        // hears each cell start, build and end; may be nil
	Reuser   Reuser                    // keys each cell and finds its variant in the registry; may be nil
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
// name's variant, e.g. JUPYTERHUB_IMAGE (BACKEND_BACKEND_INIT_IMAGE for the
// image backend/backend-init).
func ImageArg(name string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", "/", "_").Replace(name)) + "_IMAGE"
}

// outcome is one component's result: closed done, then its variants and,
// for its dependents, the staged reference or why there is none.
type outcome struct {
	done     chan struct{}
	variants []Variant
	ref      string
	err      error
}

// All builds and verifies every planned cell, at most jobs at a time, and
// reports each one. Dependents wait for their dependencies and build FROM the
// variants of this run, never from a tag.
func (b *Builder) All(ctx context.Context, p *plan.Plan, o Options) *Result {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &report.Report{Version: o.Version, Platforms: p.Platforms, Started: start}
	for _, c := range p.Cells {
		status := report.Skipped
		if c.Status == plan.NotRequested {
			status = report.NotRequested
		}
		r.Set(report.Cell{Component: c.Component, Platform: c.Platform, Status: status})
	}
	run := &run{b: b, p: p, o: o, r: r, outs: map[string]*outcome{}, sem: make(chan struct{}, b.jobs), cancel: cancel}
	for _, c := range p.Components {
		run.outs[c.Name] = &outcome{done: make(chan struct{})}
	}
	// One goroutine per component: most of them only wait for dependencies;
	// the limiter bounds the cells that really run.
	wg := pool.New()
	for _, c := range p.Components {
		wg.Go(func() { run.component(ctx, c) })
	}
	wg.Wait()
	res := &Result{Report: r, Variants: map[string][]Variant{}}
	for name, out := range run.outs {
		res.Variants[name] = out.variants
	}
	r.Seconds = time.Since(start).Seconds()
	return res
}

// run is the shared state of one All call.
type run struct {
	b      *Builder
	p      *plan.Plan
	o      Options
	r      *report.Report
	outs   map[string]*outcome // written before the goroutines start, read-only after
	sem    chan struct{}       // the one limiter: cells building at once
	cancel context.CancelFunc
}

// emit passes e on to Options.Events.
func (r *run) emit(e report.Event) {
	if r.o.Events != nil {
		r.o.Events(e)
	}
}

// set records the final state of a cell and tells the listener.
func (r *run) set(c report.Cell) {
	r.r.Set(c)
	e := report.Event{Component: c.Component, Platform: c.Platform, Kind: c.Status, Seconds: c.Seconds, Reason: c.Error}
	if c.Status == report.Failed {
		e.Step = c.Step
	}
	r.emit(e)
}

// failed cancels the rest of the run under --fail-fast.
func (r *run) failed() {
	if r.o.FailFast {
		r.cancel()
	}
}

// component builds every cell of c once its dependencies are staged, then
// stages c itself when a planned component builds FROM it.
func (r *run) component(ctx context.Context, c component.Spec) {
	out := r.outs[c.Name]
	defer close(out.done)
	args, err := r.depArgs(ctx, c)
	if err == nil {
		err = r.waitServed(ctx, c)
	}
	if err != nil {
		for _, pl := range r.p.Platforms {
			if c.Supports(pl) {
				r.set(report.Cell{Component: c.Name, Platform: pl, Status: report.Skipped, Error: err.Error()})
			}
		}
		out.err = err
		return
	}
	vs, ok := r.cells(ctx, c, append(args, Args(c, r.o.Version, r.o.Mirrors)...))
	out.variants = vs
	if !ok {
		out.err = fmt.Errorf("%s did not build on every platform", c.Name)
		return
	}
	if r.o.Stager != nil && hasDependents(r.p, c.Name) {
		t0 := time.Now()
		if out.ref, out.err = r.o.Stager.Stage(ctx, c, vs); out.err != nil {
			r.failed()
		}
		r.r.AddPhase(report.Phase{Name: "stage", Component: c.Name, Started: t0, Ended: time.Now()})
	}
}

// depArgs waits for c's dependencies and returns their image args, or why c
// cannot be built.
func (r *run) depArgs(ctx context.Context, c component.Spec) ([]dagger.BuildArg, error) {
	var args []dagger.BuildArg
	for _, d := range c.DependsOn {
		dep, err := r.wait(ctx, d)
		switch {
		case err != nil:
			return nil, err
		case dep.err != nil:
			return nil, fmt.Errorf("dependency %s: %w", d, dep.err)
		case dep.ref == "":
			return nil, fmt.Errorf("dependency %s was not staged: a run with dependents needs a stage registry", d)
		}
		args = append(args, dagger.BuildArg{Name: ImageArg(d), Value: dep.ref})
	}
	return args, nil
}

// wait waits for component name's outcome, unless the run is cancelled first.
func (r *run) wait(ctx context.Context, name string) (*outcome, error) {
	out := r.outs[name]
	select {
	case <-out.done:
		return out, nil
	case <-ctx.Done():
		return nil, errors.New("run cancelled")
	}
}

// waitServed waits for the components served to c's builds, and says why
// c cannot be built when one of them did not verify.
func (r *run) waitServed(ctx context.Context, c component.Spec) error {
	for _, s := range c.Services {
		out, err := r.wait(ctx, s.Component)
		if err != nil {
			return err
		}
		if out.err != nil {
			return fmt.Errorf("service %s: %w", s.Component, out.err)
		}
	}
	return nil
}

// serve starts, for c's cell of platform pl, the variant of that platform
// of each component served to it, and waits, for at most the service's
// wait, until its port answers. It returns their URLs as build args and a
// stop for the services it started. The URL's host is the service's
// digest: it stays the same, and so does the build's cache, while the served
// variant is unchanged.
func (r *run) serve(ctx context.Context, c component.Spec, pl dagger.Platform) (args []dagger.BuildArg, stop func(), err error) {
	var started []*dagger.Service
	stopAll := func() {
		for _, svc := range started {
			_, _ = svc.Stop(context.WithoutCancel(ctx))
		}
	}
	defer func() {
		if err != nil { // what started before the failure stops now
			stopAll()
		}
	}()
	for _, s := range c.Services {
		i := slices.IndexFunc(r.outs[s.Component].variants, func(v Variant) bool { return v.Platform == pl })
		if i < 0 { // the plan refuses a served component that lacks the platform
			return nil, nil, fmt.Errorf("service %s has no %s variant", s.Component, pl)
		}
		svc := r.outs[s.Component].variants[i].Container.WithExposedPort(s.Port).
			AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
		wctx, cancel := context.WithTimeout(ctx, s.Wait)
		svc, err := svc.Start(wctx)
		cancel()
		switch {
		case err != nil && wctx.Err() == context.DeadlineExceeded && ctx.Err() == nil:
			err = fmt.Errorf("service %s port %d did not answer within %s (check that %s serves on port %d, or raise wait: under services: in %s if it starts slowly)",
				s.Component, s.Port, s.Wait, s.Component, s.Port, path.Join(c.Dir, component.FileName))
		case err != nil:
			err = fmt.Errorf("service %s port %d: %w", s.Component, s.Port, err)
		}
		if err != nil {
			return nil, nil, err
		}
		started = append(started, svc)
		url, err := svc.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: s.Port, Scheme: "http"})
		if err != nil {
			return nil, nil, fmt.Errorf("service %s port %d: %w", s.Component, s.Port, err)
		}
		args = append(args, dagger.BuildArg{Name: s.Arg, Value: url})
	}
	return args, stopAll, nil
}

// Args are the component's args (component.yaml's, and those of
// --build-arg-file its Dockerfile declares) with ${VERSION} replaced, and
// the mirrors its Dockerfile declares; not the dependencies' image args.
func Args(c component.Spec, version string, mirrors map[string]string) []dagger.BuildArg {
	var out []dagger.BuildArg
	for _, a := range c.Args {
		v := strings.ReplaceAll(a.Value, "${VERSION}", version)
		if v == "" {
			continue // the API has no empty build arg: the Dockerfile default applies
		}
		out = append(out, dagger.BuildArg{Name: a.Name, Value: v})
	}
	for _, m := range component.Mirrors() {
		if v := mirrors[m]; v != "" && slices.Contains(c.Declared, m) {
			out = append(out, dagger.BuildArg{Name: m, Value: v})
		}
	}
	return out
}

// cells builds and verifies c on each supported platform and reports whether all verified.
func (r *run) cells(ctx context.Context, c component.Spec, args []dagger.BuildArg) ([]Variant, bool) {
	platforms, o := r.p.Platforms, r.o
	dir := o.Source // one directory for every cell of a shared context: uploaded once
	if c.Context != "." {
		dir = dir.Directory(c.Context)
	}
	req := Request{Component: c.Name, Dir: dir, Dockerfile: c.ContextDockerfile, Target: c.Target, Args: args}
	for _, id := range c.Secrets {
		s, ok := o.Secrets[id]
		if !ok {
			for _, pl := range platforms {
				if c.Supports(pl) {
					r.set(report.Cell{Component: c.Name, Platform: pl, Status: report.Failed, Step: "secrets",
						Error: fmt.Sprintf("%s %s: secret %q is not provided: pass it with --secret", c.Name, pl, id)})
				}
			}
			r.failed()
			return nil, false
		}
		req.Secrets = append(req.Secrets, s)
	}
	var supported []string
	for _, pl := range platforms {
		if c.Supports(pl) {
			supported = append(supported, pl)
		}
	}
	// Slots in the plan's platform order, whatever order the cells finish in.
	vs := make([]Variant, len(supported))
	verified := make([]bool, len(supported))
	cp := pool.New()
	for i, pl := range supported {
		cp.Go(func() {
			v, cell := r.cell(ctx, c, req, dagger.Platform(pl))
			if verified[i] = cell.Status == report.Verified; verified[i] {
				vs[i] = v
			} else {
				r.failed()
			}
		})
	}
	cp.Wait()
	if slices.Contains(verified, false) {
		return nil, false
	}
	return vs, true
}

// cell builds, verifies and measures one variant.
func (r *run) cell(ctx context.Context, c component.Spec, req Request, pl dagger.Platform) (_ Variant, cell report.Cell) {
	cell = report.Cell{Component: c.Name, Platform: string(pl), Status: report.Skipped, Image: c.Image}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		cell.Error = "not started: run cancelled"
		r.set(cell)
		return Variant{}, cell
	}
	// The cell's end is told before its slot frees, so the count of
	// running cells never exceeds --jobs.
	defer func() { <-r.sem }()
	defer func() { r.set(cell) }()
	if ctx.Err() != nil {
		cell.Error = "not started: run cancelled"
		return Variant{}, cell
	}
	t0 := time.Now()
	cell.Started = t0
	defer func() { cell.Ended = time.Now(); cell.Seconds = cell.Ended.Sub(t0).Seconds() }()
	r.emit(report.Event{Component: c.Name, Platform: string(pl), Kind: report.EventStarted})
	step := timer(&cell)
	ru := r.reuse(ctx, c, req, pl, &cell)
	ctr, err := ru.Container, error(nil)
	if ctr == nil {
		stop := func() {}
		if len(c.Services) > 0 {
			var served []dagger.BuildArg
			served, stop, err = r.serve(ctx, c, pl)
			step(report.StepServe)
			if err != nil {
				cell.Status, cell.Step, cell.Error = report.Failed, report.StepServe, fmt.Sprintf("%s %s: %v", c.Name, pl, err)
				return Variant{}, cell
			}
			req.Args = append(slices.Clone(req.Args), served...)
		}
		ctr, err = r.b.Container(req, pl).Sync(ctx)
		stop() // the build is done: nothing else reaches the services
	}
	step(report.StepBuild)
	if err != nil {
		buildFailed(&cell, c.Name, pl, err)
		if ctx.Err() != nil && cell.Command == "" {
			cell.Status, cell.Step, cell.Error = report.Skipped, "", fmt.Sprintf("%s %s: not finished: %v", c.Name, pl, context.Cause(ctx))
		}
		return Variant{}, cell
	}
	if ru.Key != "" {
		ctr = ctr.WithAnnotation(cellkey.Annotation, ru.Key)
	}
	if cell.Reused {
		r.emit(report.Event{Component: c.Name, Platform: string(pl), Kind: report.EventReused, Seconds: time.Since(t0).Seconds(), Reason: "from " + ru.From})
	} else {
		r.emit(report.Event{Component: c.Name, Platform: string(pl), Kind: report.EventBuilt, Seconds: time.Since(t0).Seconds()})
	}
	if c.Scratch && !cell.Reused { // a reused one was replatformed when built
		if ctr, err = r.b.Scratch(ctx, ctr, pl, c.Smoke); err != nil {
			failed(&cell, c.Name, pl, err)
			return Variant{}, cell
		}
	}
	err = verify.Variant(ctx, ctr, pl, c.Smoke)
	step(report.StepVerify)
	if err != nil {
		failed(&cell, c.Name, pl, err)
		return Variant{}, cell
	}
	if r.o.Sizes {
		if n, err := ctr.AsTarball().Size(ctx); err == nil {
			cell.SizeBytes = int64(n)
		}
		step(report.StepSize)
	}
	cell.Status = report.Verified
	return Variant{Platform: pl, Container: ctr, Args: req.Args}, cell
}

// reuse asks the Reuser, if any, for the cell's key and variant, and notes
// both in cell.
func (r *run) reuse(ctx context.Context, c component.Spec, req Request, pl dagger.Platform, cell *report.Cell) Reuse {
	if r.o.Reuser == nil {
		return Reuse{}
	}
	ru := r.o.Reuser.Reuse(ctx, c, r.b.withNative(req), pl)
	cell.Key, cell.Inputs, cell.From, cell.Reused = ru.Key, ru.Inputs, ru.From, ru.Container != nil
	return ru
}

// timer returns a function that records, in cell, the seconds since its
// last call (or since timer) as the named step.
func timer(cell *report.Cell) func(name string) {
	last := time.Now()
	return func(name string) {
		now := time.Now()
		cell.Steps = append(cell.Steps, report.Step{Name: name, Seconds: now.Sub(last).Seconds()})
		last = now
	}
}

// buildFailed records a failed build of the cell, with the failing step's
// command, exit code and output when the engine tells them: the message of
// a *dagger.ExecError alone names neither.
func buildFailed(cell *report.Cell, name string, pl dagger.Platform, err error) {
	cell.Status, cell.Step, cell.Error = report.Failed, "build", fmt.Sprintf("%s %s: %v", name, pl, err)
	var ee *dagger.ExecError
	if !errors.As(err, &ee) {
		return
	}
	out := ee.Stderr
	if strings.TrimSpace(out) == "" {
		out = ee.Stdout
	}
	cell.Command, cell.Output = strings.Join(ee.Cmd, " "), report.Tail(out, tailLines)
	if cell.Command != "" { // the command and its output have fields of their own
		cell.Error = fmt.Sprintf("%s %s: exit code %d", name, pl, ee.ExitCode)
	}
}

// tailLines is how much of a failed step's output a cell keeps.
const tailLines = 20

// failed records a verification failure of the cell: its step, command and
// output when err is a *verify.Failure.
func failed(cell *report.Cell, name string, pl dagger.Platform, err error) {
	cell.Status, cell.Step, cell.Error = report.Failed, "verify", fmt.Sprintf("%s %s: %v", name, pl, err)
	var f *verify.Failure
	if errors.As(err, &f) {
		cell.Step, cell.Command, cell.Output = f.Step, f.Command, f.Output
	}
}

func hasDependents(p *plan.Plan, name string) bool {
	for _, c := range p.Components {
		if slices.Contains(c.DependsOn, name) {
			return true
		}
	}
	return false
}
