// Package matrix is the facade over the run steps (spec, plan, build, verify,
// publish, export, report) that both entry points call: the host CLI in
// cmd/matrix and the Dagger module in ci/. Neither holds pipeline logic.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"dagger.io/dagger"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// DefaultPlatforms are built when none are asked for.
var DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}

// Config is one run's input.
type Config struct {
	ComponentsDir string            // where component specs are read (a local path)
	Source        *dagger.Directory // the same directory in the engine; nil: uploaded from ComponentsDir
	Platforms     []string
	Components    []string // empty: all
	Jobs          int      // cells at once; 0: one per core
	FailFast      bool
	Version       string
	Mirrors       map[string]string
	Secrets       map[string]*dagger.Secret
	StageRegistry string // where dependencies are staged for their dependents
	StageAuth     publish.Auth
	StageReadBack bool // the stage check also reads back from this process (the host CLI)
	Sizes         bool
	MaxContext    int64 // largest build context per component; 0: component.DefaultMaxContext
}

// BadInput marks errors in specs, flags or references: nothing was started.
type BadInput struct{ Err error }

func (e *BadInput) Error() string { return e.Err.Error() }
func (e *BadInput) Unwrap() error { return e.Err }

// IsBadInput reports whether err is a *BadInput.
func IsBadInput(err error) bool {
	var b *BadInput
	return errors.As(err, &b)
}

// Unreachable marks an engine or registry that does not answer: exit 3.
type Unreachable struct{ Err error }

func (e *Unreachable) Error() string { return e.Err.Error() }
func (e *Unreachable) Unwrap() error { return e.Err }

// IsUnreachable reports whether err is an *Unreachable.
func IsUnreachable(err error) bool {
	var u *Unreachable
	return errors.As(err, &u)
}

// StageFix is how to get a stage registry the engine and matrix both reach.
const StageFix = "start the engine with a stage registry beside it (`ci/world/docker.sh up` with Docker, " +
	"`ci/world/up.sh` air-gapped), or pass --stage-registry HOST:PORT of a registry the engine reaches"

// Plan reads the specs and plans the run; it needs no engine.
func Plan(cfg Config) (*plan.Plan, error) {
	platforms := cfg.Platforms
	if len(platforms) == 0 {
		platforms = DefaultPlatforms
	}
	// Checked here, not only by the CLI's flag parser: the module passes
	// its arguments straight in.
	if _, err := component.ParsePlatforms(strings.Join(platforms, ",")); err != nil {
		return nil, &BadInput{fmt.Errorf("--platforms: %w", err)}
	}
	comps, err := component.Load(cfg.ComponentsDir)
	if err != nil {
		return nil, &BadInput{err}
	}
	p, err := plan.New(comps, platforms, cfg.Components)
	if err != nil {
		return nil, &BadInput{err}
	}
	for _, c := range p.Components {
		if err := component.CheckContext(c, cfg.MaxContext); err != nil {
			return nil, &BadInput{err}
		}
	}
	return p, nil
}

// BuildAll plans, then builds and verifies every cell. A failed cell is in
// the report, not in the error; the error is for bad input and the engine.
func BuildAll(ctx context.Context, c *dagger.Client, cfg Config) (*plan.Plan, *builder.Result, error) {
	p, err := Plan(cfg)
	if err != nil {
		return nil, nil, err
	}
	res, err := buildPlan(ctx, c, cfg, p)
	return p, res, err
}

// buildPlan builds and verifies the cells of an already checked plan.
func buildPlan(ctx context.Context, c *dagger.Client, cfg Config, p *plan.Plan) (*builder.Result, error) {
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	b, err := builder.New(ctx, c, jobs)
	if err != nil {
		return nil, err
	}
	src := cfg.Source
	if src == nil {
		src = c.Host().Directory(cfg.ComponentsDir)
	}
	o := builder.Options{Source: src, Version: versionOr(cfg.Version), Mirrors: cfg.Mirrors, Secrets: cfg.Secrets, FailFast: cfg.FailFast, Sizes: cfg.Sizes}
	if cfg.StageRegistry != "" {
		s := publish.Stager{Client: c, Registry: cfg.StageRegistry, Auth: cfg.StageAuth, ReadBack: cfg.StageReadBack}
		// A dependent would otherwise learn of a dead stage registry only
		// after its dependency built, minutes in.
		if deps := dependents(p); len(deps) > 0 {
			if err := s.Check(ctx); err != nil {
				return nil, &Unreachable{fmt.Errorf("%s build FROM this run's variants through the stage registry: %w; %s",
					strings.Join(deps, ", "), err, StageFix)}
			}
		}
		o.Stager = s
	}
	return b.All(ctx, p, o), nil
}

// dependents lists the planned components that build FROM another one.
func dependents(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Components {
		if len(c.DependsOn) > 0 {
			out = append(out, c.Name)
		}
	}
	return out
}

// Publish builds every cell and, only when all verified, publishes one index
// per component and moves the final tags (see publish.Run).
func Publish(ctx context.Context, c *dagger.Client, cfg Config, t publish.Target) (*report.Report, error) {
	if err := t.Validate(); err != nil {
		return nil, &BadInput{err}
	}
	p, err := Plan(cfg) // bad input is reported before an unreachable registry
	if err != nil {
		return nil, err
	}
	if err := t.Ping(ctx); err != nil {
		return nil, &Unreachable{fmt.Errorf("%w; start it, or check --registry", err)}
	}
	res, err := buildPlan(ctx, c, cfg, p)
	if err != nil {
		return nil, err
	}
	if !res.Report.OK() {
		res.Report.Error = "nothing published"
		return res.Report, nil
	}
	if t.Jobs == 0 {
		t.Jobs = cfg.Jobs
	}
	if err := publish.Run(ctx, c, t, p, res.Variants, res.Report); err != nil {
		res.Report.Error = err.Error()
	}
	return res.Report, nil
}

// Export builds every cell and, only when all verified, writes one OCI
// archive per component and SHA256SUMS into dir.
func Export(ctx context.Context, c *dagger.Client, cfg Config, dir string) (*report.Report, []export.Archive, error) {
	p, res, err := BuildAll(ctx, c, cfg)
	if err != nil {
		return nil, nil, err
	}
	if !res.Report.OK() {
		res.Report.Error = "nothing exported"
		return res.Report, nil, nil
	}
	archives, err := export.Write(ctx, c, p, res.Variants, versionOr(cfg.Version), dir)
	if err != nil {
		res.Report.Error = err.Error()
	}
	return res.Report, archives, nil
}

func versionOr(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}
