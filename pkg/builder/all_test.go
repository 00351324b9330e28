package builder

import (
	"testing"

	"dagger.io/dagger"
	"github.com/stretchr/testify/assert"

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
