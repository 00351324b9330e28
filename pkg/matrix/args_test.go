package matrix

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// fixtureRepo copies test/testdata/repo, with edits (path → content).
func fixtureRepo(t *testing.T, edits map[string]string) component.Tree {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../test/testdata/repo")))
	for p, content := range edits {
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644))
	}
	return component.Tree{FS: os.DirFS(dir), Where: dir, Components: "src"}
}

func env(t *testing.T, tree component.Tree) ArgFile {
	data, err := os.ReadFile(filepath.Join(tree.Where, ".env"))
	require.NoError(t, err)
	return ArgFile{Name: ".env", Data: data}
}

// TestBuildArgFiles: a key of --build-arg-file goes only to the Dockerfiles
// that declare its ARG; a later file wins, component.yaml and the run-wide
// mirror flags win over all; plan --format json shows what each cell gets,
// and never a key no Dockerfile declares.
func TestBuildArgFiles(t *testing.T) {
	tree := fixtureRepo(t, map[string]string{
		"src/frontend/Dockerfile":     "FROM debian:bookworm-slim\nARG APP_GREETING\nARG APT_MIRROR\nARG SITE\nCOPY src/frontend/index.html /srv/\n",
		"src/frontend/component.yaml": "image: fixture-repo-frontend\nargs: {SITE: from-component-yaml}\n",
	})
	later := ArgFile{Name: "ci.env", Data: []byte("APP_GREETING=later wins\nSITE=from-file\nAPT_MIRROR=http://file-mirror\nTARGETARCH=amd64\n")}
	r, err := Inspect(Options{Run: RunOptions{BuildArgFiles: []ArgFile{env(t, tree), later},
		Mirrors: map[string]string{"APT_MIRROR": "http://flag-mirror"}}}, tree)
	require.NoError(t, err)
	args := map[string]map[string]string{}
	for _, c := range r.Plan.Cells {
		args[c.Component] = c.Args
	}
	assert.Equal(t, map[string]string{"APP_GREETING": "later wins"}, args["backend"], "declared keys only")
	assert.Equal(t, map[string]string{"APP_GREETING": "later wins", "SITE": "from-component-yaml", "APT_MIRROR": "http://flag-mirror"}, args["frontend"])

	var b strings.Builder
	require.NoError(t, r.Plan.JSON(&b))
	assert.Contains(t, b.String(), `"APP_GREETING": "later wins"`)
	for _, never := range []string{"DB_PASSWORD", "fixture-password-never-shown", "UNUSED_SETTING", "TARGETARCH"} {
		assert.NotContains(t, b.String(), never)
	}
}

// TestBuildArgFileRejects: an arg file that does not parse, and a
// credential-like key a Dockerfile declares, are bad input before any
// build, naming the file, the line and the fix, and never a value.
func TestBuildArgFileRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits map[string]string
		file  ArgFile
		want  []string
	}{
		{"does not parse", nil, ArgFile{Name: "bad.env", Data: []byte("A=1\nDB_PASSWORD \"hunter2\n")},
			[]string{"--build-arg-file bad.env: line 2: no '='", "write KEY=value lines"}},
		{"declared credential", map[string]string{"src/frontend/Dockerfile": "FROM debian:bookworm-slim\nARG DB_PASSWORD\nCOPY src/frontend/index.html /srv/\n"}, ArgFile{},
			[]string{"--build-arg-file .env: line 7: DB_PASSWORD is declared by", "src/frontend/Dockerfile (ARG DB_PASSWORD)", "looks like a credential", "make it a secret", "secrets:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := fixtureRepo(t, tc.edits)
			f := tc.file
			if f.Name == "" {
				f = env(t, tree)
			}
			_, err := Inspect(Options{Run: RunOptions{BuildArgFiles: []ArgFile{f}}}, tree)
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err), "%v", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "hunter2")
			assert.NotContains(t, err.Error(), "fixture-password-never-shown")
		})
	}
}

// TestLocalTree: the CLI's --source, --components-dir and --components-path.
func TestLocalTree(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "src"), 0o755))
	other := t.TempDir()
	t.Chdir(root)
	for _, tc := range []struct {
		name                 string
		source, dir, path    string
		where, comps, errMsg string
	}{
		{"defaults", "", "", "", ".", "components", ""},
		{"components dir inside", "", "src", "", ".", "src", ""},
		{"components dir elsewhere", "", other, "", other, "", ""},
		{"components path", root, "", "src", root, "src", ""},
		{"both", "", "src", "src", "", "", "exclude each other"},
		{"path leaves", root, "", "../x", "", "", "not a path inside --source"},
		{"dir outside the source", root, other, "", "", "", "is not inside --source"},
		{"source missing", filepath.Join(root, "nope"), "", "", "", "", "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LocalTree(tc.source, tc.dir, tc.path)
			if tc.errMsg != "" {
				assert.Equal(t, class.BadInput, class.Of(err))
				assert.ErrorContains(t, err, tc.errMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.where, tr.Where)
			assert.Equal(t, tc.comps, tr.Components)
		})
	}
}

func TestModuleTree(t *testing.T) {
	for _, tc := range []struct {
		name          string
		source, dir   bool
		path          string
		from          TreeFrom
		where, comps  string
		note, errText string
	}{
		{"own components", false, false, "", FromModule, "components", "", "this is the matrix module's own components/", ""},
		{"components dir", false, true, "", FromComponentsDir, "components", "", "", ""},
		{"source", true, false, "", FromSource, ".", "components", "", ""},
		{"source and path", true, false, "src", FromSource, ".", "src", "", ""},
		{"both", true, true, "", 0, "", "", "", "--components-dir and --source exclude each other"},
		{"path leaves", true, false, "../x", 0, "", "", "", `--components-path "../x": not a path inside --source`},
		{"path without source", false, true, "src", 0, "", "", "", "give --source too, e.g. --source . --components-path src"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, tr, note, err := ModuleTree(tc.source, tc.dir, tc.path)
			if tc.errText != "" {
				require.ErrorContains(t, err, tc.errText)
				assert.Equal(t, class.BadInput, class.Of(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.from, from)
			assert.Equal(t, tc.where, tr.Where)
			assert.Equal(t, tc.comps, tr.Components)
			if tc.note == "" {
				assert.Empty(t, note)
			} else {
				assert.Contains(t, note, tc.note)
			}
		})
	}
}
