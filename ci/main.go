// Matrix builds every AI-Infra-Matrix component for every platform, verifies
// each cell (image config platform, smoke command), and publishes one
// multi-platform OCI index per component.
//
// The functions are thin: they join the running session with the standalone
// SDK and call the same core package as the host CLI (cmd/matrix).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sdk "dagger.io/dagger"
	"dagger.io/dagger/dag"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"dagger/matrix/internal/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/export"
	core "github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

type Matrix struct {
	// +private
	Source *dagger.Directory
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
}

// New takes the run-wide options, the same as the CLI's flags of the same
// names: `dagger call --apt-mirror URL build-all ...`.
func New(
	// The repository root; only components/ is uploaded.
	// +defaultPath="/"
	// +ignore=["*", "!components/**"]
	source *dagger.Directory,
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
) *Matrix {
	return &Matrix{Source: source, AptMirror: aptMirror, GoProxy: goProxy, PypiIndexURL: pypiIndexUrl, NpmRegistry: npmRegistry, MaxContext: maxContext}
}

// Plan lists the cells (component × platform) a run would build, in
// dependency order, as a table or JSON. It starts no build.
func (m *Matrix) Plan(
	ctx context.Context,
	// Comma-separated platforms.
	// +default="linux/amd64,linux/arm64"
	platforms string,
	// Comma-separated components; empty means all.
	// +optional
	components string,
	// table or json
	// +default="table"
	format string,
) (string, error) {
	r, err := m.run(ctx, platforms, components, 0, "", false, "")
	if err != nil {
		return "", err
	}
	defer r.close()
	p, err := core.Plan(r.cfg)
	if err != nil {
		return "", classify(err)
	}
	var b strings.Builder
	if format == "json" {
		err = p.JSON(&b)
	} else {
		err = p.Table(&b)
	}
	return b.String(), err
}

// BuildComponent builds one component for each platform, verifies every
// variant and returns the variants in platform order.
func (m *Matrix) BuildComponent(
	ctx context.Context,
	// Component name (a folder under components/).
	component string,
	// Comma-separated platforms.
	// +default="linux/amd64,linux/arm64"
	platforms string,
	// Version passed as ${VERSION} to build args.
	// +default="dev"
	version string,
	// Registry where a dependency is staged for the components built FROM
	// it; the engine pushes and pulls it (ci/world/docker.sh or ci/world/up.sh start one).
	// +default="localhost:5000"
	stageRegistry string,
) ([]*dagger.Container, error) {
	r, err := m.run(ctx, platforms, component, 0, version, false, stageRegistry)
	if err != nil {
		return nil, err
	}
	defer r.close()
	_, res, err := core.BuildAll(ctx, r.client, r.cfg)
	if err != nil {
		return nil, classify(err)
	}
	if err := failed(res.Report); err != nil {
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
// with the report, when any requested cell failed.
func (m *Matrix) BuildAll(
	ctx context.Context,
	// Comma-separated platforms.
	// +default="linux/amd64,linux/arm64"
	platforms string,
	// Comma-separated components; empty means all.
	// +optional
	components string,
	// Cells built at once; 0 means one per core.
	// +optional
	jobs int,
	// Version passed as ${VERSION} to build args.
	// +default="dev"
	version string,
	// Cancel the remaining cells at the first failure.
	// +optional
	failFast bool,
	// Measure each variant's size.
	// +optional
	sizes bool,
	// Registry where a dependency is staged for the components built FROM
	// it; the engine pushes and pulls it (ci/world/docker.sh or ci/world/up.sh start one).
	// +default="localhost:5000"
	stageRegistry string,
) (string, error) {
	r, err := m.run(ctx, platforms, components, jobs, version, failFast, stageRegistry)
	if err != nil {
		return "", err
	}
	defer r.close()
	r.cfg.Sizes = sizes
	_, res, err := core.BuildAll(ctx, r.client, r.cfg)
	if err != nil {
		return "", classify(err)
	}
	return table(res.Report)
}

// Verify builds every cell and checks it (platform, smoke binary
// architecture, smoke command) without publishing; same as BuildAll.
func (m *Matrix) Verify(
	ctx context.Context,
	// +default="linux/amd64,linux/arm64"
	platforms string,
	// +optional
	components string,
) (string, error) {
	return m.BuildAll(ctx, platforms, components, 0, "dev", false, false, "localhost:5000")
}

// Publish builds and verifies every cell, pushes one index per component
// with a single Publish call each, reads every index back, and only then
// moves the final tags. Never cached.
// +cache="never"
func (m *Matrix) Publish(
	ctx context.Context,
	// host[:port][/project], e.g. harbor.example.com/ai-infra
	registry string,
	// Final tags; default: the version and latest.
	// +optional
	tags []string,
	// +default="linux/amd64,linux/arm64"
	platforms string,
	// +optional
	components string,
	// +default="dev"
	version string,
	// Also tag each variant <tag>-<arch>.
	// +optional
	archTags bool,
	// Registry user name.
	// +optional
	username string,
	// Registry password or token.
	// +optional
	password *dagger.Secret,
	// The registry as a service, for a registry on the caller's loopback
	// (air-gapped mode): pass tcp://localhost:5000. The engine pushes from
	// the host network; this function reads back and tags through the service.
	// +optional
	registryService *dagger.Service,
	// Registry where a dependency is staged for the components built FROM
	// it; the engine pushes and pulls it (ci/world/docker.sh or ci/world/up.sh start one).
	// +default="localhost:5000"
	stageRegistry string,
) (string, error) {
	r, err := m.run(ctx, platforms, components, 0, version, false, stageRegistry)
	if err != nil {
		return "", err
	}
	defer r.close()
	if len(tags) == 0 {
		tags = []string{version, "latest"}
	}
	t := publish.Target{Registry: strings.TrimSuffix(registry, "/"), Tags: tags, ArchTags: archTags}
	if registryService != nil {
		svc, err := registryService.Start(ctx)
		if err != nil {
			return "", fmt.Errorf("starting the registry service: %w", err)
		}
		if t.Via, err = svc.Endpoint(ctx); err != nil {
			return "", err
		}
	}
	t.Auth.Username = username
	if password != nil {
		if t.Auth.Plaintext, err = password.Plaintext(ctx); err != nil {
			return "", err
		}
		id, err := password.ID(ctx)
		if err != nil {
			return "", err
		}
		t.Auth.Password = r.client.LoadSecretFromID(sdk.SecretID(id))
	}
	rep, err := core.Publish(ctx, r.client, r.cfg, t)
	if err != nil {
		return "", classify(err)
	}
	return table(rep)
}

// Export builds and verifies every cell and returns a directory with one
// multi-platform OCI archive per component and SHA256SUMS; write it out with
// `export --path ./dist`.
func (m *Matrix) Export(
	ctx context.Context,
	// +default="linux/amd64,linux/arm64"
	platforms string,
	// +optional
	components string,
	// +default="dev"
	version string,
	// Registry where a dependency is staged for the components built FROM
	// it; the engine pushes and pulls it (ci/world/docker.sh or ci/world/up.sh start one).
	// +default="localhost:5000"
	stageRegistry string,
) (*dagger.Directory, error) {
	r, err := m.run(ctx, platforms, components, 0, version, false, stageRegistry)
	if err != nil {
		return nil, err
	}
	defer r.close()
	tmp, err := os.MkdirTemp("", "matrix-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rep, archives, err := core.Export(ctx, r.client, r.cfg, tmp)
	if err != nil {
		return nil, classify(err)
	}
	if _, err := table(rep); err != nil {
		return nil, err
	}
	return m.exported(ctx, r, archives)
}

// session is one function call's connection to the running engine session
// and the run's config.
type session struct {
	client *sdk.Client
	cfg    core.Config
	dir    string
}

func (s *session) close() {
	s.client.Close()
	os.RemoveAll(s.dir)
}

// run joins the session and reads the component specs from the source.
func (m *Matrix) run(ctx context.Context, platforms, components string, jobs int, version string, failFast bool, stageRegistry string) (*session, error) {
	dir, err := os.MkdirTemp("", "matrix-src-")
	if err != nil {
		return nil, err
	}
	comps := m.Source.Directory("components")
	// The specs are read here with plain file I/O, as on the host.
	if _, err := comps.Export(ctx, filepath.Join(dir, "components")); err != nil {
		return nil, fmt.Errorf("reading components: %w", err)
	}
	id, err := comps.ID(ctx)
	if err != nil {
		return nil, err
	}
	c, err := sdk.Connect(ctx)
	if err != nil {
		return nil, err
	}
	cfg := core.Config{
		ComponentsDir: filepath.Join(dir, "components"),
		Source:        c.LoadDirectoryFromID(sdk.DirectoryID(id)),
		Jobs:          jobs,
		FailFast:      failFast,
		Version:       version,
		StageRegistry: stageRegistry,
		Mirrors: map[string]string{
			"APT_MIRROR": m.AptMirror, "GO_PROXY": m.GoProxy, "PYPI_INDEX_URL": m.PypiIndexURL, "NPM_REGISTRY": m.NpmRegistry,
		},
		MaxContext: int64(m.MaxContext),
	}
	for _, p := range strings.Split(platforms, ",") {
		cfg.Platforms = append(cfg.Platforms, strings.TrimSpace(p))
	}
	if components != "" {
		for _, n := range strings.Split(components, ",") {
			cfg.Components = append(cfg.Components, strings.TrimSpace(n))
		}
	}
	return &session{client: c, cfg: cfg, dir: dir}, nil
}

// classify carries the core's exit class out of `dagger call`: the CLI exits
// with the code of an exec error, so the class travels as one (2 bad input,
// 3 engine or registry unreachable). Other errors exit 1.
func classify(err error) error {
	var code int
	switch {
	case core.IsBadInput(err):
		code = 2
	case core.IsUnreachable(err):
		code = 3
	default:
		return err
	}
	return &gqlerror.Error{Message: err.Error(), Extensions: map[string]any{
		"_type": "EXEC_ERROR", "exitCode": code, "cmd": []string{"matrix"},
	}}
}

// table renders the report, and fails with it when a cell failed.
func table(r *report.Report) (string, error) {
	var b strings.Builder
	if err := r.Table(&b); err != nil {
		return "", err
	}
	if !r.OK() {
		return "", fmt.Errorf("%s", b.String())
	}
	return b.String(), nil
}

func failed(r *report.Report) error {
	_, err := table(r)
	return err
}

// exported moves the archives' directory from the core's client to the module's.
func (m *Matrix) exported(ctx context.Context, s *session, archives []export.Archive) (*dagger.Directory, error) {
	id, err := export.Directory(s.client, archives).ID(ctx)
	if err != nil {
		return nil, err
	}
	return dag.LoadDirectoryFromID(dagger.DirectoryID(id)), nil
}
