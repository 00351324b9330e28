package reliability

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// deadStage is a stage registry address nothing listens on.
const deadStage = "127.0.0.1:5999"

// daggerCall runs `dagger call ARGS` against the real engine.
func daggerCall(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return enginetest.Dagger(t, testCtx(t), append([]string{"call"}, args...)...)
}

// TestUnreachableStageRegistry: a plan with a dependent (child FROM base) and
// a stage registry that does not answer exits 3 before any cell is built,
// naming the address and the fix, through both entry points (engine, CLI,
// dagger call).
func TestUnreachableStageRegistry(t *testing.T) {
	bin := matrixBin(t)
	dir := enginetest.Fixtures(t, false)
	src := t.TempDir()
	require.NoError(t, os.Rename(dir, filepath.Join(src, "components")))
	// Warm the module first so the bound below times the check, not the
	// module's first load on a cold engine.
	code, out := daggerCall(t, "--source", src, "plan")
	require.Equal(t, 0, code, out)
	for _, tc := range []struct {
		name string
		run  func() (int, string)
	}{
		{"matrix", func() (int, string) {
			code, out, errw := cliRun(t, bin, nil, "build-all", "--components-dir", filepath.Join(src, "components"), "--stage-registry", deadStage)
			return code, out + errw
		}},
		{"dagger call", func() (int, string) {
			return daggerCall(t, "--source", src, "build-all", "--stage-registry", deadStage)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out := tc.run()
			took := time.Since(start)
			assert.Equal(t, 3, code, out)
			assert.Less(t, took, 10*time.Second, "fails at once, before any build")
			for _, want := range []string{"child build FROM", "stage registry " + deadStage, "connection refused", "ci/world/docker.sh up", "--stage-registry"} {
				assert.Contains(t, out, want)
			}
			assert.NotContains(t, out, "cells verified", "no cell was built or reported")
			assert.NotContains(t, out, "/etc/fixture-base", "base's RUN never started")
			t.Logf("figures: entry=%q seconds=%.2f", tc.name, took.Seconds())
		})
	}
}

// TestFaultSkippedReasonInTable: when a dependency fails on one platform, its
// dependent's skipped cells say why in the table, not only in JSON (engine,
// registry).
func TestFaultSkippedReasonInTable(t *testing.T) {
	bin := matrixBin(t)
	enginetest.Connect(t)
	registry := enginetest.Registry(t)
	dir := enginetest.Components(t, map[string]map[string]string{
		"base": {"Dockerfile": "FROM debian:bookworm-slim\nRUN if [ \"$(uname -m)\" = aarch64 ]; then exit 7; fi; echo ok > /ok\n",
			"component.yaml": "image: fixture-skipbase\nsmoke: [cat, /ok]\n"},
		"child": {"Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
			"component.yaml": "image: fixture-skipchild\ndepends_on: [base]\nsmoke: [cat, /ok]\n"},
	})
	code, out, errw := cliRun(t, bin, nil, "build-all", "--components-dir", dir, "--stage-registry", registry)
	assert.Equal(t, 1, code, errw)
	for _, pl := range []string{"linux/amd64", "linux/arm64"} {
		assert.Contains(t, out, "\nchild "+pl+" skipped\n  dependency base: base did not build on every platform\n")
	}
	assert.Contains(t, out, "base linux/arm64 failed at build")
}

// TestUnreachablePublishRegistry: publishing to a registry nothing listens
// on exits 3 before any build, through both entry points (engine, CLI,
// dagger call); a duplicated platform is bad input (2) through both.
func TestUnreachablePublishRegistry(t *testing.T) {
	bin := matrixBin(t)
	src := t.TempDir()
	require.NoError(t, os.Rename(enginetest.DependencyFixtures(t), filepath.Join(src, "components")))
	comps := filepath.Join(src, "components")
	for _, tc := range []struct {
		name string
		code int
		run  func() (int, string)
		want []string
	}{
		{"matrix publish, stopped registry", 3, func() (int, string) {
			code, out, errw := cliRun(t, bin, nil, "publish", "--components-dir", comps, "--registry", deadStage+"/ai-infra")
			return code, out + errw
		}, []string{"registry " + deadStage + "/ai-infra does not answer", "connection refused"}},
		{"dagger call publish, stopped registry", 3, func() (int, string) {
			return daggerCall(t, "--source", src, "publish", "--registry", deadStage+"/ai-infra", "--registry-service", "tcp://"+deadStage)
		}, []string{"does not answer"}},
		{"dagger call publish, unreachable host", 3, func() (int, string) {
			return daggerCall(t, "--source", src, "publish", "--registry", "localhost:5999/ai-infra")
		}, []string{"registry localhost:5999/ai-infra does not answer", "connection refused"}},
		{"matrix plan, platform twice", 2, func() (int, string) {
			code, out, errw := cliRun(t, bin, nil, "plan", "--components-dir", comps, "--platforms", "linux/amd64,linux/amd64")
			return code, out + errw
		}, []string{"--platforms: linux/amd64 is listed twice"}},
		{"dagger call plan, platform twice", 2, func() (int, string) {
			return daggerCall(t, "--source", src, "plan", "--platforms", "linux/amd64,linux/amd64")
		}, []string{"--platforms: linux/amd64 is listed twice"}},
		{"dagger call publish, platform twice", 2, func() (int, string) {
			return daggerCall(t, "--source", src, "publish", "--registry", "localhost:5000/x", "--platforms", "linux/amd64,linux/amd64")
		}, []string{"--platforms: linux/amd64 is listed twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := tc.run()
			assert.Equal(t, tc.code, code, out)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			assert.NotContains(t, out, "cells verified", "nothing was built")
		})
	}
}

// TestDaggerCallMirrorAndContextLimit: the module takes the CLI's run-wide
// options: --apt-mirror reaches a Dockerfile that declares ARG APT_MIRROR
// (its smoke command checks the value), and --max-context refuses a
// context above it as bad input (engine, dagger call).
func TestDaggerCallMirrorAndContextLimit(t *testing.T) {
	const mirror = "http://mirror.example/debian"
	src := t.TempDir()
	require.NoError(t, os.Rename(enginetest.Components(t, map[string]map[string]string{"mirrored": {
		"Dockerfile":     "FROM debian:bookworm-slim\nARG APT_MIRROR\nRUN echo \"$APT_MIRROR\" > /mirror\n",
		"component.yaml": "smoke: [sh, -c, 'test \"$(cat /mirror)\" = " + mirror + "']\n",
	}}), filepath.Join(src, "components")))
	code, out := daggerCall(t, "--source", src, "--apt-mirror", mirror, "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "1/1 cells verified")
	code, out = daggerCall(t, "--source", src, "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 1, code, "without the mirror the smoke check fails: %s", out)
	code, out = daggerCall(t, "--source", src, "--max-context", "10", "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--max-context")
}
