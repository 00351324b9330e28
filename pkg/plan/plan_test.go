package plan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
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
		{"unknown image", images(), []string{"backend/nope"},
			`unknown component "backend/nope" (known: backend, backend/backend, backend/backend-init, frontend, web)`},
		{"dependency on a component of several images", append(images(), component.Spec{Name: "api", Dir: "components/api", DependsOn: []string{"backend"}}), nil,
			"components/api/component.yaml: field depends_on: backend gives several images (name the one it builds FROM: backend/backend, backend/backend-init)"},
		{"unknown service", []component.Spec{{Name: "a", Dir: "components/a", DependsOn: []string{"b"}}, {Name: "b"},
			{Name: "c", Dir: "components/c", Services: []component.Service{{Component: "b"}, {Component: "hub"}}}}, nil,
			`components/c/component.yaml: field services[1].component: unknown component "hub" (known: a, b, c)`},
		{"service of several images", append(images(), component.Spec{Name: "api", Dir: "components/api", Services: []component.Service{{Component: "backend"}}}), nil,
			"components/api/component.yaml: field services[0].component: backend gives several images (name the one is served: backend/backend, backend/backend-init)"},
		{"cycle through a service", []component.Spec{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", Services: []component.Service{{Component: "a"}}}}, nil,
			"dependency cycle: a -> b -> a (no component may wait for itself through depends_on or services:"},
		{"service lacks platform", []component.Spec{{Name: "hub", Platforms: []string{"linux/amd64"}}, {Name: "c", Services: []component.Service{{Component: "hub"}}}}, nil,
			"c linux/arm64 is served hub, whose spec does not support linux/arm64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cs, both, tc.selected)
			assert.Equal(t, class.BadInput, class.Of(err))
			assert.ErrorContains(t, err, tc.err)
		})
	}
	_, err := New(comps(), nil, nil)
	assert.ErrorContains(t, err, "no platforms")
}

// TestNewServices: a served component is planned (and ordered) before the
// component it is served to, as a dependency is, and the plan lists the edge.
func TestNewServices(t *testing.T) {
	cs := []component.Spec{
		{Name: "slurm-master", Image: "ai-infra-slurm-master", Services: []component.Service{{Component: "apphub", Port: 80, Arg: "APPHUB_URL"}}},
		{Name: "apphub", Image: "ai-infra-apphub"},
		{Name: "singleuser", Image: "ai-infra-singleuser", DependsOn: []string{"jupyterhub"}},
		{Name: "jupyterhub", Image: "ai-infra-jupyterhub"},
	}
	p, err := New(cs, both, []string{"slurm-master", "singleuser"})
	require.NoError(t, err)
	assert.Equal(t, []string{"apphub", "jupyterhub", "singleuser", "slurm-master"}, p.Order)
	assert.Equal(t, []Edge{{From: "jupyterhub", To: "singleuser", Kind: EdgeDependency}, {From: "apphub", To: "slurm-master", Kind: EdgeService}}, p.Edges)
	table, dot := render(t, p)
	assert.Contains(t, table, "slurm-master  linux/arm64  planned  ai-infra-slurm-master  slurm-master <~ apphub (service)\n")
	assert.Contains(t, table, "singleuser    linux/amd64  planned  ai-infra-singleuser    singleuser <- jupyterhub\n")
	assert.Contains(t, dot, `  "apphub" -> "slurm-master" [style=dashed, label="service"];`)
	assert.Contains(t, dot, `  "jupyterhub" -> "singleuser";`)
	var js bytes.Buffer
	require.NoError(t, p.JSON(&js))
	var back Plan
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, p.Edges, back.Edges, "the JSON plan has the edges, services included")
	assert.Contains(t, js.String(), `"kind": "service"`)
}

func TestRender(t *testing.T) {
	p, err := New([]component.Spec{
		{Name: "jupyterhub", Image: "ai-infra-jupyterhub"},
		{Name: "singleuser", Image: "ai-infra-singleuser", DependsOn: []string{"jupyterhub"}},
		{Name: "gitea", Image: "ai-infra-gitea", Platforms: []string{"linux/amd64"}},
	}, both, nil)
	require.NoError(t, err)
	table, dot := render(t, p)
	assert.Equal(t, `COMPONENT   PLATFORM     STATUS                 IMAGE                NEEDS
gitea       linux/amd64  planned                ai-infra-gitea       -
gitea       linux/arm64  not requested by spec  ai-infra-gitea       -
jupyterhub  linux/amd64  planned                ai-infra-jupyterhub  -
jupyterhub  linux/arm64  planned                ai-infra-jupyterhub  -
singleuser  linux/amd64  planned                ai-infra-singleuser  singleuser <- jupyterhub
singleuser  linux/arm64  planned                ai-infra-singleuser  singleuser <- jupyterhub
`, table)
	assert.Equal(t, `digraph matrix {
  rankdir=LR;
  node [shape=box];
  "gitea" [label="gitea\nai-infra-gitea\nlinux/amd64"];
  "jupyterhub" [label="jupyterhub\nai-infra-jupyterhub\nlinux/amd64, linux/arm64"];
  "singleuser" [label="singleuser\nai-infra-singleuser\nlinux/amd64, linux/arm64"];
  "jupyterhub" -> "singleuser";
}
`, dot)
	var js bytes.Buffer
	require.NoError(t, p.JSON(&js))
	var back Plan
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, p.Cells, back.Cells)
	assert.Equal(t, p.Order, back.Order)
}

// images are backend's two images from one Dockerfile, beside frontend,
// which builds FROM one of them.
func images() []component.Spec {
	return []component.Spec{
		{Name: "backend/backend", Image: "ai-infra-backend", Target: "backend"},
		{Name: "backend/backend-init", Image: "ai-infra-backend-init", Target: "backend-init", Platforms: []string{"linux/amd64"}},
		{Name: "frontend", Image: "ai-infra-frontend"},
		{Name: "web", Image: "ai-infra-web", DependsOn: []string{"backend/backend"}},
	}
}

// TestNewImages: each image has its own cells; a component name selects
// all its images, component/image one of them.
func TestNewImages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		selected []string
		order    []string
		cells    int
	}{
		{"all", nil, []string{"backend/backend", "backend/backend-init", "frontend", "web"}, 8},
		{"a component selects all its images", []string{"backend"}, []string{"backend/backend", "backend/backend-init"}, 4},
		{"one image", []string{"backend/backend-init"}, []string{"backend/backend-init"}, 2},
		{"a dependent pulls the one image it builds FROM", []string{"web"}, []string{"backend/backend", "web"}, 4},
		{"given twice", []string{"backend", "backend/backend"}, []string{"backend/backend", "backend/backend-init"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(images(), both, tc.selected)
			require.NoError(t, err)
			assert.Equal(t, tc.order, p.Order)
			require.Len(t, p.Cells, tc.cells, "every image × platform is a cell")
			for _, c := range p.Cells {
				if c.Component == "backend/backend-init" && c.Platform == "linux/arm64" {
					assert.Equal(t, NotRequested, c.Status, "each image has its own cells")
				}
			}
		})
	}
}

// TestRenderImages: the table, the graph and the JSON show each image's
// cells; the graph boxes the images of one Dockerfile together.
func TestRenderImages(t *testing.T) {
	p, err := New(images()[:3], []string{"linux/amd64"}, nil)
	require.NoError(t, err)
	table, dot := render(t, p)
	assert.Equal(t, `COMPONENT             PLATFORM     STATUS   IMAGE                  NEEDS
backend/backend       linux/amd64  planned  ai-infra-backend       -
backend/backend-init  linux/amd64  planned  ai-infra-backend-init  -
frontend              linux/amd64  planned  ai-infra-frontend      -
`, table)
	assert.Equal(t, `digraph matrix {
  rankdir=LR;
  node [shape=box];
  subgraph "cluster_backend" {
    label="backend (one Dockerfile)";
    "backend/backend" [label="backend/backend\nai-infra-backend\nlinux/amd64"];
    "backend/backend-init" [label="backend/backend-init\nai-infra-backend-init\nlinux/amd64"];
  }
  "frontend" [label="frontend\nai-infra-frontend\nlinux/amd64"];
}
`, dot)
	var js bytes.Buffer
	require.NoError(t, p.JSON(&js))
	var back Plan
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, []Cell{
		{Component: "backend/backend", Platform: "linux/amd64", Status: Planned},
		{Component: "backend/backend-init", Platform: "linux/amd64", Status: Planned},
		{Component: "frontend", Platform: "linux/amd64", Status: Planned},
	}, back.Cells)
}

// render is p as a table and as a graph.
func render(t *testing.T, p *Plan) (table, dot string) {
	t.Helper()
	var tb, db bytes.Buffer
	require.NoError(t, p.Table(&tb))
	require.NoError(t, p.Dot(&db))
	return tb.String(), db.String()
}
