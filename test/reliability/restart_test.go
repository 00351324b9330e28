//go:build engine && restart

package reliability

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// restartEngine stops the world's engine and starts it again with
// ci/world/lib.sh, as an operator (or a crash and a supervisor) would, and
// returns what the scripts said. The restarted engine is not recorded as
// started by this run (MATRIX_STARTED_FILE): .ci/run then stops it only if
// it started it, and a developer's engine stays up.
func restartEngine(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", `. ci/world/lib.sh && stop_pid "$STATE/run/engine.pid" engine && start_engine`)
	cmd.Dir = enginetest.Root()
	cmd.Env = append(os.Environ(), "MATRIX_STARTED_FILE=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "restarting the engine: %s", out)
	return string(out)
}

// TestEngineRestartKeepsCache: build a dependency and its dependent, stop
// the engine gracefully and start it again (ci/world/lib.sh's stop_pid, as
// down.sh and every restart in the world scripts do), and build again. The
// engine stopped cleanly, so it kept its cache: its log after the start has
// no "marked unclean; wiping" (what a killed engine says, docs/cache.md),
// and the run after the restart verifies every cell. What the engine then
// rebuilt is its own choice and varies from run to run (a layer made just
// before a restart comes back as a new tar): the staged digests and each
// cell's seconds are logged as figures, not asserted.
func TestEngineRestartKeepsCache(t *testing.T) {
	enginetest.Engine(t)
	state := requireWorldEngine(t)
	bin := matrixBin(t)
	dir := enginetest.Components(t, map[string]map[string]string{
		"dep": {
			"Dockerfile":     "FROM debian:bookworm-slim\nARG NONCE\nRUN echo $NONCE > /dep && sleep 2\n",
			"component.yaml": "args: {NONCE: \"${VERSION}\"}\nsmoke: [test, -s, /dep]\n",
		},
		"app": {
			"Dockerfile":     "ARG DEP_IMAGE\nFROM ${DEP_IMAGE}\nRUN cp /dep /app && sleep 2\n",
			"component.yaml": "depends_on: [dep]\nsmoke: [test, -s, /app]\n",
		},
	})
	version := enginetest.Unique("keep")
	build := func(what string) {
		results := filepath.Join(t.TempDir(), "results.json")
		code, out, errw := cliRun(t, bin, nil, "build-all", "--components-dir", dir, "--platforms", "linux/amd64,linux/arm64",
			"--version", version, "--results", results)
		require.Equal(t, 0, code, "%s build: %s%s", what, out, errw)
		assert.Contains(t, out+errw, "4/4 cells verified", "%s build", what)
		t.Logf("figures: %s: dep staged as %s, seconds %v", what, stagedDigest(t, "ai-infra-dep"), cellSeconds(t, results))
	}
	build("first")
	said := restartEngine(t)
	t.Logf("figures: restart=%q", strings.TrimSpace(said))
	assert.NotContains(t, said, "killing it", "the engine did not stop within the wait and was killed")
	log, err := os.ReadFile(filepath.Join(state, "log", "engine.log"))
	require.NoError(t, err)
	assert.NotContains(t, string(log), "marked unclean", "the restarted engine wiped its cache: it was not stopped cleanly")
	build("after a graceful restart")
}

// cellSeconds reads a results file: seconds by "component platform".
func cellSeconds(t *testing.T, path string) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var res report.Results
	require.NoError(t, json.Unmarshal(b, &res))
	out := map[string]float64{}
	for _, c := range res.Components {
		for _, p := range c.Platforms {
			out[c.Component+" "+p.Platform] = p.Seconds
		}
	}
	return out
}

// stagedDigest is the digest at the stage tag of image in the world's
// registry: the same after each restart when the dependents kept their cache.
func stagedDigest(t *testing.T, image string) string {
	t.Helper()
	d, err := crane.Digest(matrix.DefaultStageRegistry+"/matrix-stage/"+image+":"+publish.StageTag, crane.Insecure)
	require.NoError(t, err)
	return d
}

// requireWorldEngine skips (fails in CI) unless the engine is the world's
// own (ci/world/up.sh), the one a test may restart; it returns the world's
// state directory.
func requireWorldEngine(t *testing.T) string {
	t.Helper()
	state := os.Getenv("MATRIX_STATE")
	if state == "" {
		state = "/var/lib/matrix"
	}
	if _, err := os.Stat(filepath.Join(state, "run", "engine.pid")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the world's engine pid file is missing: %v", err)
		}
		t.Skip("engine not started by ci/world/up.sh")
	}
	return state
}

// TestFaultEngineRestart (last in the suite: it restarts the engine): a run
// whose engine restarts mid-build fails with a clear message, and a rerun
// succeeds. Runs only against the world's own engine (ci/world/up.sh).
func TestFaultEngineRestart(t *testing.T) {
	enginetest.Engine(t)
	requireWorldEngine(t)
	bin := matrixBin(t)
	dir := enginetest.Components(t, map[string]map[string]string{"slow": {
		"Dockerfile":     "FROM debian:bookworm-slim\nARG NONCE\nRUN echo $NONCE && sleep 25 && touch /done\n",
		"component.yaml": "args: {NONCE: \"${VERSION}\"}\nsmoke: [test, -f, /done]\n",
	}})
	version := enginetest.Unique("restart")
	done := make(chan struct{})
	var code int
	var out, errw string
	start := time.Now()
	go func() {
		defer close(done)
		code, out, errw = cliRun(t, bin, nil, "build-all", "--components-dir", dir, "--platforms", "linux/amd64", "--version", version)
	}()
	time.Sleep(8 * time.Second) // the RUN step is under way
	restartEngine(t)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatal("the run did not end after the engine restarted")
	}
	took := time.Since(start)
	assert.NotEqual(t, 0, code, "a run that lost its engine does not succeed")
	msg := out + errw
	assert.True(t, strings.Contains(msg, "slow linux/amd64") || strings.Contains(msg, "engine"), "the failure names the cell or the engine: %s", msg)
	t.Logf("figures: restart_run_exit=%d seconds=%.1f", code, took.Seconds())
	t.Logf("the failed run said:\n%s", msg)

	// The rerun, on the restarted engine, completes.
	code, out, errw = cliRun(t, bin, nil, "build-all", "--components-dir", dir, "--platforms", "linux/amd64", "--version", version)
	assert.Equal(t, 0, code, out+errw)
	assert.Contains(t, out, "1/1 cells verified")
}
