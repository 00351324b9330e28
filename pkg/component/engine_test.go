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
	local, err := component.Load(component.Tree{FS: os.DirFS(dir), Where: "components"})
	require.NoError(t, err)
	efs := component.EngineFS(ctx, c.Host().Directory(dir))
	remote, err := component.Load(component.Tree{FS: efs, Where: "components"})
	require.NoError(t, err)
	require.Len(t, remote.Specs, 12)
	assert.Equal(t, local.Specs, remote.Specs, "same specs from either file system")
	for _, s := range local.Specs {
		want, err := local.Check(s, 0, nil)
		require.NoError(t, err)
		got, err := remote.Check(s, 0, nil)
		require.NoError(t, err)
		assert.Equal(t, want.Bytes, got.Bytes, "%s context size", s.Name)
		assert.Positive(t, got.Bytes)
	}

	evil := enginetest.Components(t, map[string]map[string]string{"web": {"Dockerfile": "FROM x\n", "component.yaml": "dockerfile: evil\n"}})
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(evil, "web", "evil")))
	_, lerr := component.Load(component.Tree{FS: os.DirFS(evil), Where: "components"})
	_, rerr := component.Load(component.Tree{FS: component.EngineFS(ctx, c.Host().Directory(evil)), Where: "components"})
	require.Error(t, lerr)
	require.Error(t, rerr)
	assert.Equal(t, lerr.Error(), rerr.Error(), "the same refusal from either file system")
	assert.Contains(t, rerr.Error(), "symlink")
}
