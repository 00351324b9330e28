package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInitCommand: matrix init DIR writes the configuration and prints it
// and its plan; a second run changes nothing; a file that differs needs
// --force; bad input exits 2, naming the path and the fix.
func TestInitCommand(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../test/testdata/repo")))
	for _, f := range []string{"src/matrix.yaml", "src/api/component.yaml", "src/backend/component.yaml", "src/frontend/component.yaml",
		"src/hub/component.yaml", "src/consumer/component.yaml"} {
		require.NoError(t, os.Remove(filepath.Join(dir, f)))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/api/build-targets.conf"), []byte("api fixture-repo-api\napi-init fixture-repo-api-init\n"), 0o644))

	code, out, errw := runCLI("init", dir)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, out, "created  "+dir+"/src/matrix.yaml\ncreated  "+dir+"/src/api/component.yaml\ncreated  "+dir+"/src/consumer/component.yaml\n"+
		"created  "+dir+"/src/third-party.yaml\n")
	assert.Contains(t, out, "consumer      linux/arm64  planned  ai-infra-consumer      consumer <~ hub (service)")
	assert.Contains(t, out, "api/api       linux/amd64  planned  fixture-repo-api")
	written := readFile(t, filepath.Join(dir, "src/matrix.yaml"))
	assert.Contains(t, written, "context: ..\n")

	code, again, errw := runCLI("init", "--components-path", "src", dir)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, again, "unchanged  "+dir+"/src/matrix.yaml\n")
	assert.Equal(t, written, readFile(t, filepath.Join(dir, "src/matrix.yaml")))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/api/component.yaml"), []byte("images: []\n"), 0o644))
	code, out, errw = runCLI("init", dir)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errw, dir+"/src/api/component.yaml: already there and not what init writes; nothing written (pass --force")
	code, out, errw = runCLI("init", "--force", dir)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, out, "overwritten  "+dir+"/src/api/component.yaml\n")

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"DIR missing", []string{"init", filepath.Join(dir, "nope")}, dir + "/nope: no such file or directory (give the repository to adopt: matrix init DIR)"},
		{"no Dockerfile anywhere", []string{"init", filepath.Join(dir, "third_party")}, dir + "/third_party: no Dockerfile in a folder of it (give the repository"},
		{"two directories", []string{"init", dir, dir}, "init takes one directory, the tree to adopt: matrix init [DIR]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errw := runCLI(tc.args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, errw, tc.want)
		})
	}
}
