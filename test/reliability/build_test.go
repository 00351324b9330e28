//go:build engine

package reliability

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
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
			res, err := enginetest.Local(t, matrix.Options{Run: matrix.RunOptions{Jobs: 4, StageRegistry: registry}}, tc.dir).BuildAll(ctx, c, c.Host().Directory(tc.dir))
			require.Error(t, err)
			assert.Equal(t, class.Failed, class.Of(err), "a failed cell exits 1")
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

// TestCIReportsEngine: a CLI run with a cell failing on arm64 writes the
// JUnit file (read back with a JUnit parser), results.json, the GitHub step
// summary and one ::error annotation (engine, registry, matrix CLI).
func TestCIReportsEngine(t *testing.T) {
	enginetest.Connect(t)
	registry := enginetest.Registry(t)
	bin := matrixBin(t)
	dir := enginetest.Fixtures(t, true)
	out := t.TempDir()
	summary := filepath.Join(out, "summary.md")
	env := []string{"GITHUB_STEP_SUMMARY=" + summary, "GITHUB_ACTIONS=true"}
	code, stdout, stderr := cliRun(t, bin, env, "build-all", "--components-dir", dir, "--stage-registry", registry,
		"--junit", filepath.Join(out, "junit.xml"), "--results", filepath.Join(out, "results.json"))
	require.Equal(t, 1, code, stdout+stderr)

	suites, err := junit.IngestFile(filepath.Join(out, "junit.xml"))
	require.NoError(t, err)
	require.Len(t, suites, 1)
	assert.Equal(t, 8, suites[0].Totals.Tests, "one case per cell")
	assert.Equal(t, 1, suites[0].Totals.Failed)
	for _, tc := range suites[0].Tests {
		if tc.Status == junit.StatusFailed {
			assert.Equal(t, "armfails linux/arm64", tc.Name)
			assert.Contains(t, tc.Message, "failed at build")
			assert.Contains(t, tc.Error.Error(), "no arm64 support in this step")
		}
	}

	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	var res report.Results
	require.NoError(t, json.Unmarshal(b, &res))
	assert.False(t, res.OK)
	assert.Len(t, res.Components, 4)

	md, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Less(t, len(md), report.SummaryLimit)
	assert.Contains(t, string(md), "| armfails | linux/arm64 | failed | build |")
	assert.Contains(t, stdout, "::error title=armfails linux/arm64::failed at build")
	t.Logf("figures: junit_cases=%d summary_bytes=%d", suites[0].Totals.Tests, len(md))
}

// TestProgressEventsEngine: the cell events of a run with a failure and a
// skip come in order, per cell and across the dependency (engine).
func TestProgressEventsEngine(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx := testCtx(t)
	dir := enginetest.Components(t, map[string]map[string]string{
		"armfails": {"Dockerfile": "FROM debian:bookworm-slim\nRUN if [ \"$(uname -m)\" = aarch64 ]; then echo no arm64 >&2; exit 42; fi; echo ok > /ok\n",
			"component.yaml": "smoke: [cat, /ok]\n"},
		"after": {"Dockerfile": "ARG ARMFAILS_IMAGE\nFROM ${ARMFAILS_IMAGE}\n", "component.yaml": "depends_on: [armfails]\nsmoke: [cat, /ok]\n"},
	})
	var mu sync.Mutex
	var events []string
	o := matrix.Options{Run: matrix.RunOptions{Jobs: 2, StageRegistry: registry}, Events: func(e report.Event) {
		mu.Lock()
		defer mu.Unlock()
		s := e.Component + " " + e.Platform + " " + e.Kind
		if e.Step != "" {
			s += " at " + e.Step
		}
		events = append(events, s)
	}}
	_, err := enginetest.Local(t, o, dir).BuildAll(ctx, c, c.Host().Directory(dir))
	require.Error(t, err)
	per := map[string][]string{}
	for _, e := range events {
		f := strings.Fields(e)
		per[f[0]+" "+f[1]] = append(per[f[0]+" "+f[1]], strings.Join(f[2:], " "))
	}
	assert.Equal(t, []string{"started", "built", "verified"}, per["armfails linux/amd64"])
	assert.Equal(t, []string{"started", "failed at build"}, per["armfails linux/arm64"])
	assert.Equal(t, []string{"skipped"}, per["after linux/amd64"])
	assert.Equal(t, []string{"skipped"}, per["after linux/arm64"])
	last := func(prefix string) int {
		i := -1
		for j, e := range events {
			if strings.HasPrefix(e, prefix) {
				i = j
			}
		}
		return i
	}
	assert.Less(t, last("armfails "), last("after "), "the dependent is skipped after its dependency ended: %v", events)
	assert.Len(t, events, 7)
	t.Logf("figures: events=%q", events)
}
