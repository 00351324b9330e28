package matrix

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
)

// unadopted copies the fixture repository as a build script left it: no
// matrix files, its conventions instead (api's build-targets.conf, the
// .env.example), and returns it with a writer into it.
func unadopted(t *testing.T) (string, func(string, []byte) error) {
	t.Helper()
	tree := fixtureRepo(t, map[string]string{
		"src/api/build-targets.conf": "api fixture-repo-api\napi-init fixture-repo-api-init\n",
	})
	dir := tree.Where
	for _, f := range []string{"src/matrix.yaml", "src/api/component.yaml", "src/backend/component.yaml", "src/frontend/component.yaml",
		"src/hub/component.yaml", "src/consumer/component.yaml"} {
		require.NoError(t, os.Remove(filepath.Join(dir, f)))
	}
	env, err := os.ReadFile(filepath.Join(dir, ".env"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.example"), env, 0o644))
	return dir, func(p string, data []byte) error { return os.WriteFile(filepath.Join(dir, p), data, 0o644) }
}

// comparable is a plan as JSON, less what the matrix files themselves
// change: the bytes of the context (they are in it) and the notes.
func comparable(t *testing.T, p *plan.Plan) string {
	t.Helper()
	c := *p
	c.Cells = append([]plan.Cell(nil), p.Cells...)
	for i := range c.Cells {
		c.Cells[i].ContextBytes = 0
	}
	u := *p.Upload
	u.Dir, u.Bytes, c.Upload, c.Notes = "", 0, &u, nil
	var b bytes.Buffer
	require.NoError(t, c.JSON(&b))
	return b.String()
}

// TestInitFixture: init on the fixture without its matrix files writes a
// configuration whose plan is the hand-written one's: the same cells,
// order, args and shared context, api's two images with their repository
// names. Run again, it changes nothing; the folders the hand-written
// configuration leaves as notes are under ignore: or in third-party.yaml.
func TestInitFixture(t *testing.T) {
	hand := fixtureRepo(t, nil)
	want, err := Inspect(Options{Run: RunOptions{BuildArgFiles: []ArgFile{env(t, hand)}}}, hand)
	require.NoError(t, err)

	dir, write := unadopted(t)
	res, err := Init(os.DirFS(dir), dir, "", false, write)
	require.NoError(t, err)
	assert.Equal(t, "src", res.Components)
	assert.Equal(t, ".env.example", res.ArgFile)
	assert.Equal(t, comparable(t, want.Plan), comparable(t, res.Run.Plan))
	images := func(p *plan.Plan) map[string]string {
		out := map[string]string{}
		for _, c := range p.Components {
			out[c.Name] = c.Image
		}
		return out
	}
	assert.Equal(t, map[string]string{"api/api": "fixture-repo-api", "api/api-init": "fixture-repo-api-init",
		// The hand-written names of these two are in no convention of the tree.
		"backend": "ai-infra-backend", "frontend": "ai-infra-frontend", "hub": "ai-infra-hub", "consumer": "ai-infra-consumer"}, images(res.Run.Plan))
	assert.Len(t, want.Plan.Notes, 2, "kafka and safeline")
	assert.Empty(t, res.Run.Plan.Notes, "each folder that is not a component is accounted for")
	require.NotNil(t, res.Run.ThirdParty)
	assert.Equal(t, "docker.io/confluentinc/cp-kafka:7.5.0", res.Run.ThirdParty.Images[0].Source)

	// What Init planned is what a plan of the written tree gives.
	written := component.Tree{FS: os.DirFS(dir), Where: dir, Components: "src"}
	env, err := os.ReadFile(filepath.Join(dir, ".env.example"))
	require.NoError(t, err)
	again, err := Inspect(Options{Run: RunOptions{BuildArgFiles: []ArgFile{{Name: ".env.example", Data: env}}}}, written)
	require.NoError(t, err)
	assert.Equal(t, comparable(t, again.Plan), comparable(t, res.Run.Plan))

	var first bytes.Buffer
	require.NoError(t, res.Report(&first))
	assert.Contains(t, first.String(), "created  "+dir+"/src/matrix.yaml\n")
	assert.Contains(t, first.String(), "run it with: matrix --source "+dir+" --components-path src --build-arg-file "+dir+"/.env.example plan\n")
	assert.Contains(t, first.String(), "api/api-init  linux/arm64  planned  fixture-repo-api-init")

	before := contents(t, dir, res)
	res, err = Init(os.DirFS(dir), dir, "", false, func(p string, _ []byte) error {
		t.Errorf("a second init wrote %s", p)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, before, contents(t, dir, res))
	for _, c := range res.Changes {
		assert.Equal(t, "unchanged", string(c.Status), c.Path)
	}

	// A hand edit is kept, unless --force.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/matrix.yaml"), []byte("context: ..\n"), 0o644))
	_, err = Init(os.DirFS(dir), dir, "", false, write)
	assert.Equal(t, class.BadInput, class.Of(err))
	assert.ErrorContains(t, err, dir+"/src/matrix.yaml: already there and not what init writes; nothing written (pass --force")
	_, err = Init(os.DirFS(dir), dir, "", true, write)
	require.NoError(t, err)
	assert.Equal(t, before, contents(t, dir, res))
}

// contents are the files init writes, as dir holds them.
func contents(t *testing.T, dir string, res *Adopted) []string {
	t.Helper()
	var out []string
	for _, f := range res.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		require.NoError(t, err)
		out = append(out, f.Path+"\n"+string(data))
	}
	return out
}

// TestInitPlanRefuses: when the plan of what init wrote refuses the tree (a
// credential-like key of .env.example that a Dockerfile declares), the
// files stay written and the error is bad input naming the key and the fix.
func TestInitPlanRefuses(t *testing.T) {
	dir, write := unadopted(t)
	df := filepath.Join(dir, "src/backend/Dockerfile")
	data, err := os.ReadFile(df)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(df, append(data, "ARG DB_PASSWORD\n"...), 0o644))
	res, err := Init(os.DirFS(dir), dir, "", false, write)
	assert.Equal(t, class.BadInput, class.Of(err))
	assert.ErrorContains(t, err, "the configuration init wrote does not plan: ")
	assert.ErrorContains(t, err, "DB_PASSWORD")
	require.NotNil(t, res)
	assert.Len(t, res.Changes, 4, "matrix.yaml, api's and consumer's component.yaml, third-party.yaml")
	assert.FileExists(t, filepath.Join(dir, "src/matrix.yaml"))
}
