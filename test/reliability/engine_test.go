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

// TestUnreachableEngine: a wrong socket, a socket nobody listens on, and a
// doctor run against them each fail within 10 s, naming the problem and the fix.
func TestUnreachableEngine(t *testing.T) {
	bin := matrixBin(t)
	dir := enginetest.Fixtures(t, false)
	dead := filepath.Join(t.TempDir(), "engine.sock")
	require.NoError(t, os.WriteFile(dead, nil, 0o600))
	for _, tc := range []struct {
		name string
		host string
		args []string
		code int
		want []string
	}{
		{"wrong socket", "unix:///nonexistent/dagger/engine.sock", []string{"build-all", "--components-dir", dir}, 3, []string{"is not reachable", "no such file", "task setup"}},
		{"stopped engine", "unix://" + dead, []string{"build-all", "--components-dir", dir}, 3, []string{"is not reachable", "connection refused", "task setup"}},
		{"doctor, stopped engine", "unix://" + dead, []string{"doctor", "--registry", "127.0.0.1:1"}, 3, []string{"FAIL  engine", "fix:", "FAIL  registry 127.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out, errw := cliRun(t, bin, []string{"_EXPERIMENTAL_DAGGER_RUNNER_HOST=" + tc.host}, tc.args...)
			took := time.Since(start)
			assert.Less(t, took, 10*time.Second, "answered within 10 s")
			assert.Equal(t, tc.code, code, out+errw)
			for _, w := range tc.want {
				assert.Contains(t, out+errw, w)
			}
			t.Logf("figures: case=%q seconds=%.2f", tc.name, took.Seconds())
		})
	}
}
