package matrix

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"dagger.io/dagger"
	"github.com/sourcegraph/conc/pool"

	"github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/provenance"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/session"
)

// Engine is one engine session of a run and the platforms it builds.
type Engine struct {
	Host   string            // runner host, as given to --engine; "" is the default engine
	Runner string            // the default engine's runner host, when known (for reports)
	Client *dagger.Client    // a session on it
	Src    *dagger.Directory // the components directory, on Client
}

// Name is how reports and messages name the engine.
func (e Engine) Name() string {
	switch {
	case e.Host != "":
		return e.Host
	case e.Runner != "":
		return e.Runner
	}
	return "default"
}

// Hosts are the engines a run needs: "" (the default) for every planned
// platform --engine does not name, then each named runner host once.
func (r *Run) Hosts() []string {
	var out []string
	for _, pl := range r.Plan.Platforms {
		if h := r.Options.Run.Engines[pl]; !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// Open joins a session on each engine the run needs (Hosts), each given
// the part of the run's tree, one of this machine (LocalTree), that the run
// uploads. log hears the engines' progress, and end closes the sessions
// (errw hears of a close that hangs).
func (r *Run) Open(ctx context.Context, log, errw io.Writer) (engines []Engine, end func(), err error) {
	end = func() {
		for _, e := range engines {
			session.Close(e.Client, errw)
		}
	}
	for _, host := range r.Hosts() {
		dc, err := session.Open(ctx, host, log)
		if err != nil {
			end()
			return nil, nil, err
		}
		engines = append(engines, Engine{Host: host, Runner: os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST"),
			Client: dc, Src: dc.Host().Directory(Path(r.tree, r.Upload), dagger.HostDirectoryOpts{Exclude: r.Exclude})})
	}
	return engines, end, nil
}

// leg is what one engine built: its platforms' plan and variants.
type leg struct {
	engine   Engine
	builder  *builder.Builder // knows the engine's own platform
	plan     *plan.Plan
	variants map[string][]builder.Variant
}

// Build builds and verifies every cell of the plan, each platform on its
// engine (one per entry of Hosts, in that order; one engine builds it all).
// A dependent builds on the engine that built its dependency's variant of
// the same platform, FROM that variant. The report holds every cell in plan
// order, and, with several engines or --push-by-digest, where each ran.
func (r *Run) Build(ctx context.Context, engines []Engine) (*Result, error) {
	legs, err := r.legs(ctx, engines)
	if err != nil {
		return nil, err
	}
	res := &Result{Report: &report.Report{Version: r.Options.Run.Version, Revision: r.Options.Run.Revision, Created: r.Options.Run.Created, Platforms: r.Plan.Platforms},
		Variants: map[string][]builder.Variant{}, legs: legs}
	where := len(legs) > 1 || r.Options.Push.Mode == PushByDigest
	wg := pool.New().WithErrors()
	reports := make([]*report.Report, len(legs))
	for i, l := range legs {
		wg.Go(func() error {
			built, err := r.buildOn(ctx, l)
			reports[i] = built
			return err
		})
	}
	if err := wg.Wait(); err != nil {
		return nil, err
	}
	// One report, in the plan's cell order.
	for _, c := range r.Plan.Cells {
		for i, l := range legs {
			cell, ok := reports[i].Get(c.Component, c.Platform) // only in its engine's report
			if !ok {
				continue
			}
			if where {
				cell.Engine, cell.Native = l.engine.Name(), string(l.builder.Native())
			}
			res.Report.Set(cell)
		}
	}
	for _, c := range r.Plan.Components {
		var vs []builder.Variant
		for _, pl := range r.Plan.Platforms {
			for _, l := range legs {
				for _, v := range l.variants[c.Name] {
					if string(v.Platform) == pl {
						vs = append(vs, v)
					}
				}
			}
		}
		res.Variants[c.Name] = vs
	}
	for i, rep := range reports {
		res.Report.Seconds = max(res.Report.Seconds, rep.Seconds)
		if res.Report.Started.IsZero() || rep.Started.Before(res.Report.Started) {
			res.Report.Started = rep.Started
		}
		res.Report.Phases = append(res.Report.Phases, rep.Phases...)
		res.Report.Engines = append(res.Report.Engines, report.EngineInfo{Name: legs[i].engine.Name(), Platform: string(legs[i].builder.Native())})
	}
	r.shape(res.Report)
	if r.Options.Run.Lint != "off" {
		res.Report.Lint = r.findings
	}
	return res, res.Report.Err()
}

// legs splits the plan's platforms over the engines, probing each for its
// own platform and warning when a platform it gets would run emulated.
func (r *Run) legs(ctx context.Context, engines []Engine) ([]*leg, error) {
	hosts := r.Hosts()
	if len(engines) != len(hosts) {
		return nil, fmt.Errorf("the run needs %d engine(s) (%s), was given %d", len(hosts), strings.Join(hosts, ", "), len(engines))
	}
	var out []*leg
	for i, e := range engines {
		var platforms []string
		for _, pl := range r.Plan.Platforms {
			if r.Options.Run.Engines[pl] == hosts[i] {
				platforms = append(platforms, pl)
			}
		}
		b, err := builder.New(ctx, e.Client, r.Options.Run.Jobs)
		if err != nil {
			return nil, fmt.Errorf("engine %s: %w", e.Name(), err)
		}
		if len(engines) > 1 {
			for _, pl := range platforms {
				if pl != string(b.Native()) && r.Options.Notify != nil {
					r.Options.Notify(fmt.Sprintf("warning: engine %s is %s: its %s cells run emulated", e.Name(), b.Native(), pl))
				}
			}
		}
		p, err := plan.New(r.Plan.Components, platforms, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, &leg{engine: e, builder: b, plan: p})
	}
	return out, nil
}

// buildOn builds one engine's cells.
func (r *Run) buildOn(ctx context.Context, l *leg) (*report.Report, error) {
	o, c := r.Options.Run, l.engine.Client
	bo := builder.Options{Source: l.engine.Src, Version: o.Version, Mirrors: o.Mirrors, FailFast: o.FailFast, Sizes: o.Sizes,
		Secrets: map[string]*dagger.Secret{}, Events: r.Options.Events}
	for id, v := range o.Secrets {
		bo.Secrets[id] = c.SetSecret(id, v)
	}
	// Only the default engine's stage registry is known to be this
	// process's too; with several engines, each stages its platforms under a
	// tag of their own.
	s := publish.Stager{Client: c, Registry: o.StageRegistry, ReadBack: o.StageReadBack && l.engine.Host == ""}
	if len(o.Engines) > 0 {
		s.Tag = publish.StageTag + "-" + strings.ReplaceAll(strings.Join(l.plan.Platforms, "-"), "/", "-")
	}
	// A dependent would otherwise learn of a dead stage registry only after
	// its dependency built, minutes in.
	if deps := dependents(l.plan); len(deps) > 0 {
		if err := s.Check(ctx); err != nil {
			return nil, fmt.Errorf("engine %s: %s build FROM this run's variants through the stage registry: %w; %s",
				l.engine.Name(), strings.Join(deps, ", "), err, StageFix)
		}
	}
	bo.Stager, bo.Reuser = s, r.reuser(ctx, c)
	built := l.builder.All(ctx, l.plan, bo)
	l.variants = built.Variants
	return built.Report, nil
}

// pushLegs pushes every engine's variants by digest, each from its engine.
func (r *Run) pushLegs(ctx context.Context, t publish.Target, res *Result) error {
	wg := pool.New().WithErrors()
	for _, l := range res.legs {
		wg.Go(func() error { return publish.ByDigest(ctx, l.engine.Client, t, l.plan, l.variants, res.Report) })
	}
	return wg.Wait()
}

// digests are the pushed digests of a report, by component and platform.
func digests(r *report.Report) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, c := range r.Snapshot() {
		if c.Digest == "" {
			continue
		}
		if out[c.Component] == nil {
			out[c.Component] = map[string]string{}
		}
		out[c.Component][c.Platform] = c.Digest
	}
	return out
}

// shape records the run's inputs and the plan's edges in rep, for its timeline.
func (r *Run) shape(rep *report.Report) {
	rep.Matrix, rep.Jobs = provenance.Version(), r.Options.Run.Jobs
	rep.Edges = append(rep.Edges, r.Plan.Edges...)
}
