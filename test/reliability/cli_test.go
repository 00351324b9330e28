package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// matrixBin builds the CLI once per test binary, into a directory of its
// own: two test runs at once never run each other's build.
func matrixBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "matrix-reliability-cli-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "matrix")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/matrix")
		cmd.Dir = enginetest.Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/matrix: %w\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// cliRun runs the CLI with env additions and returns exit code, stdout, stderr.
func cliRun(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return enginetest.Run(t, cmd)
}
