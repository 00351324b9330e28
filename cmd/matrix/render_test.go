package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// writeReport writes a report of two timed cells, one failed, as --report does.
func writeReport(t *testing.T, dir, name string, secs float64) string {
	t.Helper()
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	r := &report.Report{Platforms: []string{"linux/amd64"}, Started: start, Seconds: secs}
	r.Set(report.Cell{Component: "base", Platform: "linux/amd64", Status: report.Verified, Started: start,
		Ended: start.Add(time.Duration(secs) * time.Second), Seconds: secs})
	r.Set(report.Cell{Component: "web", Platform: "linux/amd64", Status: report.Failed, Step: "smoke", Output: "web: not found",
		Started: start, Ended: start.Add(time.Second), Seconds: 1})
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, r.JSON(f))
	require.NoError(t, f.Close())
	return path
}

func TestRenderCommand(t *testing.T) {
	dir := t.TempDir()
	now := writeReport(t, dir, "now.json", 30)
	before := writeReport(t, dir, "before.json", 10)
	results := filepath.Join(dir, "results.json")
	b, err := json.Marshal(report.Results{Components: []report.ComponentResult{}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(results, b, 0o644))
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
		page []string // what the page holds
	}{
		{"a report", []string{"render", "--html", "{out}", now}, 0, "wrote", []string{`data-cell="base linux/amd64"`, "web: not found"}},
		{"against a previous run", []string{"render", "--html", "{out}", "--previous", before, now}, 0, "wrote", []string{"slower: base linux/amd64"}},
		{"not a report", []string{"render", "--html", "{out}", results}, 2, results + ": not a matrix report", nil},
		{"previous not a report", []string{"render", "--html", "{out}", "--previous", results, now}, 2, "--previous " + results + ": not a matrix report", nil},
		{"no such report", []string{"render", "--html", "{out}", filepath.Join(dir, "nope.json")}, 2, "nope.json", nil},
		{"no --html", []string{"render", now}, 2, "render needs --html FILE and one report", nil},
		{"no report", []string{"render", "--html", "{out}"}, 2, "render needs --html FILE and one report", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "page.html")
			require.NoError(t, os.WriteFile(out, []byte("before"), 0o644))
			args := append([]string(nil), tc.args...)
			for i := range args {
				if args[i] == "{out}" {
					args[i] = out
				}
			}
			code, _, errw := runCLI(args...)
			assert.Equal(t, tc.code, code, errw)
			assert.Contains(t, errw, tc.msg)
			page, err := os.ReadFile(out)
			require.NoError(t, err)
			if tc.code != 0 {
				assert.Equal(t, "before", string(page), "bad input changes nothing")
				return
			}
			for _, s := range tc.page {
				assert.Contains(t, string(page), s)
			}
		})
	}
}

func TestPreviousNotAReportExitsTwo(t *testing.T) {
	t.Setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "unix:///nonexistent/engine.sock")
	bad := filepath.Join(t.TempDir(), "prev.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"ok": true, "components": []}`), 0o644))
	html := filepath.Join(t.TempDir(), "page.html")
	code, _, errw := runCLI("build-all", "--components-dir", fixture(t, map[string]string{"backend": ""}), "--previous", bad, "--html", html)
	assert.Equal(t, 2, code, errw)
	assert.Contains(t, errw, "--previous "+bad+": not a matrix report")
	assert.NotContains(t, errw, "engine", "refused before the engine")
	assert.NoFileExists(t, html)
}
