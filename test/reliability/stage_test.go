//go:build engine

package reliability

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	// The module loaded first: the figure below is then the check's, not
	// the module's first load. "Before any build" is what the output shows
	// (no fixture RUN, no cell), not a time bound, which a loaded machine
	// would break.
	code, out := daggerCall(t, "--components-dir", filepath.Join(src, "components"), "plan")
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
			return daggerCall(t, "--components-dir", filepath.Join(src, "components"), "build-all", "--stage-registry", deadStage)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out := tc.run()
			took := time.Since(start)
			assert.Equal(t, 3, code, out)
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
	enginetest.Engine(t) // the verbs connect to the engine before they ask the registry
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
			return daggerCall(t, "--components-dir", filepath.Join(src, "components"), "--registry", deadStage+"/ai-infra", "--registry-service", "tcp://"+deadStage, "publish")
		}, []string{"does not answer"}},
		{"dagger call publish, unreachable host", 3, func() (int, string) {
			return daggerCall(t, "--components-dir", filepath.Join(src, "components"), "--registry", "localhost:5999/ai-infra", "publish")
		}, []string{"registry localhost:5999/ai-infra does not answer", "connection refused"}},
		{"matrix plan, platform twice", 2, func() (int, string) {
			code, out, errw := cliRun(t, bin, nil, "plan", "--components-dir", comps, "--platforms", "linux/amd64,linux/amd64")
			return code, out + errw
		}, []string{"--platforms: linux/amd64 is listed twice"}},
		{"dagger call plan, platform twice", 2, func() (int, string) {
			return daggerCall(t, "--components-dir", filepath.Join(src, "components"), "plan", "--platforms", "linux/amd64,linux/amd64")
		}, []string{"--platforms: linux/amd64 is listed twice"}},
		{"dagger call publish, platform twice", 2, func() (int, string) {
			return daggerCall(t, "--components-dir", filepath.Join(src, "components"), "--registry", "localhost:5000/x", "publish", "--platforms", "linux/amd64,linux/amd64")
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
	code, out := daggerCall(t, "--components-dir", filepath.Join(src, "components"), "--apt-mirror", mirror, "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "1/1 cells verified")
	// The file the Dockerfile wrote, read back from the exported image.
	dist := t.TempDir()
	code, out = daggerCall(t, "--components-dir", filepath.Join(src, "components"), "--apt-mirror", mirror, "export", "--platforms", "linux/amd64", "export", "--path", dist)
	require.Equal(t, 0, code, out)
	archives, err := filepath.Glob(filepath.Join(dist, "*.oci.tar"))
	require.NoError(t, err)
	require.Len(t, archives, 1)
	assert.Equal(t, mirror+"\n", layerFile(t, archives[0], "mirror"), "the mirror reached ARG APT_MIRROR")
	code, out = daggerCall(t, "--components-dir", filepath.Join(src, "components"), "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 1, code, "without the mirror the smoke check fails: %s", out)
	code, out = daggerCall(t, "--components-dir", filepath.Join(src, "components"), "--max-context", "10", "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--max-context")
}

// TestDaggerCallSecret: a --secret with its --secret-id reaches RUN
// --mount=type=secret through the module (engine, dagger call); the value
// never shows in the output, and without it the cell fails at its secrets.
func TestDaggerCallSecret(t *testing.T) {
	const token = "dagger-call-token-5c1e9a"
	sum := sha256.Sum256([]byte(token))
	fp := hex.EncodeToString(sum[:])[:12]
	dir := enginetest.Components(t, map[string]map[string]string{"vault": {
		"Dockerfile":     "FROM debian:bookworm-slim\nRUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -c1-12 > /token.fp\n",
		"component.yaml": "secrets: [token]\nsmoke: [sh, -c, 'test \"$(cat /token.fp)\" = " + fp + "']\n",
	}})
	t.Setenv("MATRIX_TEST_TOKEN", token)
	code, out := daggerCall(t, "--components-dir", dir, "--secret", "env://MATRIX_TEST_TOKEN", "--secret-id", "token", "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "1/1 cells verified", "the smoke command found the secret's fingerprint")
	assert.NotContains(t, out, token)
	code, out = daggerCall(t, "--components-dir", dir, "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, `secret "token" is not provided: pass it with --secret`)
}

// layerFile is the content of file name (a path in the image, without the
// leading /) in the layers of an OCI archive; "" when no layer holds it.
func layerFile(t *testing.T, archive, name string) string {
	t.Helper()
	for _, blob := range archiveContents(t, archive) {
		tr := tar.NewReader(bytes.NewReader(blob))
		for {
			hdr, err := tr.Next()
			if err != nil {
				break // the end, or a blob that is not a layer
			}
			if strings.TrimPrefix(hdr.Name, "./") == name {
				b, err := io.ReadAll(tr)
				require.NoError(t, err)
				return string(b)
			}
		}
	}
	return ""
}
