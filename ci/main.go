// Matrix builds every AI-Infra-Matrix component for every platform, verifies
// each cell (image config platform, smoke command), and publishes one
// multi-platform OCI index per component.
//
// The functions are thin: they bind their arguments into the core's
// Options, join the running session with the standalone SDK and call the
// same core package as the host CLI (cmd/matrix).
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	sdk "dagger.io/dagger"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"dagger/matrix/internal/dagger"

	bundles "github.com/ai-infra-matrix/matrix/pkg/bundle" // the import argument is named bundle
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	core "github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/source"
)

type Matrix struct {
	// +private
	Source *dagger.Directory
	// +private
	ComponentsPath string
	// +private
	ComponentsDir *dagger.Directory
	// +private
	OwnComponents *dagger.Directory
	// +private
	BuildArgFile []*dagger.File
	// +private
	AptMirror string
	// +private
	GoProxy string
	// +private
	PypiIndexURL string
	// +private
	NpmRegistry string
	// +private
	MaxContext int
	// +private
	Secret []*dagger.Secret
	// +private
	SecretID []string
	// +private
	LintMode string
	// +private
	Severity string
	// +private
	SyftImage string
	// +private
	Registry string
	// +private
	Username string
	// +private
	Password *dagger.Secret
	// +private
	RegistryService *dagger.Service
	// +private
	SignKey *dagger.Secret
}

// New takes the run-wide options, named as the CLI's global flags:
// `dagger call --apt-mirror URL build-all ...`, `dagger call --registry
// harbor/ai --password env:PW publish --tags v1`. The tree it builds is
// --source (called by reference from your repository: `dagger -m MODULE call
// --source . --components-path src ...`), else --components-dir, else this
// module's own components, which it then says.
func New(
	// The tree to build: the build contexts, the components directory in it
	// (--components-path) and its .git (the revision, the created time and the
	// floating tags' history).
	// +optional
	source *dagger.Directory,
	// The components directory inside --source (default components).
	// +optional
	componentsPath string,
	// A directory with one folder per component, without --source.
	// +optional
	componentsDir *dagger.Directory,
	// This module's own components: what a call without --source or
	// --components-dir builds, with a note saying so.
	// +defaultPath="/components"
	ownComponents *dagger.Directory,
	// A .env file of build args (repeatable; a later file wins,
	// component.yaml's args win over all); a key goes only to Dockerfiles
	// that declare its ARG.
	// +optional
	buildArgFile []*dagger.File,
	// Debian mirror, for Dockerfiles declaring ARG APT_MIRROR.
	// +optional
	aptMirror string,
	// Go module proxy, for Dockerfiles declaring ARG GO_PROXY.
	// +optional
	goProxy string,
	// PyPI index, for Dockerfiles declaring ARG PYPI_INDEX_URL.
	// +optional
	pypiIndexUrl string,
	// npm registry, for Dockerfiles declaring ARG NPM_REGISTRY.
	// +optional
	npmRegistry string,
	// Largest build context per component, in bytes; 0 means the default (1 GiB).
	// +optional
	maxContext int,
	// BuildKit secrets for RUN --mount=type=secret, e.g. env://PIP_TOKEN;
	// --secret-id gives their ids, in the same order.
	// +optional
	secret []*dagger.Secret,
	// The id of each --secret, e.g. pip-token.
	// +optional
	secretId []string,
	// Lint findings: warn (in the report), error (fail the run before any
	// build) or off; default warn.
	// +optional
	lint string,
	// The lowest lint severity that counts: note, warning or error; default warning.
	// +optional
	severity string,
	// The image syft runs from for the SBOMs of publish, build-all
	// --push-by-digest and merge (a mirror of it, pinned by digest if you
	// like), or "source" to compile syft in the engine.
	// +default="docker.io/anchore/syft:v1.57.2"
	syftImage string,
	// host[:port][/project] to push to, e.g. harbor.example.com/ai-infra:
	// publish, merge, mirror, import, and build-all --push-by-digest.
	// +optional
	registry string,
	// Registry user name.
	// +optional
	username string,
	// Registry password or token.
	// +optional
	password *dagger.Secret,
	// The registry as a service, for a registry on the caller's loopback
	// (air-gapped mode): pass tcp://localhost:5000. The engine pushes from
	// the host network; matrix reads back and tags through the service.
	// +optional
	registryService *dagger.Service,
	// Sign every manifest and index with this PEM private key (ECDSA
	// P-256, unencrypted), e.g. env:MATRIX_SIGN_KEY.
	// +optional
	signKey *dagger.Secret,
) *Matrix {
	return &Matrix{Source: source, ComponentsPath: componentsPath, ComponentsDir: componentsDir, OwnComponents: ownComponents, BuildArgFile: buildArgFile, AptMirror: aptMirror, GoProxy: goProxy, PypiIndexURL: pypiIndexUrl,
		NpmRegistry: npmRegistry, MaxContext: maxContext, Secret: secret, SecretID: secretId, LintMode: lint, Severity: severity, SyftImage: syftImage,
		Registry: registry, Username: username, Password: password, RegistryService: registryService, SignKey: signKey}
}

// Init adopts the tree given with --source, which a build script built: it
// returns matrix.yaml, and component.yaml and third-party.yaml where the
// tree's conventions need them, to export into the tree (`dagger call
// --source . init export --path .`). What it found and the plan of what it
// wrote go to the log. A file already there is left out when it is the
// same, and refused when it differs, unless --force.
// +cache="never"
func (m *Matrix) Init(
	ctx context.Context,
	// Overwrite files that are already there and differ.
	// +optional
	force bool,
) (*dagger.Directory, error) {
	if m.Source == nil {
		return nil, classify(class.BadInput.Errorf("init adopts the tree given with --source: dagger call --source . init export --path ."))
	}
	c, src, err := connect(ctx, m.Source)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := dag.Directory()
	res, err := core.Init(component.EngineFS(ctx, src), ".", m.ComponentsPath, force, func(p string, data []byte) error {
		out = out.WithNewFile(p, string(data))
		return nil
	})
	if res != nil && res.Changes != nil {
		if rerr := res.Report(os.Stderr); rerr != nil {
			return nil, rerr
		}
	}
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

// Lint finds, before any build, the Dockerfile patterns that waste
// emulation or ship the wrong architecture, in the components or in any
// directory of Dockerfiles; it fails, with the findings, when there are any.
func (m *Matrix) Lint(
	ctx context.Context,
	// Lint every Dockerfile under this directory instead of the components.
	// +optional
	dir *dagger.Directory,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// table or json
	// +default="table"
	format string,
) (string, error) {
	if format != "table" && format != "json" {
		return "", classify(class.BadInput.Errorf("--format %q: use table or json", format))
	}
	var findings []lint.Finding
	var err error
	if dir != nil {
		c, src, cerr := connect(ctx, dir)
		if cerr != nil {
			return "", cerr
		}
		defer c.Close()
		findings, err = core.LintDir(component.EngineFS(ctx, src), "dir", m.Severity)
	} else {
		s, serr := m.session(ctx, core.Options{Run: core.RunOptions{Components: core.Split(components)}}, core.Inspect)
		if serr != nil {
			return "", serr
		}
		defer s.client.Close()
		findings, err = s.run.Lint()
	}
	if class.Of(err) == class.BadInput {
		return "", classify(err)
	}
	var b strings.Builder
	if werr := lint.Write(&b, findings, format); werr != nil {
		return "", werr
	}
	if err != nil {
		return "", fmt.Errorf("%s%w", b.String(), err)
	}
	return b.String(), nil
}

// Plan lists the cells (component × platform) a run would build, in
// dependency order, as a table or JSON. It starts no build.
func (m *Matrix) Plan(
	ctx context.Context,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// table, json or dot (a Graphviz graph of the dependencies)
	// +default="table"
	format string,
) (string, error) {
	if format != "table" && format != "json" && format != "dot" {
		return "", classify(class.BadInput.Errorf("--format %q: use table or json (plan also takes dot)", format))
	}
	s, err := m.session(ctx, core.Options{Run: core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components)}}, core.Inspect)
	if err != nil {
		return "", err
	}
	defer s.client.Close()
	var b strings.Builder
	switch format {
	case "json":
		err = s.run.Plan.JSON(&b)
	case "dot":
		err = s.run.Plan.Dot(&b)
	default:
		err = s.run.Plan.Table(&b)
	}
	return b.String(), err
}

// BuildComponent builds one component for each platform, verifies every
// variant and returns the variants in platform order.
func (m *Matrix) BuildComponent(
	ctx context.Context,
	// Component name (a folder under components/), or component/image for one image of one.
	component string,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Version passed as ${VERSION} to build args (default dev).
	// +optional
	version string,
	// Registry where a dependency is staged for the components built FROM
	// it (default localhost:5000); ci/world/docker.sh or ci/world/up.sh start one.
	// +optional
	stageRegistry string,
) ([]*dagger.Container, error) {
	s, err := m.session(ctx, core.Options{Run: core.RunOptions{Platforms: core.Split(platforms), Components: []string{component}, Version: version,
		StageRegistry: stageRegistry}}, core.New)
	if err != nil {
		return nil, err
	}
	defer s.client.Close()
	if err := s.run.OneImage(component); err != nil {
		return nil, classify(err)
	}
	res, err := s.run.BuildAll(ctx, s.client, s.src)
	if _, err := outcome(res, err); err != nil {
		return nil, err
	}
	var out []*dagger.Container
	for _, v := range res.Variants[component] {
		id, err := v.Container.ID(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, dag.LoadContainerFromID(dagger.ContainerID(id)))
	}
	return out, nil
}

// BuildAll builds and verifies every cell and returns the report; it fails,
// with the report, when any requested cell failed. Never cached: with
// --push-by-digest it writes to the registry, and a function is cached
// whole or not at all (verify is the same check, cached).
// +cache="never"
func (m *Matrix) BuildAll(
	ctx context.Context,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// Cells built at once; 0 means one per core.
	// +optional
	jobs int,
	// Version passed as ${VERSION} to build args (default dev).
	// +optional
	version string,
	// Cancel the remaining cells at the first failure.
	// +optional
	failFast bool,
	// Measure each variant's size.
	// +optional
	sizes bool,
	// Registry where a dependency is staged for the components built FROM
	// it (default localhost:5000); ci/world/docker.sh or ci/world/up.sh start one.
	// +optional
	stageRegistry string,
	// Push each verified variant by digest to --registry, moving no tag, and
	// return results.json (save it with -o): one leg of merge.
	// +optional
	pushByDigest bool,
	// The source revision built, a full commit hash (needed by --push-by-digest).
	// +optional
	revision string,
	// Write no SBOM, provenance or signature referrers.
	// +optional
	noAttest bool,
	// Repository of cell keys, e.g. localhost:5000/ai-infra/matrix-cache: a
	// cell whose key it holds is taken from the registry, not built, and every
	// variant pushed is recorded there (with --registry-service on loopback).
	// +optional
	cacheRepo string,
	// Build these components whatever --cache-repo holds: all, or
	// comma-separated names.
	// +optional
	rebuild string,
	// The checkout's git history, for the commit time of --revision (the
	// created annotation of the variants pushed by digest).
	// +defaultPath="/"
	// +ignore=["*", "!.git"]
	checkout *dagger.Directory,
) (string, error) {
	o := buildOptions(platforms, components, jobs, version, failFast, sizes, stageRegistry)
	o.Run.Revision, o.Run.CacheRepo, o.Run.Rebuild = revision, cacheRepo, core.Split(rebuild)
	o.Push = core.PushOptions{Registry: m.Registry, Username: m.Username}
	if pushByDigest {
		o.Push.Mode = core.PushByDigest
	} else {
		checkout = nil // only a leg pushed by digest needs the commit time
	}
	done, err := m.tagging(ctx, &o, checkout, noAttest)
	if err != nil {
		return "", err
	}
	defer done()
	res, err := m.build(ctx, o)
	if !pushByDigest || err != nil {
		return outcome(res, err)
	}
	return text(res.Report.File("results.json").Write, nil)
}

// build is the build-all of o, the same for build-all, report and verify.
// The session ends with it: what they return is the report's data.
func (m *Matrix) build(ctx context.Context, o core.Options) (*core.Result, error) {
	s, err := m.session(ctx, o, core.New)
	if err != nil {
		return nil, err
	}
	defer s.client.Close()
	return s.run.BuildAll(ctx, s.client, s.src)
}

// Report builds and verifies every cell, as BuildAll does, and returns the
// report as a directory a CI job keeps: report.txt (the table), report.json,
// junit.xml (GitLab's test report), results.json, summary.md (GitHub's step
// summary, with the timeline as a Mermaid gantt), annotations.txt (GitHub's
// ::error lines), report.html (the timeline as one self-contained page) and
// exit-code, 0 when every cell verified and 1 otherwise. Failed cells do not fail the call, so
// the job keeps the report; it exits with exit-code. Bad input and an
// unreachable engine or registry still fail it. Never cached: its files are
// exported, and a cached call would hand back an earlier run's report.
// +cache="never"
func (m *Matrix) Report(
	ctx context.Context,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// Cells built at once; 0 means one per core.
	// +optional
	jobs int,
	// Version passed as ${VERSION} to build args (default dev).
	// +optional
	version string,
	// Cancel the remaining cells at the first failure.
	// +optional
	failFast bool,
	// Measure each variant's size.
	// +optional
	sizes bool,
	// Registry where a dependency is staged (default localhost:5000).
	// +optional
	stageRegistry string,
) (*dagger.Directory, error) {
	res, err := m.build(ctx, buildOptions(platforms, components, jobs, version, failFast, sizes, stageRegistry))
	if res == nil {
		return nil, classify(err)
	}
	dir := dag.Directory()
	for _, f := range res.Report.Files() {
		var b strings.Builder
		if werr := f.Write(&b); werr != nil {
			return nil, fmt.Errorf("writing %s: %w", f.Name, werr)
		}
		dir = dir.WithNewFile(f.Name, b.String())
	}
	return dir.WithNewFile("exit-code", fmt.Sprintf("%d\n", class.Of(err))), nil
}

// Render draws the HTML page of an earlier JSON report (report.json, or a
// CLI --report) and, with --previous, marks the cells that got slower or
// were rebuilt where they were reused: `render --report r.json export --path report.html`.
func (m *Matrix) Render(
	ctx context.Context,
	// The JSON report to draw.
	report *dagger.File,
	// An earlier run's JSON report to compare with.
	// +optional
	previous *dagger.File,
) (*dagger.File, error) {
	data, err := report.Contents(ctx)
	if err != nil {
		return nil, classify(class.BadInput.Errorf("--report: %w", err))
	}
	var prev []byte
	if previous != nil {
		p, err := previous.Contents(ctx)
		if err != nil {
			return nil, classify(class.BadInput.Errorf("--previous: %w", err))
		}
		prev = []byte(p)
	}
	var b strings.Builder
	if err := core.Render(&b, []byte(data), "--report", prev, "--previous"); err != nil {
		return nil, classify(err)
	}
	return dag.Directory().WithNewFile("report.html", b.String()).File("report.html"), nil
}

// Verify builds every cell and checks it (platform, smoke binary
// architecture, smoke command) without publishing; same as BuildAll without
// --push-by-digest. It writes nothing outside the engine that outlives the
// call (a dependency staged for its dependents serves only this run), so
// Dagger may answer a repeated call with the same inputs from its cache.
func (m *Matrix) Verify(
	ctx context.Context,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
) (string, error) {
	return outcome(m.build(ctx, buildOptions(platforms, components, 0, "", false, false, "")))
}

// Publish builds and verifies every cell, pushes one index per component
// with a single Publish call each, reads every index back, and only then
// moves the final tags. Never cached.
// +cache="never"
func (m *Matrix) Publish(
	ctx context.Context,
	// Final tags; default: the version and latest.
	// +optional
	tags []string,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// Version passed as ${VERSION} to build args (default dev).
	// +optional
	version string,
	// Also tag each variant <tag>-<arch>.
	// +optional
	archTags bool,
	// Registry where a dependency is staged for the components built FROM
	// it (default localhost:5000); ci/world/docker.sh or ci/world/up.sh start one.
	// +optional
	stageRegistry string,
	// The source revision built, a full commit hash; recorded on every index
	// (default: the checkout's HEAD).
	// +optional
	revision string,
	// Tags that move forward only (default latest): only when --revision
	// descends from the revision the tag's index carries.
	// +optional
	floating []string,
	// Write no SBOM, provenance or signature referrers.
	// +optional
	noAttest bool,
	// Repository of cell keys, e.g. localhost:5000/ai-infra/matrix-cache: a
	// cell whose key it holds is taken from the registry, not built, and every
	// variant pushed is recorded there (with --registry-service on loopback).
	// +optional
	cacheRepo string,
	// Build these components whatever --cache-repo holds: all, or
	// comma-separated names.
	// +optional
	rebuild string,
	// The checkout's git history, which floating tags check descent in
	// (without one, they keep where they are and the report says why).
	// +defaultPath="/"
	// +ignore=["*", "!.git"]
	checkout *dagger.Directory,
) (string, error) {
	o := core.Options{
		Run: core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components), Version: version,
			StageRegistry: stageRegistry, Revision: revision, CacheRepo: cacheRepo, Rebuild: core.Split(rebuild)},
		Push: core.PushOptions{Mode: core.PushTagged, Registry: m.Registry, Tags: tags, ArchTags: archTags, Username: m.Username, Floating: floating},
	}
	done, err := m.tagging(ctx, &o, checkout, noAttest)
	if err != nil {
		return "", err
	}
	defer done()
	if o.Run.Revision == "" {
		o.Run.Revision, _ = source.Checkout{Dir: o.Push.Checkout}.Revision(ctx) // no commit: no revision, and floating tags keep theirs
	}
	s, err := m.session(ctx, o, core.New)
	if err != nil {
		return "", err
	}
	defer s.client.Close()
	return outcome(s.run.Publish(ctx, s.client, s.src))
}

// Merge assembles one index per component from the results of
// `build-all --push-by-digest` legs (a directory of their results files),
// in the plan's platform order: it refuses results of different revisions
// or that miss a planned cell, checks every digest in the registry, reads
// every index back, and only then moves the final tags, all together.
// +cache="never"
func (m *Matrix) Merge(
	ctx context.Context,
	// Directory of the legs' results files (*.json).
	results *dagger.Directory,
	// Final tags; default: the version and latest.
	// +optional
	tags []string,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// The revision the legs must be of; default: theirs.
	// +optional
	revision string,
	// Tags that move forward only (default latest).
	// +optional
	floating []string,
	// Write no SBOM, provenance or signature referrers.
	// +optional
	noAttest bool,
	// The checkout's git history, which floating tags check descent in
	// (without one, they keep where they are and the report says why).
	// +defaultPath="/"
	// +ignore=["*", "!.git"]
	checkout *dagger.Directory,
) (string, error) {
	o := core.Options{
		Run:  core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components), Revision: revision},
		Push: core.PushOptions{Mode: core.PushTagged, Registry: m.Registry, Tags: tags, Username: m.Username, Floating: floating},
	}
	done, err := m.tagging(ctx, &o, checkout, noAttest)
	if err != nil {
		return "", err
	}
	defer done()
	rc, rsrc, err := connect(ctx, results)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	legs, err := core.ReadLegsFS(component.EngineFS(ctx, rsrc), "--results")
	if err != nil {
		return "", classify(err)
	}
	s, err := m.session(ctx, o, core.New)
	if err != nil {
		return "", err
	}
	defer s.client.Close()
	return outcome(s.run.Merge(ctx, legs))
}

// tagging binds what a verb that moves final tags needs beside the
// registry: the password, the registry service, the signing key, and the
// checkout's history for floating tags and the commit time (in
// o.Push.Checkout). done removes that copy.
func (m *Matrix) tagging(ctx context.Context, o *core.Options, checkout *dagger.Directory, noAttest bool) (done func(), err error) {
	if checkout, err = m.checkout(ctx, checkout); err != nil {
		return nil, err
	}
	if o.Push.Password, o.Push.Via, err = m.credentials(ctx); err != nil {
		return nil, err
	}
	o.Attest.NoAttest = noAttest
	if m.SignKey != nil {
		if o.Attest.SignKey, err = m.SignKey.Plaintext(ctx); err != nil {
			return nil, classify(class.BadInput.Errorf("--sign-key: cannot be read: %w", err))
		}
	}
	if o.Push.Checkout, err = exported(ctx, checkout, "matrix-checkout-"); err != nil {
		return nil, err
	}
	return func() { os.RemoveAll(o.Push.Checkout) }, nil
}

// exported writes d (none: nothing) into a new temporary directory of this
// function, for the host-side code that reads files.
func exported(ctx context.Context, d *dagger.Directory, prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil || d == nil {
		return dir, err
	}
	if _, err := d.Export(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// Export builds and verifies every cell and returns a directory with one
// multi-platform OCI archive per component, one per third-party image of
// third-party.yaml (each upstream index unchanged), bundle.json and
// SHA256SUMS; write it out with `export --path ./dist`. Never cached: the
// bundle is written out, and a cached call would hand back an earlier run's
// third-party images, whose upstream tags may have moved.
// +cache="never"
func (m *Matrix) Export(
	ctx context.Context,
	// Comma-separated platforms (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// Comma-separated components (component/image for one image of one); empty means all.
	// +optional
	components string,
	// Version passed as ${VERSION} to build args (default dev).
	// +optional
	version string,
	// Registry where a dependency is staged for the components built FROM
	// it (default localhost:5000); ci/world/docker.sh or ci/world/up.sh start one.
	// +optional
	stageRegistry string,
	// Leave the third-party images out of the bundle.
	// +optional
	noThirdParty bool,
	// The upstream registry as a service, for third-party sources on the
	// caller's loopback (air-gapped mode): pass tcp://localhost:5000.
	// +optional
	upstreamService *dagger.Service,
) (*dagger.Directory, error) {
	via, err := endpoint(ctx, upstreamService, "--upstream-service")
	if err != nil {
		return nil, err
	}
	s, err := m.session(ctx, core.Options{Run: core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components),
		Version: version, StageRegistry: stageRegistry, NoThirdParty: noThirdParty, UpstreamVia: via}}, core.New)
	if err != nil {
		return nil, err
	}
	defer s.client.Close()
	tmp, err := os.MkdirTemp("", "matrix-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	res, err := s.run.Export(ctx, s.client, s.src, tmp)
	if _, err := outcome(res, err); err != nil {
		return nil, err
	}
	d, err := export.Directory(s.client, res.Archives, res.ThirdParty, tmp).Sync(ctx)
	if err != nil {
		return nil, err
	}
	id, err := d.ID(ctx)
	if err != nil {
		return nil, err
	}
	return dag.LoadDirectoryFromID(dagger.DirectoryID(id)), nil
}

// session is one function call's run and its connection to the engine.
type session struct {
	client *sdk.Client
	src    *sdk.Directory // the components directory, on the core's client
	run    *core.Run
}

// session adds the run-wide options to o, joins the engine session and
// checks the run with newRun (core.New, or core.Inspect for a function that
// builds nothing): options first, then the specs, read in the engine.
func (m *Matrix) session(ctx context.Context, o core.Options, newRun func(core.Options, component.Tree) (*core.Run, error)) (*session, error) {
	o.Run.Mirrors = map[string]string{"APT_MIRROR": m.AptMirror, "GO_PROXY": m.GoProxy, "PYPI_INDEX_URL": m.PypiIndexURL, "NPM_REGISTRY": m.NpmRegistry}
	o.Run.MaxContext = int64(m.MaxContext)
	o.Run.Lint, o.Run.Severity, o.Attest.SyftImage = m.LintMode, m.Severity, m.SyftImage
	o.Notify = func(msg string) { fmt.Fprintln(os.Stderr, "matrix:", msg) } // the function's log
	var err error
	if o.Run.Secrets, err = m.secrets(ctx); err != nil {
		return nil, classify(err)
	}
	if o.Run.BuildArgFiles, err = argFiles(ctx, m.BuildArgFile); err != nil {
		return nil, classify(err)
	}
	root, tree, note, err := m.tree()
	if err != nil {
		return nil, classify(err)
	}
	c, src, err := connect(ctx, root)
	if err != nil {
		return nil, err
	}
	tree.FS = component.EngineFS(ctx, src)
	o.Run.UploadedWhole = m.Source != nil // the dagger CLI sent it all
	r, err := newRun(o, tree)
	if err != nil {
		c.Close()
		return nil, classify(err)
	}
	if note != "" {
		o.Notify("note: " + note)
		r.Plan.Notes = append([]string{note}, r.Plan.Notes...)
	}
	if r.Upload != "." {
		src = src.Directory(r.Upload)
	}
	// Cell events go to the function's log, beside Dagger's own progress.
	prog, _ := report.NewProgress(os.Stderr, report.ProgressPlain, r.Requested(), r.Options.Run.Jobs, nil)
	r.Options.Events = prog.Event
	return &session{client: c, src: src, run: r}, nil
}

// tree binds --source, --components-path and --components-dir (see
// core.ModuleTree): the directory the run reads, how it names it, and a
// note when it is this module's own.
func (m *Matrix) tree() (*dagger.Directory, component.Tree, string, error) {
	from, t, note, err := core.ModuleTree(m.Source != nil, m.ComponentsDir != nil, m.ComponentsPath)
	return map[core.TreeFrom]*dagger.Directory{core.FromSource: m.Source, core.FromComponentsDir: m.ComponentsDir, core.FromModule: m.OwnComponents}[from],
		t, note, err
}

// checkout is the git history the revision, the created time and the
// floating tags come from, when the verb needs one (def is not nil):
// --source's .git when there is a --source (none when it has no .git), else
// def, the module's own.
func (m *Matrix) checkout(ctx context.Context, def *dagger.Directory) (*dagger.Directory, error) {
	if def == nil || m.Source == nil {
		return def, nil
	}
	ok, err := m.Source.Exists(ctx, ".git")
	if err != nil || !ok {
		return nil, err
	}
	return dag.Directory().WithDirectory(".git", m.Source.Directory(".git")), nil
}

// argFiles reads each --build-arg-file; the core parses them.
func argFiles(ctx context.Context, files []*dagger.File) ([]core.ArgFile, error) {
	var out []core.ArgFile
	for _, f := range files {
		name, err := f.Name(ctx)
		if err == nil {
			var data string
			if data, err = f.Contents(ctx); err == nil {
				out = append(out, core.ArgFile{Name: name, Data: []byte(data)})
				continue
			}
		}
		return nil, class.BadInput.Errorf("--build-arg-file: cannot be read: %w", err)
	}
	return out, nil
}

// buildOptions are the options of a build-all, which report runs too.
func buildOptions(platforms, components string, jobs int, version string, failFast, sizes bool, stageRegistry string) core.Options {
	return core.Options{Run: core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components), Jobs: jobs,
		Version: version, FailFast: failFast, Sizes: sizes, StageRegistry: stageRegistry}}
}

// credentials reads the registry password and starts the registry service,
// whose endpoint this function dials for a registry on the caller's loopback.
func (m *Matrix) credentials(ctx context.Context) (pw, via string, err error) {
	if m.Password != nil {
		if pw, err = m.Password.Plaintext(ctx); err != nil {
			return "", "", classify(class.BadInput.Errorf("--password: cannot be read: %w", err))
		}
	}
	via, err = endpoint(ctx, m.RegistryService, "--registry-service")
	return pw, via, err
}

// endpoint starts svc, if given, and returns the host:port it answers on.
func endpoint(ctx context.Context, svc *dagger.Service, flag string) (string, error) {
	if svc == nil {
		return "", nil
	}
	started, err := svc.Start(ctx)
	if err != nil {
		return "", classify(class.Unreachable.Errorf("%s: starting it: %w", flag, err))
	}
	return started.Endpoint(ctx)
}

// Mirror copies the third-party images of third-party.yaml (beside the
// components) into a registry, each upstream index unchanged, after checking
// every platform of every image; no final tag moves unless all are in place.
// +cache="never"
func (m *Matrix) Mirror(
	ctx context.Context,
	// Extra final tags, beside each image's own.
	// +optional
	tags []string,
	// Comma-separated platforms every image must hold (default linux/amd64,linux/arm64).
	// +optional
	platforms string,
	// The upstream registry as a service, for third-party sources on the
	// caller's loopback: pass tcp://localhost:5000.
	// +optional
	upstreamService *dagger.Service,
) (string, error) {
	t, err := m.target(ctx, tags)
	if err != nil {
		return "", err
	}
	upVia, err := endpoint(ctx, upstreamService, "--upstream-service")
	if err != nil {
		return "", err
	}
	root, tree, _, err := m.tree()
	if err != nil {
		return "", classify(err)
	}
	list, err := root.File(path.Join(cmp.Or(tree.Components, "."), mirror.ListName)).Contents(ctx)
	if err != nil {
		return "", classify(class.BadInput.Errorf("--components-dir: no %s to mirror from: write one beside the components (%w)", mirror.ListName, err))
	}
	r, err := core.MirrorList(ctx, "--components-dir "+mirror.ListName, []byte(list), core.Split(platforms), t, upVia, nil)
	if r == nil {
		return "", classify(err)
	}
	return text(r.Table, err)
}

// Import pushes an offline bundle (the directory `export` writes) into a
// registry with go-containerregistry: SHA256SUMS and bundle.json are checked
// first and a corrupt, partial or extra file is refused by name before any
// push; every index is read back before all the tags move together; a second
// import of the same bundle writes nothing. Never cached: a registry that
// lost the images must get them again.
// +cache="never"
func (m *Matrix) Import(
	ctx context.Context,
	// The bundle directory, e.g. --bundle ./dist
	bundle *dagger.Directory,
	// Extra final tags, beside each archive's own.
	// +optional
	tags []string,
) (string, error) {
	t, err := m.target(ctx, tags)
	if err != nil {
		return "", err
	}
	dir, err := exported(ctx, bundle, "matrix-bundle-")
	if err != nil {
		return "", fmt.Errorf("--bundle: %w", err)
	}
	defer os.RemoveAll(dir)
	res, err := core.Import(ctx, bundles.Dir{Path: dir, Name: "--bundle"}, t, nil)
	if res == nil {
		return text(nil, err)
	}
	return text(res.Table, err)
}

// target binds the registry arguments of mirror and import into their push
// options, as the CLI's registry flags do.
func (m *Matrix) target(ctx context.Context, tags []string) (core.PushOptions, error) {
	pw, via, err := m.credentials(ctx)
	return core.PushOptions{Registry: m.Registry, Tags: tags, Username: m.Username, Password: pw, Via: via}, err
}

// text is what a verb returns: the table write draws, and err, with the
// table, in its class.
func text(write func(io.Writer) error, err error) (string, error) {
	var b strings.Builder
	if write != nil {
		if werr := write(&b); werr != nil {
			return "", werr
		}
	}
	if err != nil && b.Len() > 0 {
		err = fmt.Errorf("%s\n%w", b.String(), err)
	}
	if err != nil {
		return "", classify(err)
	}
	return b.String(), nil
}

// connect joins the engine session with the core's own client and hands it
// dir, a directory of the module's client, by ID.
func connect(ctx context.Context, dir *dagger.Directory) (*sdk.Client, *sdk.Directory, error) {
	id, err := dir.ID(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := sdk.Connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, c.LoadDirectoryFromID(sdk.DirectoryID(id)), nil
}

// secrets pairs each --secret with its --secret-id.
func (m *Matrix) secrets(ctx context.Context) (map[string]string, error) {
	if len(m.Secret) != len(m.SecretID) {
		return nil, class.BadInput.Errorf("--secret-id: %d ids for %d secrets; give one --secret-id per --secret, in the same order",
			len(m.SecretID), len(m.Secret))
	}
	out := map[string]string{}
	for i, s := range m.Secret {
		v, err := s.Plaintext(ctx)
		if err != nil {
			return nil, class.BadInput.Errorf("--secret %s: cannot be read: %w", m.SecretID[i], err)
		}
		out[m.SecretID[i]] = v
	}
	return out, nil
}

// outcome is text of a verb's report: its table, or only err when the verb
// stopped before its report.
func outcome(res *core.Result, err error) (string, error) {
	if res == nil {
		return text(nil, err)
	}
	return text(res.Report.Table, err)
}

// classify carries the class out of `dagger call` as its exit code (2 bad
// input, 3 engine or registry unreachable; a failed cell exits 1, as any
// error does). In Dagger v0.21.8 the dagger CLI exits with another code than
// 1 only for a *dagger.ExecError, which the SDK makes of a GraphQL error
// whose extensions say _type EXEC_ERROR and exitCode; and the module's
// generated main hands on the extensions of a *gqlerror.Error only. So the
// class travels as those two extensions, on err itself.
// An error classify already carries goes through unchanged.
func classify(err error) error {
	if _, done := err.(*gqlerror.Error); done { //nolint:errorlint // the generated main reads only a top-level *gqlerror.Error
		return err
	}
	if c := class.Of(err); c == class.BadInput || c == class.Unreachable {
		return &gqlerror.Error{Err: err, Message: err.Error(), Extensions: map[string]any{"_type": "EXEC_ERROR", "exitCode": int(c)}}
	}
	return err
}
