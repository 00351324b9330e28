//go:build engine

package system_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
)

// dagger runs the dagger CLI in the repository root against the real
// engine and returns its combined output and exit code.
func dagger(t *testing.T, ctx context.Context, args ...string) (string, int) {
	t.Helper()
	code, out := enginetest.Dagger(t, ctx, args...)
	return out, code
}

// sourceRoot is a repository-like directory whose components/ holds the fixtures.
func sourceRoot(t *testing.T, withArmFailure bool) string {
	root := t.TempDir()
	require.NoError(t, os.Rename(enginetest.Fixtures(t, withArmFailure), filepath.Join(root, "components")))
	return root
}

// TestDaggerFunctionsEngine: every function of the module is listed with its description.
func TestDaggerFunctionsEngine(t *testing.T) {
	out, code := dagger(t, enginetest.Context(t), "functions")
	require.Equal(t, 0, code, out)
	for fn, desc := range map[string]string{
		"plan":            "Plan lists the cells",
		"build-component": "BuildComponent builds one component",
		"build-all":       "BuildAll builds and verifies every cell",
		"verify":          "Verify builds every cell",
		"publish":         "Publish builds and verifies every cell",
		"export":          "Export builds and verifies every cell",
		"report":          "Report builds and verifies every cell",
		"import":          "Import pushes an offline bundle",
		"mirror":          "Mirror copies the third-party images",
		"merge":           "Merge assembles one index per component",
		"render":          "Render draws the HTML page of an earlier JSON report",
	} {
		assert.Regexp(t, `(?m)^`+fn+`\s+`+desc, out, "dagger functions lists %s with its description", fn)
	}
}

// TestDaggerCallFailingCellEngine: a cell failing on arm64 makes dagger call
// exit non-zero with the component and platform in its output.
func TestDaggerCallFailingCellEngine(t *testing.T) {
	out, code := dagger(t, enginetest.Context(t), "call", "--components-dir", filepath.Join(sourceRoot(t, true), "components"), "build-all", "--platforms", "linux/amd64,linux/arm64")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, out, "armfails   linux/arm64  failed")
	assert.Contains(t, out, "armfails linux/arm64: exit code 42")
	assert.Contains(t, out, "6/7 cells verified, 1 not")
}

// TestDaggerCallReportEngine: the report function, as GitLab's merge-request
// job calls it, keeps the report of a run with a failing cell: the call
// succeeds, exit-code says 1, and junit.xml (read back with a JUnit parser)
// has one case per cell with the failure's step and output.
func TestDaggerCallReportEngine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	out, code := dagger(t, enginetest.Context(t), "call", "--components-dir", filepath.Join(sourceRoot(t, true), "components"),
		"report", "--platforms", "linux/amd64,linux/arm64", "export", "--path", dir)
	require.Equal(t, 0, code, "a failed cell does not fail the report call: %s", out)
	exit, err := os.ReadFile(filepath.Join(dir, "exit-code"))
	require.NoError(t, err)
	assert.Equal(t, "1", strings.TrimSpace(string(exit)))
	table, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(table), "6/7 cells verified, 1 not")
	suites, err := junit.IngestFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	require.Len(t, suites, 1)
	assert.Equal(t, 8, suites[0].Totals.Tests, "one case per cell, the not-requested one included")
	assert.Equal(t, 1, suites[0].Totals.Failed)
	assert.Equal(t, 1, suites[0].Totals.Skipped, "the cell its spec does not request is a skip")
	for _, c := range suites[0].Tests {
		if c.Name == "armfails linux/arm64" {
			require.Error(t, c.Error, "the arm64 case fails")
			assert.Contains(t, c.Error.Error(), "exit code 42")
		}
	}
	for _, f := range []string{"report.json", "results.json", "summary.md", "annotations.txt"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
}

// TestDaggerCallPublishEngineRegistry: build-all, publish and export through
// the module; the index is read back from the registry with both platforms.
func TestDaggerCallPublishEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository (and engine); see ci/test.sh
	ctx := enginetest.Context(t)
	registry := enginetest.Registry(t)
	src := sourceRoot(t, false)
	out, code := dagger(t, ctx, "call", "--components-dir", filepath.Join(src, "components"), "build-all", "--platforms", "linux/amd64,linux/arm64")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "5/5 cells verified")

	repo := registry + "/matrix-test-" + enginetest.Unique("module")
	out, code = dagger(t, ctx, "call", "--components-dir", filepath.Join(src, "components"), "--registry", repo, "--registry-service", "tcp://"+registry, "publish", "--tags", "v1", "--version", "v1")
	require.Equal(t, 0, code, out)
	for _, img := range []string{"fixture-base", "fixture-child"} {
		_, err := publish.ReadBack(ctx, enginetest.Ref(t, repo+"/"+img+":v1"), []string{"linux/amd64", "linux/arm64"})
		assert.NoError(t, err, "%s:v1 holds both platforms", img)
	}

	dist := t.TempDir()
	out, code = dagger(t, ctx, "call", "--components-dir", filepath.Join(src, "components"), "export", "--components", "base", "export", "--path", dist)
	require.Equal(t, 0, code, out)
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	require.NoError(t, err)
	assert.Contains(t, string(sums), "fixture-base_dev.oci.tar")
	assert.Contains(t, sha256sumCheck(t, dist), "OK")
}

// TestDaggerCallLintEngine: `dagger call lint` over the components, over a
// directory of Dockerfiles, and --lint error stopping build-all before any
// cell (engine, dagger call).
func TestDaggerCallLintEngine(t *testing.T) {
	ctx := enginetest.Context(t)
	out, code := dagger(t, ctx, "call", "lint")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "0 finding(s)", "the 12 components lint clean")

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "svc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "svc", "Dockerfile"),
		[]byte("FROM --platform=$BUILDPLATFORM golang:1.26 AS build\nRUN GOOS=linux go build -o /api .\n"), 0o644))
	out, code = dagger(t, ctx, "call", "lint", "--dir", dir)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "dir/svc/Dockerfile:2: error [go-arch] stage build")

	comps := enginetest.Components(t, map[string]map[string]string{"web": {"Dockerfile": "FROM debian\n"}})
	out, code = dagger(t, ctx, "call", "--components-dir", comps, "--lint", "error", "build-all", "--platforms", "linux/amd64")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "components/web/Dockerfile:1: warning [unpinned-base]")
	assert.Contains(t, out, "nothing built")
	assert.NotContains(t, out, "cells verified")
}
