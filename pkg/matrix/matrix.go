// Package matrix is the facade over the run steps (component, plan, builder,
// verify, publish, export, report) that both entry points call: the host CLI
// in cmd/matrix and the Dagger module in ci/. Neither holds pipeline logic:
// each parses its arguments into Options (a run, a push, attestation), calls
// New (Inspect for plan and lint), then one verb.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// StageFix is how to get a stage registry the engine and matrix both reach.
const StageFix = "start the engine with a stage registry beside it (`ci/world/docker.sh up` with Docker, " +
	"`ci/world/up.sh` air-gapped), or pass --stage-registry HOST:PORT of a registry the engine reaches"

// Run is a checked run: valid options and the plan of the specs they select.
type Run struct {
	Options    Options
	Plan       *plan.Plan
	ThirdParty *mirror.List // third-party.yaml beside the components; nil when there is none
	// Upload is what each engine gets, inside the tree: the shared build
	// context, or the components directory (see Engine.Src).
	Upload string
	// Exclude is what of Upload no cell's context keeps (every
	// .dockerignore drops it): the CLI leaves it out of the upload.
	Exclude  []string
	tree     component.Tree // the specs' tree: Open uploads from it
	findings []lint.Finding // at the run's severity or above, found once in New
}

// New validates opts, reads the specs from the tree t (the components
// directory and, with a shared context, what holds it), checks each planned
// cell's build context and build args, lints the Dockerfiles and plans. All
// bad input, and lint findings under --lint error, are found here, before
// any build; a local tree needs no engine. The notes on the tree go to
// opts.Notify.
func New(opts Options, t component.Tree) (*Run, error) {
	r, err := Inspect(opts, t)
	if err != nil {
		return nil, err
	}
	r.notes()
	if fs := r.findings; r.Options.Run.Lint == "error" && len(fs) > 0 {
		var b strings.Builder
		_ = lint.Write(&b, fs, "table") // a strings.Builder does not fail
		return nil, class.Failed.Errorf("%slint: --lint error and %d finding(s) at %s or above, nothing built; fix them, "+
			"or give the reason a rule does not apply under lint.ignore in component.yaml", b.String(), len(fs), r.Options.Run.Severity)
	}
	return r, nil
}

// Inspect is New for the verbs that build nothing, plan and lint: the run
// is checked and planned, its notes stay in the plan and its lint findings
// do not fail it.
func Inspect(opts Options, t component.Tree) (*Run, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := &opts.Run
	set, err := component.Load(t)
	if err != nil {
		return nil, err
	}
	p, err := plan.New(set.Specs, o.Platforms, o.Components)
	if err != nil {
		return nil, err
	}
	if err := o.checkRebuild(p); err != nil {
		return nil, err
	}
	if err := o.inputs(set, p); err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	exclude, n, err := set.Excluded(p.Components)
	if o.UploadedWhole {
		exclude = nil
		n, err = set.UploadBytes()
	}
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	p.Upload = &plan.Upload{Dir: t.Name(set.Upload), Shared: set.Shared(), Bytes: n}
	p.Notes = set.Notes
	r := &Run{Options: opts, Plan: p, Upload: set.Upload, Exclude: exclude, tree: t, findings: findings(p, o.Severity)}
	comps, err := t.Sub(path.Clean("./" + t.Components))
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	if r.ThirdParty, err = thirdParty(comps, t.Name(path.Clean("./"+t.Components))); err != nil {
		return nil, err
	}
	return r, nil
}

// Result is what a verb did: the report of every cell, the verified
// variants, and what was published (in Report.Indexes) or exported.
type Result struct {
	Report     *report.Report
	Variants   map[string][]builder.Variant
	Archives   []export.Archive
	ThirdParty []bundle.Entry // the third-party archives an export wrote
	legs       []*leg         // what each engine built
}

// BuildAll builds and verifies every cell of the plan from src, the
// components directory in the engine. A failed cell fails it (class.Failed);
// the result is there either way.
func (r *Run) BuildAll(ctx context.Context, c *dagger.Client, src *dagger.Directory) (*Result, error) {
	return r.BuildOn(ctx, []Engine{{Client: c, Src: src}})
}

// BuildOn is BuildAll on the run's engines (see Build); under
// --push-by-digest it then pushes every variant by digest, moving no tag,
// and the report's cells carry the digests a merge assembles.
func (r *Run) BuildOn(ctx context.Context, engines []Engine) (*Result, error) {
	byDigest := r.Options.Push.Mode == PushByDigest
	var t publish.Target
	if byDigest {
		t = r.pushTarget(ctx)
		if err := t.Ping(ctx); err != nil {
			return nil, err
		}
	}
	res, err := r.Build(ctx, engines)
	if err != nil || !byDigest {
		return res, err
	}
	defer phase(res.Report, "push")()
	if err := r.pushLegs(ctx, t, res); err != nil {
		return res, class.Failed.Errorf("pushing by digest: %w", err)
	}
	r.record(ctx, res.Report)
	return res, nil
}

// OneImage refuses name where one image is wanted (the variants of one,
// such as the module's build-component) when it names a component that
// gives several (images: in its component.yaml).
func (r *Run) OneImage(name string) error {
	if _, ok := r.Plan.Component(name); ok {
		return nil
	}
	var images []string
	for _, c := range r.Plan.Components {
		if c.Component() == name {
			images = append(images, c.Name)
		}
	}
	return class.BadInput.Errorf("%s gives several images (%s); name one as component/image", name, strings.Join(images, ", "))
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
func (r *Run) Publish(ctx context.Context, c *dagger.Client, src *dagger.Directory) (*Result, error) {
	return r.PublishOn(ctx, []Engine{{Client: c, Src: src}})
}

// PublishOn is Publish on the run's engines. With one engine, each index is
// one Publish call of its variants; with several, each engine pushes its
// variants by digest and the indexes are assembled from the digests (as a
// merge does), under the same rule: no final tag moves until every index is
// in the registry and read back.
func (r *Run) PublishOn(ctx context.Context, engines []Engine) (*Result, error) {
	if err := r.Options.Push.tagged("publish"); err != nil {
		return nil, err
	}
	t := r.pushTarget(ctx)
	if err := t.Ping(ctx); err != nil {
		return nil, err
	}
	res, err := r.Build(ctx, engines)
	if err != nil {
		return res, withCause(err, "nothing published")
	}
	defer phase(res.Report, "publish")()
	defer r.record(ctx, res.Report)
	defer reused(res.Report)
	if len(res.legs) > 1 {
		if err := r.pushLegs(ctx, t, res); err != nil {
			return res, class.Failed.Errorf("no final tag was changed: %w", err)
		}
		if err := publish.Merge(ctx, t, r.Plan, digests(res.Report), res.Report); err != nil {
			return res, class.Failed.Wrap(err)
		}
		return res, nil
	}
	if err := publish.Run(ctx, engines[0].Client, t, r.Plan, res.Variants, res.Report); err != nil {
		return res, class.Failed.Wrap(err)
	}
	return res, nil
}

// Export builds every cell and, only when all verified, writes one OCI
// archive per component and SHA256SUMS into dir.
func (r *Run) Export(ctx context.Context, c *dagger.Client, src *dagger.Directory, dir string) (*Result, error) {
	if err := OneEngine(len(r.Options.Run.Engines)); err != nil {
		return nil, err
	}
	res, err := r.BuildAll(ctx, c, src)
	if err != nil {
		return res, withCause(err, "nothing exported")
	}
	if res.Archives, err = export.Write(ctx, c, r.Plan, res.Variants, r.Options.Run.Version, dir); err != nil {
		return res, class.Failed.Wrap(err)
	}
	if r.ThirdParty == nil || r.Options.Run.NoThirdParty {
		return res, nil
	}
	// The upstream indexes, unchanged, beside the components' archives.
	if res.ThirdParty, err = bundle.WriteThirdParty(ctx, r.ThirdParty, r.Options.Run.Platforms, dir,
		mirror.Upstreams(ctx, r.Options.Push.Retry, r.Options.Run.UpstreamVia)...); err != nil {
		return res, class.Failed.Errorf("third-party images (%s): %w; --no-third-party leaves them out", r.ThirdParty.File, err)
	}
	entries := make([]bundle.Entry, 0, len(res.Archives)+len(res.ThirdParty))
	for _, a := range res.Archives {
		entries = append(entries, a.Entry)
	}
	if err := bundle.Write(dir, append(entries, res.ThirdParty...)); err != nil {
		return res, class.Failed.Wrap(err)
	}
	return res, nil
}

// thirdParty reads the list of third-party images beside the components, if
// there is one.
func thirdParty(fsys fs.FS, where string) (*mirror.List, error) {
	data, err := fs.ReadFile(fsys, mirror.ListName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	file := path.Join(where, mirror.ListName)
	if err != nil {
		return nil, class.BadInput.Errorf("%s: %w", file, err)
	}
	return mirror.Parse(file, data)
}

// phase records in rep, when the returned function is called, a phase of
// the run that began now.
func phase(rep *report.Report, name string) func() {
	t0 := time.Now()
	return func() { rep.AddPhase(report.Phase{Name: name, Started: t0, Ended: time.Now()}) }
}

// reused marks the cells of every index a publish found already in place.
func reused(rep *report.Report) {
	done := map[string]bool{}
	for _, ix := range rep.Indexes {
		done[ix.Component] = ix.Reused
	}
	for _, c := range rep.Snapshot() {
		if done[c.Component] && c.Status == report.Verified {
			c.Reused = true
			rep.Set(c)
		}
	}
}

// withCause says what a failed build prevented, keeping the error's class.
func withCause(err error, what string) error {
	if class.Of(err) == class.Failed {
		return class.Failed.Errorf("%w; %s", err, what)
	}
	return err
}

// Findings are the lint findings of the planned components, at the run's
// severity or above.
func (r *Run) Findings() []lint.Finding { return r.findings }

func findings(p *plan.Plan, severity string) []lint.Finding {
	min, _ := lint.ParseSeverity(severity)
	var all []lint.Finding
	seen := map[string]bool{} // the images of a component share its Dockerfile and its findings
	for _, c := range p.Components {
		if !seen[c.Component()] {
			all = append(all, c.Lint...)
		}
		seen[c.Component()] = true
	}
	return lint.AtLeast(all, min)
}

// LintDir lints every Dockerfile of fsys (Dockerfile, *.Dockerfile,
// Dockerfile.*), components or not; where names fsys in findings. A
// Dockerfile that cannot be read or parsed is bad input; findings at
// severity or above fail it.
func LintDir(fsys fs.FS, where, severity string) ([]lint.Finding, error) {
	if severity == "" {
		severity = lint.DefaultSeverity.String()
	}
	min, err := lint.ParseSeverity(severity)
	if err != nil {
		return nil, fmt.Errorf("--severity: %w", err)
	}
	found, err := lint.Dir(fsys, where)
	if err != nil {
		return nil, err
	}
	out := lint.AtLeast(found, min)
	return out, lintFailed(out, severity)
}

// Lint is the lint verb over the planned components: their findings at the
// run's severity or above, and a failed run when there are any.
func (r *Run) Lint() ([]lint.Finding, error) {
	r.notes()
	fs := r.Findings()
	return fs, lintFailed(fs, r.Options.Run.Severity)
}

// notes tells Notify what the tree holds that is not a component (a plan
// shows them in its table instead).
func (r *Run) notes() {
	if r.Options.Notify == nil {
		return
	}
	for _, n := range r.Plan.Notes {
		r.Options.Notify("note: " + n)
	}
}

func lintFailed(findings []lint.Finding, severity string) error {
	if len(findings) == 0 {
		return nil
	}
	return class.Failed.Errorf("lint: %d finding(s) at %s or above", len(findings), severity)
}

// Requested counts the cells of the plan that will be built.
func (r *Run) Requested() int {
	n := 0
	for _, c := range r.Plan.Cells {
		if c.Status == plan.Planned {
			n++
		}
	}
	return n
}
