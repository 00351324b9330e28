package builder

import (
	"os"
	"path/filepath"
	"testing"

	"dagger.io/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/component"
)

func TestArgs(t *testing.T) {
	c := component.Spec{
		Args:     []component.Arg{{Name: "EMPTY", Value: ""}, {Name: "VERSION", Value: "${VERSION}"}, {Name: "X", Value: "pre-${VERSION}"}},
		Declared: []string{"APT_MIRROR", "VERSION"},
	}
	mirrors := map[string]string{"APT_MIRROR": "http://mirror", "GO_PROXY": "http://goproxy", "NPM_REGISTRY": ""}
	assert.Equal(t, []dagger.BuildArg{
		{Name: "VERSION", Value: "v1.2.3"},
		{Name: "X", Value: "pre-v1.2.3"},
		{Name: "APT_MIRROR", Value: "http://mirror"}, // declared: passed
		// GO_PROXY is not declared by the Dockerfile: not passed
	}, Args(c, "v1.2.3", mirrors))
}

func TestImageArg(t *testing.T) {
	assert.Equal(t, "JUPYTERHUB_IMAGE", ImageArg("jupyterhub"))
	assert.Equal(t, "SLURM_MASTER_IMAGE", ImageArg("slurm-master"))
}

func TestImageArgOfAnImage(t *testing.T) {
	assert.Equal(t, "BACKEND_BACKEND_INIT_IMAGE", ImageArg("backend/backend-init"))
}

// TestImagesShareBuildInputs: the images of one component (images:) build
// from the same context, Dockerfile, args and secrets, only the target
// differs, so BuildKit builds the stages they share once.
func TestImagesShareBuildInputs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "backend")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range map[string]string{
		"Dockerfile": "FROM debian:bookworm-slim AS build\nARG APT_MIRROR\nARG VERSION\nFROM build AS backend\nFROM build AS backend-init\n",
		component.FileName: "args: {VERSION: \"${VERSION}\"}\nsecrets: [token]\nimages:\n" +
			"  - {name: backend, target: backend}\n  - {name: backend-init, target: backend-init}\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	set, err := component.Load(component.Tree{FS: os.DirFS(root), Where: root})
	require.NoError(t, err)
	require.Len(t, set.Specs, 2)
	a, b := set.Specs[0], set.Specs[1]
	mirrors := map[string]string{"APT_MIRROR": "http://mirror"}
	assert.Equal(t, Args(a, "v1", mirrors), Args(b, "v1", mirrors))
	assert.Equal(t, []string{a.Context, a.ContextDockerfile}, []string{b.Context, b.ContextDockerfile})
	assert.Equal(t, a.Secrets, b.Secrets)
	assert.Equal(t, []string{"backend", "backend-init"}, []string{a.Target, b.Target}, "only the target differs")
}
