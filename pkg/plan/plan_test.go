package plan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/component"
)

var both = []string{"linux/amd64", "linux/arm64"}

func comps() []component.Spec {
	return []component.Spec{
		{Name: "singleuser", DependsOn: []string{"jupyterhub"}},
		{Name: "backend"},
		{Name: "jupyterhub"},
		{Name: "gitea", Platforms: []string{"linux/amd64"}},
	}
}

func TestNewOrderAndCells(t *testing.T) {
	p, err := New(comps(), both, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"backend", "gitea", "jupyterhub", "singleuser"}, p.Order)
	require.Len(t, p.Cells, 8, "every component × platform is a cell, none dropped")
	assert.Equal(t, Cell{Component: "gitea", Platform: "linux/arm64", Status: NotRequested}, p.Cells[3])
	assert.Equal(t, Cell{Component: "singleuser", Platform: "linux/arm64", Status: Planned}, p.Cells[7])
}

func TestNewSelectedPullsDependencies(t *testing.T) {
	p, err := New(comps(), both, []string{"singleuser"})
	require.NoError(t, err)
	assert.Equal(t, []string{"jupyterhub", "singleuser"}, p.Order)
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cs       []component.Spec
		selected []string
		err      string
	}{
		{"cycle", []component.Spec{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"c"}}, {Name: "c", DependsOn: []string{"a"}}}, nil, "dependency cycle: a -> b -> c -> a"},
		{"unknown dependency", []component.Spec{{Name: "a", Dir: "components/a", DependsOn: []string{"zz"}}}, nil, `components/a/component.yaml: field depends_on: unknown component "zz"`},
		{"unknown selected", comps(), []string{"nope"}, `unknown component "nope"`},
		{"dependency lacks platform", []component.Spec{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", Platforms: []string{"linux/amd64"}}}, nil, "a linux/arm64 builds FROM b, whose spec does not support linux/arm64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cs, both, tc.selected)
			assert.ErrorContains(t, err, tc.err)
		})
	}
	_, err := New(comps(), nil, nil)
	assert.ErrorContains(t, err, "no platforms")
}

func TestRender(t *testing.T) {
	p, err := New([]component.Spec{
		{Name: "jupyterhub", Image: "ai-infra-jupyterhub"},
		{Name: "singleuser", Image: "ai-infra-singleuser", DependsOn: []string{"jupyterhub"}},
		{Name: "gitea", Image: "ai-infra-gitea", Platforms: []string{"linux/amd64"}},
	}, both, nil)
	require.NoError(t, err)
	var tb bytes.Buffer
	require.NoError(t, p.Table(&tb))
	assert.Equal(t, `COMPONENT   PLATFORM     STATUS                 IMAGE                FROM
gitea       linux/amd64  planned                ai-infra-gitea       -
gitea       linux/arm64  not requested by spec  ai-infra-gitea       -
jupyterhub  linux/amd64  planned                ai-infra-jupyterhub  -
jupyterhub  linux/arm64  planned                ai-infra-jupyterhub  -
singleuser  linux/amd64  planned                ai-infra-singleuser  singleuser <- jupyterhub
singleuser  linux/arm64  planned                ai-infra-singleuser  singleuser <- jupyterhub
`, tb.String())
	var dot bytes.Buffer
	require.NoError(t, p.Dot(&dot))
	assert.Equal(t, `digraph matrix {
  rankdir=LR;
  node [shape=box];
  "gitea" [label="gitea\nai-infra-gitea\nlinux/amd64"];
  "jupyterhub" [label="jupyterhub\nai-infra-jupyterhub\nlinux/amd64, linux/arm64"];
  "singleuser" [label="singleuser\nai-infra-singleuser\nlinux/amd64, linux/arm64"];
  "jupyterhub" -> "singleuser";
}
`, dot.String())
	var js bytes.Buffer
	require.NoError(t, p.JSON(&js))
	var back Plan
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, p.Cells, back.Cells)
	assert.Equal(t, p.Order, back.Order)
}
