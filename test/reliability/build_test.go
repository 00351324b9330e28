package reliability

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// TestFaultBuild: a cell failing only on arm64 and a failing smoke command
// are each reported on exactly their cells, with step and output.
func TestFaultBuild(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx := testCtx(t)
	dir := enginetest.Fixtures(t, true)
	smoky := enginetest.Components(t, map[string]map[string]string{"smoky": {
		"Dockerfile":     "FROM debian:bookworm-slim\n",
		"component.yaml": "smoke: [sh, -c, 'echo smoke broke on $(uname -m) >&2; exit 3']\n",
	}})
	for _, tc := range []struct {
		name, dir, comp, platform, step, output string
		failed                                  int
	}{
		{"arm64-only RUN failure", dir, "armfails", "linux/arm64", "build", "no arm64 support in this step", 1},
		{"smoke command fails", smoky, "smoky", "linux/arm64", "smoke", "smoke broke on aarch64", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := enginetest.Local(t, matrix.Options{Jobs: 4, StageRegistry: registry}, tc.dir).BuildAll(ctx, c, c.Host().Directory(tc.dir))
			require.Error(t, err)
			assert.Equal(t, report.ExitFailed, matrix.ExitCode(err), "a failed cell exits 1")
			failed := res.Report.Failed()
			assert.Len(t, failed, tc.failed)
			got, ok := res.Report.Get(tc.comp, tc.platform)
			require.True(t, ok)
			assert.Equal(t, report.Failed, got.Status)
			assert.Equal(t, tc.step, got.Step)
			assert.Contains(t, got.Output, tc.output)
			assert.Contains(t, got.Error, tc.comp+" "+tc.platform)
		})
	}
}
