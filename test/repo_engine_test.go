//go:build engine

package system_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
)

// fixtureSecret is the fixture .env's DB_PASSWORD: declared by no
// Dockerfile, it must never show in an output, a plan or an image.
const fixtureSecret = "fixture-password-never-shown"

// TestRepoEngineRegistry: the fixture repository in the real tree's shape
// (components in src/, every COPY relative to the repository root, a root
// .dockerignore with ! and **, a Dockerfile.dockerignore, a .env, folders
// that are not components, one Dockerfile giving two images by target, a
// package hub served while its consumer builds) plans, builds, verifies and publishes for
// linux/amd64 and linux/arm64 through both entry points: the CLI, and the
// module called by its path from the repository's own directory with
// --source. Every index is read back, and its revision annotation is the
// fixture's commit, not matrix's. The consumer's variant of each platform
// holds what the hub of that platform served: its uname -m (engine,
// registry, dagger -m).
func TestRepoEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository and fixture tree; see ci/test.sh
	ctx := enginetest.Context(t)
	registry := enginetest.Registry(t)
	bin := buildCLI(t)
	repo, rev := enginetest.Repo(t, nil)
	own := strings.TrimSpace(gitOut(t, enginetest.Root(), "rev-parse", "HEAD"))
	require.NotEqual(t, own, rev)
	tree := []string{"--source", repo, "--components-path", "src", "--build-arg-file", filepath.Join(repo, ".env")}

	// The tree is run-wide: its flags go before the verb (they are taken after it too).
	code, out := cli(t, bin, append(slices.Clone(tree), "plan")...)
	require.Equal(t, 0, code, out)
	t.Logf("matrix plan of the fixture repository:\n%s", out)
	assert.Contains(t, out, "upload: "+repo+" (the build context of every component)")
	assert.Contains(t, out, "note: "+repo+"/src/kafka: not a component: it holds only dependency.conf")
	assert.Contains(t, out, "note: "+repo+"/src/safeline: not a component")
	assert.NotContains(t, out, "src/shared", "ignored by matrix.yaml: no note")

	code, out = cli(t, bin, append(slices.Clone(tree), "plan", "--format", "json")...)
	require.Equal(t, 0, code, out)
	var p struct {
		Cells []struct {
			Component    string            `json:"component"`
			Args         map[string]string `json:"args"`
			ContextBytes int64             `json:"context_bytes"`
		} `json:"cells"`
		Edges []struct{ From, To, Kind string } `json:"edges"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	require.Len(t, p.Cells, 12, "api gives two images (images:), each with its cells")
	assert.Equal(t, []struct{ From, To, Kind string }{{"hub", "consumer", "service"}}, p.Edges, "the plan shows what is served to what")
	cells := map[string]int{} // component → its first cell
	for i := len(p.Cells) - 1; i >= 0; i-- {
		cells[p.Cells[i].Component] = i
	}
	require.Len(t, cells, 6, "api/api, api/api-init, backend, consumer, frontend, hub")
	back, front := p.Cells[cells["backend"]], p.Cells[cells["frontend"]]
	assert.Equal(t, map[string]string{"APP_GREETING": "hello from .env"}, back.Args, "backend gets the key it declares")
	assert.Empty(t, front.Args, "frontend declares none")
	assert.Less(t, front.ContextBytes, back.ContextBytes, "frontend's Dockerfile.dockerignore drops third_party/")
	code, out = cli(t, bin, append([]string{"plan", "--components", "api"}, tree...)...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "api/api-init", "a component selects all its images")
	code, out = cli(t, bin, append([]string{"plan", "--components", "consumer"}, tree...)...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "hub        linux/arm64  planned  fixture-repo-hub       -", "a served component is planned with its consumer")
	assert.Contains(t, out, "consumer   linux/arm64  planned  fixture-repo-consumer  consumer <~ hub (service)")

	platforms := []string{"linux/amd64", "linux/arm64"}
	publishArgs := []string{"--platforms", strings.Join(platforms, ","), "--tags", "v1", "--version", "v1", "--no-attest"}
	runs := []struct {
		name string
		run  func(repoPath string) (int, string)
	}{
		{"matrix", func(to string) (int, string) {
			return cli(t, bin, append(append(slices.Clone(tree), "--registry", to, "publish"), publishArgs...)...)
		}},
		{"dagger -m", func(to string) (int, string) {
			// From the repository's own directory, as its CI job calls the module.
			return enginetest.DaggerIn(t, ctx, repo, append([]string{"-m", enginetest.Root(), "call", "--source", ".", "--components-path", "src",
				"--build-arg-file", ".env", "--registry", to, "--registry-service", "tcp://" + registry, "publish"}, publishArgs...)...)
		}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			to := registry + "/" + enginetest.Unique("repo")
			code, out := r.run(to)
			require.Equal(t, 0, code, out)
			assert.Contains(t, out, "12/12 cells verified")
			assert.NotContains(t, out, fixtureSecret)
			// One index per image: api's two targets of one Dockerfile each have theirs.
			for _, img := range []string{"fixture-repo-api", "fixture-repo-api-init", "fixture-repo-backend", "fixture-repo-frontend",
				"fixture-repo-hub", "fixture-repo-consumer"} {
				readBack(t, ctx, to+"/"+img+":v1", platforms, rev)
			}
			machine := map[string]string{"amd64": "x86_64\n", "arm64": "aarch64\n"}
			for _, v := range enginetest.ReadIndex(t, ctx, to+"/fixture-repo-consumer:v1") {
				assert.Equal(t, machine[v.Platform.Architecture], string(v.Files["fetched-arch"]),
					"the consumer's %s variant holds what the %s hub served", v.Platform.Architecture, v.Platform.Architecture)
			}
		})
	}
}

// TestServiceNeverAnswersEngine: a service whose port never opens fails
// the consumer's cell at serve, naming the component and port, within the
// wait component.yaml gives; nothing hangs (engine).
func TestServiceNeverAnswersEngine(t *testing.T) {
	t.Parallel() // its own fixture tree, nothing pushed; see ci/test.sh
	enginetest.Context(t)
	bin := buildCLI(t)
	repo, _ := enginetest.Repo(t, map[string]string{
		"src/consumer/component.yaml": "services:\n  - {component: hub, port: 9999, arg: HUB_URL, wait: 10s}\n",
	})
	t0 := time.Now()
	code, out := cli(t, bin, "build-all", "--source", repo, "--components-path", "src", "--components", "consumer", "--platforms", "linux/amd64")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "consumer linux/amd64 failed at serve")
	assert.Contains(t, out, "consumer linux/amd64: service hub port 9999 did not answer within 10s (check that hub serves on port 9999, or raise wait: under services: in "+
		filepath.Join(repo, "src/consumer/component.yaml"))
	assert.Contains(t, out, "1/2 cells verified, 1 not")
	t.Logf("figures: service_never_answers_seconds=%.1f", time.Since(t0).Seconds())
}

// readBack checks that ref is a complete index of platforms whose revision
// annotation is rev, and that no image config holds the fixture's secret.
func readBack(t *testing.T, ctx context.Context, ref string, platforms []string, rev string) {
	t.Helper()
	_, err := publish.ReadBack(ctx, enginetest.Ref(t, ref), platforms)
	require.NoError(t, err, "%s holds every platform", ref)
	idx, err := remote.Index(enginetest.Ref(t, ref), remote.WithContext(ctx))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	assert.Equal(t, rev, m.Annotations["org.opencontainers.image.revision"], "%s: the fixture's commit, not matrix's", ref)
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		require.NoError(t, err)
		cfg, err := img.RawConfigFile()
		require.NoError(t, err)
		assert.NotContains(t, string(cfg), fixtureSecret, "%s %s: no undeclared key in the image", ref, d.Platform)
		assert.NotContains(t, string(cfg), "UNUSED_SETTING")
	}
}

// TestModuleOwnTreeEngine: the module called by path from another
// repository without --source says it plans its own components, not the
// caller's tree (engine, dagger -m).
func TestModuleOwnTreeEngine(t *testing.T) {
	repo, _ := enginetest.Repo(t, nil)
	code, out := enginetest.DaggerIn(t, enginetest.Context(t), repo, "-m", enginetest.Root(), "call", "plan", "--platforms", "linux/amd64")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "note: no --source or --components-dir: this is the matrix module's own components/, not your tree")
	assert.Contains(t, out, "nightingale", "the module's own components")
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}

// TestInitEngine: `matrix init` and `dagger call init` adopt the same tree
// as a build script left it (no matrix files; build-targets.conf and
// .env.example instead) and write the same files, byte for byte; the
// module's second call writes nothing (engine, dagger -m).
func TestInitEngine(t *testing.T) {
	ctx := enginetest.Context(t)
	bin := buildCLI(t)
	unadopted := func() string {
		repo, _ := enginetest.Repo(t, map[string]string{
			"src/api/build-targets.conf": "api fixture-repo-api\napi-init fixture-repo-api-init\n",
		})
		for _, f := range []string{"src/matrix.yaml", "src/api/component.yaml", "src/backend/component.yaml", "src/frontend/component.yaml",
			"src/hub/component.yaml", "src/consumer/component.yaml"} {
			require.NoError(t, os.Remove(filepath.Join(repo, f)))
		}
		env, err := os.ReadFile(filepath.Join(repo, ".env"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(repo, ".env.example"), env, 0o644))
		return repo
	}
	byCLI, byModule := unadopted(), unadopted()

	code, out := cli(t, bin, "init", byCLI)
	require.Equal(t, 0, code, out)
	call := []string{"-m", enginetest.Root(), "call", "--source", ".", "--components-path", "src", "init", "export", "--path", "."}
	code, out = enginetest.DaggerIn(t, ctx, byModule, call...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "created  src/matrix.yaml")
	assert.Contains(t, out, "api/api-init", "the plan of what it wrote")
	for _, f := range []string{"src/matrix.yaml", "src/api/component.yaml", "src/consumer/component.yaml", "src/third-party.yaml"} {
		want, err := os.ReadFile(filepath.Join(byCLI, f))
		require.NoError(t, err, "matrix init wrote %s", f)
		got, err := os.ReadFile(filepath.Join(byModule, f))
		require.NoError(t, err, "dagger call init wrote %s", f)
		assert.Equal(t, string(want), string(got), "%s: the same from both entry points", f)
	}

	code, out = enginetest.DaggerIn(t, ctx, byModule, call...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "unchanged  src/matrix.yaml")
	assert.NotContains(t, out, "created")
}
