//go:build engine

package component_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// TestEngineFSEngine: the 12 components read through the engine's copy of
// the directory give the same specs and context sizes as the local read,
// and a symlinked Dockerfile is refused the same way (engine).
func TestEngineFSEngine(t *testing.T) {
	c := enginetest.Connect(t)
	ctx := enginetest.Context(t)
	dir := filepath.Join(enginetest.Root(), "components")
	local, err := component.Load(os.DirFS(dir), "components")
	require.NoError(t, err)
	efs := component.EngineFS(ctx, c.Host().Directory(dir))
	remote, err := component.Load(efs, "components")
	require.NoError(t, err)
	require.Len(t, remote, 12)
	assert.Equal(t, local, remote, "same specs from either file system")
	for _, s := range local {
		want, err := component.ContextSize(os.DirFS(dir), s)
		require.NoError(t, err)
		got, err := component.ContextSize(efs, s)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s context size", s.Name)
		assert.Positive(t, got)
	}

	evil := enginetest.Components(t, map[string]map[string]string{"web": {"Dockerfile": "FROM x\n", "component.yaml": "dockerfile: evil\n"}})
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(evil, "web", "evil")))
	_, lerr := component.Load(os.DirFS(evil), "components")
	_, rerr := component.Load(component.EngineFS(ctx, c.Host().Directory(evil)), "components")
	require.Error(t, lerr)
	require.Error(t, rerr)
	assert.Equal(t, lerr.Error(), rerr.Error(), "the same refusal from either file system")
	assert.Contains(t, rerr.Error(), "symlink")
}
