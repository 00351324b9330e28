package reliability

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// matrixBin builds the CLI once per test binary.
func matrixBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(os.TempDir(), "matrix-reliability-cli")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/matrix")
	cmd.Dir = enginetest.Root()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// cliRun runs the CLI with env additions and returns exit code, stdout, stderr.
func cliRun(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return enginetest.Run(t, cmd)
}
