// Matrix builds every AI-Infra-Matrix component for every platform, verifies
// each cell (image config platform, smoke command), and publishes one
// multi-platform OCI index per component.
//
// The functions bind only: each binds its arguments into the core's
// options and calls pkg/module, the core's side of this module, beside the
// host CLI (cmd/matrix), on a client of the standalone SDK that joined the
// running session; objects cross between the two clients by ID.
package main

import (
	"cmp"
	"context"
	"os"
	"reflect"

	sdk "dagger.io/dagger"

	"dagger/matrix/internal/dagger"

	core "github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/module"
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
	return with(ctx, m, func(c *module.Call, h *ids) (*dagger.Directory, error) {
		d, err := c.Init(ctx, force)
		return back(h, d, err, dag.LoadDirectoryFromID)
	})
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
	return with(ctx, m, func(c *module.Call, h *ids) (string, error) {
		return c.Lint(ctx, to(h, dir, c.Client.LoadDirectoryFromID), core.Split(components), format)
	})
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
	return with(ctx, m, func(c *module.Call, _ *ids) (string, error) {
		return c.Plan(ctx, core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components)}, format)
	})
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
	return with(ctx, m, func(c *module.Call, h *ids) ([]*dagger.Container, error) {
		variants, err := c.BuildComponent(ctx, core.RunOptions{Platforms: core.Split(platforms), Components: []string{component},
			Version: version, StageRegistry: stageRegistry})
		var out []*dagger.Container
		for _, v := range variants {
			out = append(out, to(h, v, dag.LoadContainerFromID))
		}
		return out, err
	})
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
	o.Run.Revision, o.Run.CacheRepo, o.Run.Rebuild, o.Attest.NoAttest = revision, cacheRepo, core.Split(rebuild), noAttest
	if pushByDigest {
		o.Push.Mode = core.PushByDigest
	}
	return with(ctx, m, func(c *module.Call, h *ids) (string, error) {
		return c.BuildAll(ctx, o, to(h, checkout, c.Client.LoadDirectoryFromID))
	})
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
	return with(ctx, m, func(c *module.Call, h *ids) (*dagger.Directory, error) {
		d, err := c.Report(ctx, buildOptions(platforms, components, jobs, version, failFast, sizes, stageRegistry))
		return back(h, d, err, dag.LoadDirectoryFromID)
	})
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
	return with(ctx, m, func(c *module.Call, h *ids) (*dagger.File, error) {
		d, err := c.Render(ctx, to(h, report, c.Client.LoadFileFromID), to(h, previous, c.Client.LoadFileFromID))
		return back(h, d, err, dag.LoadFileFromID)
	})
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
	return with(ctx, m, func(c *module.Call, _ *ids) (string, error) {
		return module.Outcome(c.Build(ctx, buildOptions(platforms, components, 0, "", false, false, "")))
	})
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
		Push:   core.PushOptions{Mode: core.PushTagged, Tags: tags, ArchTags: archTags, Floating: floating},
		Attest: core.AttestOptions{NoAttest: noAttest},
	}
	return with(ctx, m, func(c *module.Call, h *ids) (string, error) {
		return c.Publish(ctx, o, to(h, checkout, c.Client.LoadDirectoryFromID))
	})
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
		Run:    core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components), Revision: revision},
		Push:   core.PushOptions{Mode: core.PushTagged, Tags: tags, Floating: floating},
		Attest: core.AttestOptions{NoAttest: noAttest},
	}
	return with(ctx, m, func(c *module.Call, h *ids) (string, error) {
		return c.Merge(ctx, o, to(h, results, c.Client.LoadDirectoryFromID), to(h, checkout, c.Client.LoadDirectoryFromID))
	})
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
	o := core.Options{Run: core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components),
		Version: version, StageRegistry: stageRegistry, NoThirdParty: noThirdParty}}
	return with(ctx, m, func(c *module.Call, h *ids) (*dagger.Directory, error) {
		d, err := c.Export(ctx, o, to(h, upstreamService, c.Client.LoadServiceFromID))
		return back(h, d, err, dag.LoadDirectoryFromID)
	})
}

// buildOptions are the options of a build-all, which report runs too.
func buildOptions(platforms, components string, jobs int, version string, failFast, sizes bool, stageRegistry string) core.Options {
	return core.Options{Run: core.RunOptions{Platforms: core.Split(platforms), Components: core.Split(components), Jobs: jobs,
		Version: version, FailFast: failFast, Sizes: sizes, StageRegistry: stageRegistry}}
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
	return with(ctx, m, func(c *module.Call, h *ids) (string, error) {
		return c.Mirror(ctx, tags, core.Split(platforms), to(h, upstreamService, c.Client.LoadServiceFromID))
	})
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
	return with(ctx, m, func(c *module.Call, h *ids) (string, error) {
		return c.Import(ctx, to(h, bundle, c.Client.LoadDirectoryFromID), tags)
	})
}

// with runs f on a call of the core (module.Call): it joins the engine
// session with the core's own client, hands over the run-wide arguments,
// and ends the session when f returns. An object that could not be handed
// over fails f where it is used; its cause is the error returned.
func with[T any](ctx context.Context, m *Matrix, f func(c *module.Call, h *ids) (T, error)) (T, error) {
	var zero T
	c, err := sdk.Connect(ctx)
	if err != nil {
		return zero, err
	}
	defer c.Close()
	h := &ids{ctx: ctx}
	in := module.Inputs{Source: to(h, m.Source, c.LoadDirectoryFromID), ComponentsPath: m.ComponentsPath,
		ComponentsDir: to(h, m.ComponentsDir, c.LoadDirectoryFromID), OwnComponents: to(h, m.OwnComponents, c.LoadDirectoryFromID),
		Mirrors:    map[string]string{"APT_MIRROR": m.AptMirror, "GO_PROXY": m.GoProxy, "PYPI_INDEX_URL": m.PypiIndexURL, "NPM_REGISTRY": m.NpmRegistry},
		MaxContext: m.MaxContext, SecretIDs: m.SecretID, LintMode: m.LintMode, Severity: m.Severity, SyftImage: m.SyftImage,
		Registry: m.Registry, Username: m.Username, Password: to(h, m.Password, c.LoadSecretFromID),
		RegistryService: to(h, m.RegistryService, c.LoadServiceFromID), SignKey: to(h, m.SignKey, c.LoadSecretFromID)}
	for _, f := range m.BuildArgFile {
		in.BuildArgFiles = append(in.BuildArgFiles, to(h, f, c.LoadFileFromID))
	}
	for _, s := range m.Secret {
		in.Secrets = append(in.Secrets, to(h, s, c.LoadSecretFromID))
	}
	if h.err != nil {
		return zero, h.err
	}
	out, err := f(&module.Call{Inputs: in, Client: c, Log: os.Stderr}, h)
	if h.err != nil {
		return zero, h.err
	}
	return out, err
}

// ids hands objects between the module's client and the core's, by ID;
// err keeps the first ID that could not be read.
type ids struct {
	ctx context.Context
	err error
}

// to is o, an object of one client, on the other: load is that client's
// LoadXFromID. A nil o stays nil; one whose ID cannot be read becomes an
// object of no ID, which fails where it is used (h.err says why).
func to[I, S ~string, T any](h *ids, o interface {
	ID(context.Context) (I, error)
}, load func(S) T) (t T) {
	if reflect.ValueOf(o).IsNil() {
		return t
	}
	id, err := o.ID(h.ctx)
	if err != nil {
		h.err = cmp.Or(h.err, err)
	}
	return load(S(id))
}

// back is o, which the core returned with err, on the module's client.
func back[I, S ~string, T any](h *ids, o interface {
	ID(context.Context) (I, error)
}, err error, load func(S) T) (t T, _ error) {
	if err != nil {
		return t, err
	}
	return to(h, o, load), nil
}
