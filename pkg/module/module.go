// Package module is the core's side of the Dagger module (ci/): the
// module declares its arguments and hands them over, as objects of this
// package's own client, and a Call reads them, runs the core and returns
// what `dagger call` prints, its error in its class. So the module binds
// only, and what it does is code of the core, beside the CLI's.
package module

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	core "github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/source"
)

// Inputs are the module's run-wide arguments, those of its New, named as
// the CLI's global flags. A nil object was not given.
type Inputs struct {
	Source         *dagger.Directory // --source, the whole tree with its .git
	ComponentsPath string            // inside --source
	ComponentsDir  *dagger.Directory // without --source
	OwnComponents  *dagger.Directory // the module's own, built without either
	BuildArgFiles  []*dagger.File
	Mirrors        map[string]string // build arg: URL
	MaxContext     int
	Secrets        []*dagger.Secret
	SecretIDs      []string // one per secret, in the same order
	LintMode       string   // --lint: warn, error or off
	Severity       string
	SyftImage      string

	Registry, Username string
	Password           *dagger.Secret
	RegistryService    *dagger.Service // a registry on the caller's loopback
	SignKey            *dagger.Secret
}

// Call is one function call of the module: its inputs, on the client it
// joined the engine session with.
type Call struct {
	Inputs
	Client *dagger.Client
	Log    io.Writer // the function's log (its stderr)
}

// notify writes a run's messages to the function's log.
func (c *Call) notify(msg string) { fmt.Fprintln(c.Log, "matrix:", msg) }

// Init adopts --source (see core.Init) and returns the files to export into
// it; what it found and wrote goes to the log.
func (c *Call) Init(ctx context.Context, force bool) (*dagger.Directory, error) {
	if c.Source == nil {
		return nil, Classify(class.BadInput.Errorf("init adopts the tree given with --source: dagger call --source . init export --path ."))
	}
	out := c.Client.Directory()
	res, err := core.Init(component.EngineFS(ctx, c.Source), ".", c.ComponentsPath, force, func(p string, data []byte) error {
		out = out.WithNewFile(p, string(data))
		return nil
	})
	if res != nil && res.Changes != nil {
		if rerr := res.Report(c.Log); rerr != nil {
			return nil, rerr
		}
	}
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// Lint lints dir, when given, else the components of the tree, and fails
// with the findings when any counts.
func (c *Call) Lint(ctx context.Context, dir *dagger.Directory, components []string, format string) (string, error) {
	if format != "table" && format != "json" {
		return "", Classify(class.BadInput.Errorf("--format %q: use table or json", format))
	}
	var findings []lint.Finding
	var err error
	if dir != nil {
		findings, err = core.LintDir(component.EngineFS(ctx, dir), "dir", c.Severity)
	} else {
		s, serr := c.session(ctx, core.Options{Run: core.RunOptions{Components: components}}, core.Inspect)
		if serr != nil {
			return "", serr
		}
		findings, err = s.run.Lint()
	}
	if class.Of(err) == class.BadInput {
		return "", Classify(err)
	}
	var b strings.Builder
	if werr := lint.Write(&b, findings, format); werr != nil {
		return "", werr
	}
	if err != nil {
		return "", fmt.Errorf("%s%w", b.String(), err) // the findings end with their newline
	}
	return b.String(), nil
}

// Plan writes the cells of o as a table, JSON or a Graphviz graph (dot).
func (c *Call) Plan(ctx context.Context, o core.RunOptions, format string) (string, error) {
	if format != "table" && format != "json" && format != "dot" {
		return "", Classify(class.BadInput.Errorf("--format %q: use table or json (plan also takes dot)", format))
	}
	s, err := c.session(ctx, core.Options{Run: o}, core.Inspect)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = s.run.Plan.Write(&b, format)
	return b.String(), err
}

// BuildComponent builds the one component (or component/image) of o and
// returns its verified variants, in platform order.
func (c *Call) BuildComponent(ctx context.Context, o core.RunOptions) ([]*dagger.Container, error) {
	s, err := c.session(ctx, core.Options{Run: o}, core.New)
	if err != nil {
		return nil, err
	}
	if err := s.run.OneImage(o.Components[0]); err != nil {
		return nil, Classify(err)
	}
	res, err := s.run.BuildAll(ctx, c.Client, s.src)
	if _, err := Outcome(res, err); err != nil {
		return nil, err
	}
	var out []*dagger.Container
	for _, v := range res.Variants[o.Components[0]] {
		out = append(out, v.Container)
	}
	return out, nil
}

// Build builds and verifies every cell of o, as build-all, verify and
// report do. It binds no push options: build-all, which may push, binds them first.
func (c *Call) Build(ctx context.Context, o core.Options) (*core.Result, error) {
	s, err := c.session(ctx, o, core.New)
	if err != nil {
		return nil, err
	}
	return s.run.BuildAll(ctx, c.Client, s.src)
}

// BuildAll is build-all: the report's table, or with --push-by-digest,
// results.json for merge, whose created time comes from checkout's history.
func (c *Call) BuildAll(ctx context.Context, o core.Options, checkout *dagger.Directory) (string, error) {
	if o.Push.Mode != core.PushByDigest {
		checkout = nil // only a leg pushed by digest needs the commit time
	}
	done, err := c.push(ctx, &o, checkout)
	if err != nil {
		return "", err
	}
	defer done()
	res, err := c.Build(ctx, o)
	if o.Push.Mode != core.PushByDigest || err != nil {
		return Outcome(res, err)
	}
	return Text(res.Report.File("results.json").Write, nil)
}

// Report is the report of a build-all of o as the files a CI job keeps, and
// exit-code: failed cells do not fail it, bad input and an unreachable
// engine or registry do.
func (c *Call) Report(ctx context.Context, o core.Options) (*dagger.Directory, error) {
	res, err := c.Build(ctx, o)
	if res == nil {
		return nil, Classify(err)
	}
	dir := c.Client.Directory()
	for _, f := range res.Report.Files() {
		var b strings.Builder
		if werr := f.Write(&b); werr != nil {
			return nil, fmt.Errorf("writing %s: %w", f.Name, werr)
		}
		dir = dir.WithNewFile(f.Name, b.String())
	}
	return dir.WithNewFile("exit-code", fmt.Sprintf("%d\n", class.Of(err))), nil
}

// Render draws the HTML page of a JSON report, marking what changed since
// previous, when given.
func (c *Call) Render(ctx context.Context, rep, previous *dagger.File) (*dagger.File, error) {
	data, err := rep.Contents(ctx)
	if err != nil {
		return nil, Classify(class.BadInput.Errorf("--report: %w", err))
	}
	var prev []byte
	if previous != nil {
		p, err := previous.Contents(ctx)
		if err != nil {
			return nil, Classify(class.BadInput.Errorf("--previous: %w", err))
		}
		prev = []byte(p)
	}
	var b strings.Builder
	if err := core.Render(&b, []byte(data), "--report", prev, "--previous"); err != nil {
		return nil, Classify(err)
	}
	return c.Client.Directory().WithNewFile("report.html", b.String()).File("report.html"), nil
}

// Publish publishes o; floating tags check descent in checkout's history,
// and the revision defaults to its HEAD.
func (c *Call) Publish(ctx context.Context, o core.Options, checkout *dagger.Directory) (string, error) {
	done, err := c.push(ctx, &o, checkout)
	if err != nil {
		return "", err
	}
	defer done()
	if o.Run.Revision == "" {
		o.Run.Revision, _ = source.Checkout{Dir: o.Push.Checkout}.Revision(ctx) // no commit: no revision, and floating tags keep theirs
	}
	s, err := c.session(ctx, o, core.New)
	if err != nil {
		return "", err
	}
	return Outcome(s.run.Publish(ctx, c.Client, s.src))
}

// Merge assembles the indexes of o from the legs' results files in
// results; floating tags check descent in checkout's history.
func (c *Call) Merge(ctx context.Context, o core.Options, results, checkout *dagger.Directory) (string, error) {
	done, err := c.push(ctx, &o, checkout)
	if err != nil {
		return "", err
	}
	defer done()
	legs, err := core.ReadLegsFS(component.EngineFS(ctx, results), "--results")
	if err != nil {
		return "", Classify(err)
	}
	s, err := c.session(ctx, o, core.New)
	if err != nil {
		return "", err
	}
	return Outcome(s.run.Merge(ctx, legs))
}

// Export builds and verifies o and returns the bundle: one OCI archive per
// component and per third-party image, bundle.json and SHA256SUMS.
// upstream, when given, is the upstream registry as a service.
func (c *Call) Export(ctx context.Context, o core.Options, upstream *dagger.Service) (*dagger.Directory, error) {
	var err error
	if o.Run.UpstreamVia, err = endpoint(ctx, upstream, "--upstream-service"); err != nil {
		return nil, err
	}
	s, err := c.session(ctx, o, core.New)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "matrix-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	res, err := s.run.Export(ctx, c.Client, s.src, tmp)
	if _, err := Outcome(res, err); err != nil {
		return nil, err
	}
	return export.Directory(c.Client, res.Archives, res.ThirdParty, tmp).Sync(ctx) // before tmp goes
}

// Mirror copies the third-party images of third-party.yaml, beside the
// components, into the registry; upstream as Export's.
func (c *Call) Mirror(ctx context.Context, tags, platforms []string, upstream *dagger.Service) (string, error) {
	t, err := c.target(ctx, tags)
	if err != nil {
		return "", err
	}
	upVia, err := endpoint(ctx, upstream, "--upstream-service")
	if err != nil {
		return "", err
	}
	root, tree, _, err := c.tree()
	if err != nil {
		return "", Classify(err)
	}
	list, err := root.File(path.Join(cmp.Or(tree.Components, "."), mirror.ListName)).Contents(ctx)
	if err != nil {
		return "", Classify(class.BadInput.Errorf("--components-dir: no %s to mirror from: write one beside the components (%w)", mirror.ListName, err))
	}
	r, err := core.MirrorList(ctx, "--components-dir "+mirror.ListName, []byte(list), platforms, t, upVia, nil)
	if r == nil {
		return "", Classify(err)
	}
	return Text(r.Table, err)
}

// Import pushes the offline bundle b into the registry. The bundle is
// written out first: it is large and binary, and the engine's file reader
// returns contents as strings.
func (c *Call) Import(ctx context.Context, b *dagger.Directory, tags []string) (string, error) {
	t, err := c.target(ctx, tags)
	if err != nil {
		return "", err
	}
	dir, err := exported(ctx, b, "matrix-bundle-")
	if err != nil {
		return "", fmt.Errorf("--bundle: %w", err)
	}
	defer os.RemoveAll(dir)
	res, err := core.Import(ctx, bundle.Dir{Path: dir, Name: "--bundle"}, t, nil)
	if res == nil {
		return Text(nil, err)
	}
	return Text(res.Table, err)
}
