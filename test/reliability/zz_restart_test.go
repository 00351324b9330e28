package reliability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// restartEngine stops the world's engine and starts it again with
// ci/world/lib.sh, as an operator (or a crash and a supervisor) would.
func restartEngine(t *testing.T) {
	t.Helper()
	cmd := exec.Command("bash", "-c", `. ci/world/lib.sh && stop_pid "$STATE/run/engine.pid" engine && start_engine`)
	cmd.Dir = enginetest.Root()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "restarting the engine: %s", out)
}

// TestFaultEngineRestart (last in the suite: it restarts the engine): a run
// whose engine restarts mid-build fails with a clear message, and a rerun
// succeeds. Runs only against the world's own engine (ci/world/up.sh).
func TestFaultEngineRestart(t *testing.T) {
	enginetest.Connect(t)
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
