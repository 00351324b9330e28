package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// TestInspectImages: the fixture's api gives two images from one
// Dockerfile; the same flags of both entry points select them (--components
// api: both, api/api-init: one), each image with its own cells, and
// --rebuild takes a component or one image.
func TestInspectImages(t *testing.T) {
	tree := fixtureRepo(t, nil)
	for _, tc := range []struct {
		name       string
		components []string
		rebuild    []string
		cells      []string // component of each cell, in plan order
	}{
		{"a component selects all its images", []string{"api"}, []string{"api"},
			[]string{"api/api", "api/api", "api/api-init", "api/api-init"}},
		{"one image", []string{"api/api-init"}, []string{"api/api-init"}, []string{"api/api-init", "api/api-init"}},
		{"with another component", []string{"api/api", "frontend"}, nil, []string{"api/api", "api/api", "frontend", "frontend"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Inspect(Options{Run: RunOptions{Components: tc.components, Rebuild: tc.rebuild}}, tree)
			require.NoError(t, err)
			var cells []string
			for _, c := range r.Plan.Cells {
				cells = append(cells, c.Component)
			}
			assert.Equal(t, tc.cells, cells)
		})
	}

	r, err := Inspect(Options{}, tree)
	require.NoError(t, err)
	assert.Len(t, r.Plan.Cells, 12, "api/api, api/api-init, backend, consumer, frontend, hub on two platforms")
	assert.NoError(t, r.OneImage("api/api"))
	assert.NoError(t, r.OneImage("backend"))
	err = r.OneImage("api")
	assert.Equal(t, class.BadInput, class.Of(err))
	assert.ErrorContains(t, err, "api gives several images (api/api, api/api-init); name one as component/image")
}

// TestInspectImagesRefuses: bad input about images, in the flags or in the
// fixture's files (as test/reliability's TestBadInput gives both entry
// points), names the flag, or the file, the field and the fix.
func TestInspectImagesRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits map[string]string
		run   RunOptions
		want  string
	}{
		{"not an address", nil, RunOptions{Components: []string{"api/api/x"}}, `--components: "api/api/x" is not a component name`},
		{"unknown image", nil, RunOptions{Components: []string{"api/nope"}}, `unknown component "api/nope" (known: api, api/api, api/api-init, backend, consumer, frontend, hub)`},
		{"rebuild of an image not planned", nil, RunOptions{Components: []string{"api/api"}, Rebuild: []string{"api/api-init"}}, `--rebuild: "api/api-init" is not a planned component`},
		{"one repository for two images", map[string]string{"src/backend/component.yaml": "image: fixture-repo-api\n"}, RunOptions{},
			`src/backend/component.yaml: field image: "fixture-repo-api" is also the image of component api/api (give each image its own repository name)`},
		{"a name given twice", map[string]string{"src/api/component.yaml": "images:\n  - {name: api, target: api}\n  - {name: api, target: api-init}\n"}, RunOptions{},
			"src/api/component.yaml: field images[1].name: api is also the name of images[0] (give each image its own name)"},
		{"a target the Dockerfile lacks", map[string]string{"src/api/component.yaml": "images:\n  - {name: api, target: api}\n  - {name: api-migrate, target: migrate}\n"}, RunOptions{},
			`src/api/component.yaml: field images[1].target: "migrate" is not a stage of `},
		{"a service naming an unknown component", map[string]string{"src/consumer/component.yaml": "services:\n  - {component: nohub, port: 8080, arg: HUB_URL}\n"}, RunOptions{},
			`src/consumer/component.yaml: field services[0].component: unknown component "nohub" (known: `},
		{"a service on itself", map[string]string{"src/consumer/component.yaml": "services:\n  - {component: consumer, port: 8080, arg: HUB_URL}\n"}, RunOptions{},
			"src/consumer/component.yaml: field services[0].component: a component cannot be served to itself (name another component of the run)"},
		{"a service in a cycle", map[string]string{"src/hub/component.yaml": "depends_on: [consumer]\n"}, RunOptions{},
			"dependency cycle: consumer -> hub -> consumer (no component may wait for itself through depends_on or services:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := fixtureRepo(t, tc.edits)
			_, err := Inspect(Options{Run: tc.run}, tree)
			assert.Equal(t, class.BadInput, class.Of(err))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
