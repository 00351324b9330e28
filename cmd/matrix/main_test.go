package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture writes components/<name>/{Dockerfile,component.yaml}.
func fixture(t *testing.T, comps map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, yaml := range comps {
		dir := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian:bookworm-slim\n"), 0o644))
		if yaml != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "component.yaml"), []byte(yaml), 0o644))
		}
	}
	return root
}

func runCLI(args ...string) (int, string, string) {
	var out, errw bytes.Buffer
	code := run(context.Background(), append([]string{"matrix"}, args...), &out, &errw)
	return code, out.String(), errw.String()
}

func TestPlanCommand(t *testing.T) {
	dir := fixture(t, map[string]string{"backend": "", "gitea": "platforms: [linux/amd64]\n"})
	code, out, _ := runCLI("plan", "--components-dir", dir)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "gitea      linux/arm64  not requested by spec")
	code, out, _ = runCLI("plan", "--components-dir", dir, "--format", "json")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, `"status": "not requested by spec"`)
}

func TestBadInputExitsTwoWithoutEngine(t *testing.T) {
	// A socket path that does not exist: bad input must be reported before
	// any attempt to reach the engine.
	t.Setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "unix:///nonexistent/engine.sock")
	t.Setenv("MATRIX_REGISTRY", "")
	require.NoError(t, os.Unsetenv("MATRIX_REGISTRY")) // restored by t.Setenv
	good := fixture(t, map[string]string{"backend": ""})
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"bad platform", []string{"build-all", "--components-dir", good, "--platforms", "linux/amd65"}, "unknown architecture"},
		{"platform without os", []string{"build-all", "--components-dir", good, "--platforms", "arm64"}, "not os/arch"},
		{"unknown component", []string{"build-all", "--components-dir", good, "--components", "nope"}, `unknown component "nope"`},
		{"bad yaml", []string{"build-all", "--components-dir", fixture(t, map[string]string{"a": "smoke: [x\n"})}, "malformed YAML"},
		{"cycle", []string{"build-all", "--components-dir", fixture(t, map[string]string{"a": "depends_on: [b]\n", "b": "depends_on: [a]\n"})}, "dependency cycle"},
		{"empty components dir", []string{"build-all", "--components-dir", t.TempDir()}, "no components found"},
		{"jobs negative", []string{"build-all", "--components-dir", good, "--jobs", "-1"}, "--jobs -1"},
		{"bad tag", []string{"publish", "--components-dir", good, "--registry", "localhost:5000", "--tag", "bad tag"}, `tag "bad tag" is not valid`},
		{"bad registry", []string{"publish", "--components-dir", good, "--registry", "Not A Host"}, "not host[:port][/project]"},
		{"no registry", []string{"publish", "--components-dir", good}, "registry is empty"},
		{"secret malformed", []string{"build-all", "--components-dir", good, "--secret", "token=hunter2"}, "use id=env:VAR"},
		{"secret env unset", []string{"build-all", "--components-dir", good, "--secret", "token=env:MATRIX_TEST_UNSET_VAR"}, "MATRIX_TEST_UNSET_VAR is not set"},
		{"build without components", []string{"build", "--components-dir", good}, "build needs --components"},
		{"unknown flag", []string{"build-all", "--nope"}, "flag provided but not defined"},
		{"flag value of the wrong type", []string{"build-all", "--jobs", "many"}, "invalid value"},
		{"unknown flag before the command", []string{"--nope", "plan"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errw := runCLI(tc.args...)
			assert.Equal(t, 2, code, errw)
			assert.Contains(t, errw, tc.msg)
			assert.NotContains(t, errw, "hunter2", "a secret value is never echoed")
			assert.NotContains(t, errw, "engine", "no engine work was attempted")
		})
	}
}

func TestDeadEngineFailsFast(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "engine.sock")
	require.NoError(t, os.WriteFile(sock, nil, 0o600)) // exists, but nothing listens
	t.Setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "unix://"+sock)
	start := time.Now()
	code, _, errw := runCLI("build-all", "--components-dir", fixture(t, map[string]string{"backend": ""}))
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, 3, code)
	assert.Contains(t, errw, "is not reachable")
	assert.Contains(t, errw, "task setup", "the error names the fix")
}

func TestLintCommand(t *testing.T) {
	t.Setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "unix:///nonexistent/engine.sock")
	clean := fixture(t, map[string]string{"backend": ""})
	code, out, errw := runCLI("lint", "--components-dir", clean)
	assert.Equal(t, 0, code, errw)
	assert.Contains(t, out, "0 finding(s)")

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "svc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "svc", "api.Dockerfile"),
		[]byte("FROM golang:1.26\nRUN go build -o /api .\n"), 0o644))
	code, out, _ = runCLI("lint", "--dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, filepath.Join(dir, "svc", "api.Dockerfile")+":2: warning [compile-on-target] stage 0")
	code, out, _ = runCLI("lint", "--dir", dir, "--format", "json")
	assert.Equal(t, 1, code)
	var findings []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &findings), out)
	require.Len(t, findings, 1)
	assert.Equal(t, "compile-on-target", findings[0]["rule"])
	assert.Equal(t, "warning", findings[0]["severity"])
	code, _, _ = runCLI("lint", "--dir", dir, "--severity", "error")
	assert.Equal(t, 0, code, "a warning does not count at --severity error")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM x\nCOPY\n"), 0o644))
	code, out, _ = runCLI("lint", "--dir", dir)
	assert.Equal(t, 1, code, "a Dockerfile that cannot be parsed is a finding, and the rest is linted")
	assert.Contains(t, out, filepath.Join(dir, "Dockerfile")+":2: error [syntax]")
	assert.Contains(t, out, "[compile-on-target]")

	// --lint error fails a build before the engine is reached (it points nowhere: 3).
	bad := fixture(t, map[string]string{"web": ""})
	require.NoError(t, os.WriteFile(filepath.Join(bad, "web", "Dockerfile"), []byte("FROM debian\n"), 0o644))
	code, _, errw = runCLI("build-all", "--components-dir", bad, "--lint", "error")
	assert.Equal(t, 1, code, errw)
	assert.Contains(t, errw, "[unpinned-base]")
	assert.Contains(t, errw, "nothing built")
}
