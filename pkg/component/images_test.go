package component

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// twoTargets is a Dockerfile whose shared stage build gives two images, by
// target: backend and backend-init.
const twoTargets = `FROM debian:bookworm-slim AS build
RUN echo built > /out
FROM debian:bookworm-slim AS backend
COPY --from=build /out /out
FROM backend AS backend-init
`

// withImages makes components/<name> with the two-target Dockerfile and
// the given component.yaml.
func withImages(t *testing.T, root, name, yaml string) string {
	t.Helper()
	dir := component(t, root, name, yaml)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(twoTargets), 0o644))
	return dir
}

// TestReadImages: an images: list gives one Spec per entry, addressed
// component/image, each with its own repository, target and smoke (else
// the component's), and the same Dockerfile and build inputs.
func TestReadImages(t *testing.T) {
	dir := withImages(t, t.TempDir(), "backend", `
args: {A_FLAG: "1"}
smoke: [true]
images:
  - name: backend
    target: backend
  - name: backend-init
    image: team/backend-init
    target: backend-init
    smoke: [test, -s, /out]
`)
	specs, err := readAll(dir)
	require.NoError(t, err)
	require.Len(t, specs, 2)
	for i, want := range []struct{ name, image, target string }{
		{"backend/backend", "ai-infra-backend", "backend"},
		{"backend/backend-init", "team/backend-init", "backend-init"},
	} {
		c := specs[i]
		assert.Equal(t, want.name, c.Name)
		assert.Equal(t, "backend", c.Component())
		assert.Equal(t, want.image, c.Image)
		assert.Equal(t, want.target, c.Target)
		assert.Equal(t, dir, c.Dir, "one folder")
		assert.Equal(t, "Dockerfile", c.Dockerfile, "one Dockerfile")
		assert.Equal(t, []Arg{{"A_FLAG", "1"}}, c.Args, "the same build inputs: the shared stages are built once")
		assert.Equal(t, "debian:bookworm-slim", c.Base, "the base its target ends in")
	}
	assert.Equal(t, []string{"true"}, specs[0].Smoke, "the component's smoke")
	assert.Equal(t, []string{"test", "-s", "/out"}, specs[1].Smoke, "its own smoke")
	specs[0].Args[0].Value = "changed"
	assert.Equal(t, "1", specs[1].Args[0].Value, "each image has its own copy of the args")

	c, err := read(component(t, t.TempDir(), "web", ""))
	require.NoError(t, err)
	assert.Equal(t, "web", c.Name, "without images: one image, named as the component")
	assert.Equal(t, "web", c.Component())
	assert.Equal(t, "ai-infra-web", c.Image)
}

// TestReadImagesErrors: every mistake in images: is bad input naming the
// file, the field and the fix.
func TestReadImagesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty list", "images: []\n", []string{"field images: is empty", "omit images: for one image"}},
		{"not a list", "images: backend\n", []string{"field images: line 1: wrong type", "expected a list of images"}},
		{"entry not a mapping", "images: [backend]\n", []string{"field images[0]: line 1: is not a mapping", "{name: backend-init, target: backend-init}"}},
		{"unknown key", "images:\n  - name: backend\n    target: backend\n    tag: x\n", []string{"field images[0].tag: line 4: unknown key", "known keys: image, name, smoke, target"}},
		{"missing name", "images:\n  - target: backend\n", []string{"field images[0].name: is missing", "it is addressed as backend/<name>"}},
		{"empty name", "images:\n  - name: ''\n    target: backend\n", []string{"field images[0].name: is missing"}},
		{"bad name", "images:\n  - name: Backend\n    target: backend\n", []string{`field images[0].name: "Backend" is not lower-case`}},
		{"duplicate name", "images:\n  - {name: backend, target: backend}\n  - {name: backend, target: backend-init}\n",
			[]string{"field images[1].name: backend is also the name of images[0]", "give each image its own name"}},
		{"missing target", "images:\n  - name: backend\n", []string{"field images[0].target: is missing: it names the stage of", "(name one of its stages: build, backend, backend-init)"}},
		{"target the Dockerfile lacks", "images:\n  - {name: backend, target: backend}\n  - {name: migrate, target: migrate}\n",
			[]string{"field images[1].target: \"migrate\" is not a stage of ", "Dockerfile (name one of its stages: build, backend, backend-init)"}},
		{"bad repository", "images:\n  - {name: backend, target: backend, image: Bad}\n", []string{`field images[0].image: "Bad" is not a valid repository name`}},
		{"empty smoke", "images:\n  - {name: backend, target: backend, smoke: []}\n", []string{"field images[0].smoke: is empty"}},
		{"target beside images", "target: backend\nimages:\n  - {name: backend, target: backend}\n",
			[]string{"field target: is set beside images:", "give each image its target under images:"}},
		{"image beside images", "image: x\nimages:\n  - {name: backend, target: backend}\n", []string{"field image: is set beside images:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := withImages(t, t.TempDir(), "backend", tc.yaml)
			_, err := readAll(dir)
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err))
			assert.Contains(t, err.Error(), filepath.Join(dir, FileName)+": ", "names the file")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestLoadImages: Load gives every image of every component, each built in
// its component's folder; a repository given twice across the run, by two
// images or by an image and a component, is bad input.
func TestLoadImages(t *testing.T) {
	root := t.TempDir()
	withImages(t, root, "backend", "images:\n  - {name: backend, target: backend}\n  - {name: backend-init, target: backend-init}\n")
	component(t, root, "frontend", "")
	specs, err := load(os.DirFS(root), root)
	require.NoError(t, err)
	var names []string
	for _, c := range specs {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"backend/backend", "backend/backend-init", "frontend"}, names)
	for _, c := range specs[:2] {
		assert.Equal(t, "backend", c.Context, "%s builds in its component's folder", c.Name)
		assert.Equal(t, "Dockerfile", c.ContextDockerfile)
	}
	assert.Equal(t, "backend-init", specs[1].Annotations[AnnotationPrefix+"title"], "an image's title is its own name")

	for _, tc := range []struct {
		name  string
		other map[string]string // component name → component.yaml, beside backend
		want  string
	}{
		{"same image name in two components", map[string]string{"worker": "images:\n  - {name: backend-init, target: backend-init}\n"},
			`worker/component.yaml: field images[0].name: "ai-infra-backend-init" is also the image of component backend/backend-init`},
		{"an image's repository given twice", map[string]string{"worker": "images:\n  - {name: worker, target: backend, image: ai-infra-backend}\n"},
			`worker/component.yaml: field images[0].image: "ai-infra-backend" is also the image of component backend/backend`},
		{"a component named as another's image", map[string]string{"backend-init": ""},
			`backend-init/component.yaml: field image: "ai-infra-backend-init" is also the image of component backend/backend-init`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			withImages(t, root, "backend", "images:\n  - {name: backend, target: backend}\n  - {name: backend-init, target: backend-init}\n")
			for name, yaml := range tc.other {
				withImages(t, root, name, yaml)
			}
			_, err := load(os.DirFS(root), root)
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err))
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "give each image its own repository name")
		})
	}
}
