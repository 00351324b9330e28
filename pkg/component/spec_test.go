package component

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// component makes components/<name> with a Dockerfile and the given component.yaml.
func component(t *testing.T, root, name, yaml string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian:bookworm-slim\n"), 0o644))
	if yaml != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(yaml), 0o644))
	}
	return dir
}

// load reads the components directory fsys, named where, as a tree of its own.
func load(fsys fs.FS, where string) ([]Spec, error) {
	s, err := Load(Tree{FS: fsys, Where: where})
	if err != nil {
		return nil, err
	}
	return s.Specs, nil
}

// read reads the component at dir through the local file system: its
// first image (its only one without images:).
func read(dir string) (Spec, error) {
	specs, err := readAll(dir)
	if err != nil {
		return Spec{}, err
	}
	return specs[0], nil
}

// readAll reads every image of the component at dir.
func readAll(dir string) ([]Spec, error) {
	return Read(os.DirFS(filepath.Dir(dir)), filepath.Base(dir), filepath.Dir(dir))
}

func TestReadDefaults(t *testing.T) {
	dir := component(t, t.TempDir(), "backend", "")
	c, err := read(dir)
	require.NoError(t, err)
	assert.Equal(t, Spec{Name: "backend", Dir: dir, Image: "ai-infra-backend", Dockerfile: "Dockerfile", Base: "debian:bookworm-slim"}, c)
	assert.True(t, c.Supports("linux/arm64"), "no platforms means every platform")
}

func TestReadAllFields(t *testing.T) {
	dir := component(t, t.TempDir(), "singleuser", `
image: team/ai-infra-notebook
platforms: [linux/amd64]
dockerfile: Dockerfile
target: final
args: {VERSION: "${VERSION}", A_FLAG: "1"}
secrets: [pip_token]
depends_on: [jupyterhub]
smoke: [jupyter, --version]
`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian:bookworm-slim AS final\nFROM final AS other\n"), 0o644))
	c, err := read(dir)
	require.NoError(t, err)
	assert.Equal(t, "team/ai-infra-notebook", c.Image)
	assert.Equal(t, []string{"linux/amd64"}, c.Platforms)
	assert.Equal(t, "final", c.Target)
	assert.Equal(t, []Arg{{"A_FLAG", "1"}, {"VERSION", "${VERSION}"}}, c.Args, "args sorted by name")
	assert.Equal(t, []string{"pip_token"}, c.Secrets)
	assert.Equal(t, []string{"jupyterhub"}, c.DependsOn)
	assert.Equal(t, []string{"jupyter", "--version"}, c.Smoke)
	assert.False(t, c.Supports("linux/arm64"))
}

func TestReadScratch(t *testing.T) {
	dir := component(t, t.TempDir(), "hello", "smoke: [/hello]\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"),
		[]byte("FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build\nFROM scratch\nCOPY --from=build /hello /hello\n"), 0o644))
	c, err := read(dir)
	require.NoError(t, err)
	assert.True(t, c.Scratch, "the final stage is FROM scratch")
	assert.Empty(t, c.Base)

	c, err = read(component(t, t.TempDir(), "based", ""))
	require.NoError(t, err)
	assert.False(t, c.Scratch, "a final stage FROM debian has a base")
}

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name, yaml, field, problem string
	}{
		{"malformed yaml", "smoke: [true\n", "", "malformed YAML"},
		{"tab indentation", "smoke:\n\t- true\n", "", "malformed YAML"},
		{"not a mapping", "- a\n- b\n", "", "not a mapping"},
		{"unknown key", "smoke: [true]\nimgae: x\n", "imgae", "unknown key"},
		{"unknown key build_args", "build_args: {A: b}\n", "build_args", "unknown key"},
		{"duplicate key", "smoke: [a]\nsmoke: [b]\n", "smoke", "key given twice"},
		{"image wrong type", "image: [a]\n", "image", "wrong type"},
		{"image upper case", "image: AI-Infra\n", "image", "not a valid repository name"},
		{"image with tag", "image: ai-infra-x:v1\n", "image", "not a valid repository name"},
		{"platforms wrong type", "platforms: linux/amd64\n", "platforms", "wrong type"},
		{"platform typo", "platforms: [linux/amd65]\n", "platforms[0]", "unknown architecture"},
		{"platform without os", "platforms: [arm64]\n", "platforms[0]", "not os/arch"},
		{"platform windows", "platforms: [windows/amd64]\n", "platforms[0]", "only linux"},
		{"platform bad variant", "platforms: [linux/arm64/v7]\n", "platforms[0]", "variant"},
		{"platform twice", "platforms: [linux/amd64, linux/amd64]\n", "platforms[1]", "listed twice"},
		{"platforms empty", "platforms: []\n", "platforms", "is empty"},
		{"dockerfile escapes", "dockerfile: ../../etc/passwd\n", "dockerfile", "leaves the component directory"},
		{"dockerfile absolute", "dockerfile: /etc/passwd\n", "dockerfile", "leaves the component directory"},
		{"dockerfile missing", "dockerfile: Nope.Dockerfile\n", "dockerfile", "Nope.Dockerfile"},
		{"target wrong type", "target: {a: b}\n", "target", "wrong type"},
		{"args wrong type", "args: [A, B]\n", "args", "wrong type"},
		{"arg bad name", "args: {'A-B': x}\n", "args.A-B", "not a valid build arg name"},
		{"arg password", "args: {DB_PASSWORD: hunter2}\n", "args.DB_PASSWORD", "looks like a credential"},
		{"arg token", "args: {GITHUB_TOKEN: x}\n", "args.GITHUB_TOKEN", "looks like a credential"},
		{"arg reserved mirror", "args: {APT_MIRROR: x}\n", "args.APT_MIRROR", "set by matrix"},
		{"arg reserved buildplatform", "args: {BUILDPLATFORM: linux/arm64}\n", "args.BUILDPLATFORM", "set by matrix"},
		{"secrets wrong type", "secrets: token\n", "secrets", "wrong type"},
		{"secret bad id", "secrets: ['a b']\n", "secrets[0]", "not a valid secret id"},
		{"depends_on wrong type", "depends_on: {a: b}\n", "depends_on", "wrong type"},
		{"depends_on bad name", "depends_on: [Jupyter_Hub]\n", "depends_on[0]", "not a component name"},
		{"depends_on self", "depends_on: [web]\n", "depends_on[0]", "itself"},
		{"smoke wrong type", "smoke: {a: b}\n", "smoke", "wrong type"},
		{"smoke empty", "smoke: []\n", "smoke", "is empty"},
	}
	require.GreaterOrEqual(t, len(cases), 20)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := component(t, t.TempDir(), "web", tc.yaml)
			_, err := read(dir)
			require.Error(t, err)
			var se *Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, filepath.Join(dir, FileName), se.File, "error names the file")
			if tc.field != "" {
				assert.Equal(t, tc.field, se.Field, "error names the field")
			}
			assert.Contains(t, err.Error(), tc.problem)
			assert.Contains(t, err.Error(), dir, "message names the file")
		})
	}
}

func TestDockerfileSymlinkOut(t *testing.T) {
	root := t.TempDir()
	dir := component(t, root, "web", "dockerfile: evil\n")
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "evil")))
	_, err := read(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside the component directory")
}

func TestLoad(t *testing.T) {
	t.Run("sorted directories", func(t *testing.T) {
		root := t.TempDir()
		component(t, root, "b", "")
		component(t, root, "a", "")
		cs, err := load(os.DirFS(root), root)
		require.NoError(t, err)
		require.Len(t, cs, 2)
		assert.Equal(t, "a", cs[0].Name)
	})
	t.Run("duplicate image", func(t *testing.T) {
		root := t.TempDir()
		component(t, root, "a", "image: same\n")
		component(t, root, "b", "image: same\n")
		_, err := load(os.DirFS(root), root)
		assert.ErrorContains(t, err, `field image: "same" is also the image of component a`)
	})
	t.Run("empty directory", func(t *testing.T) {
		empty := t.TempDir()
		_, err := load(os.DirFS(empty), empty)
		assert.ErrorContains(t, err, "no components found")
	})
	t.Run("missing directory", func(t *testing.T) {
		nope := filepath.Join(t.TempDir(), "nope")
		_, err := load(os.DirFS(nope), nope)
		assert.ErrorContains(t, err, "no such file")
	})
	t.Run("bad directory name", func(t *testing.T) {
		root := t.TempDir()
		component(t, root, "Web_UI", "")
		_, err := load(os.DirFS(root), root)
		assert.ErrorContains(t, err, "not lower-case")
	})
}

func TestParsePlatforms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"linux/amd64,linux/arm64", []string{"linux/amd64", "linux/arm64"}, ""},
		{"linux/arm64, linux/amd64", []string{"linux/arm64", "linux/amd64"}, ""},
		{"linux/arm/v7", []string{"linux/arm/v7"}, ""},
		{"linux/amd65", nil, "unknown architecture"},
		{"arm64", nil, "not os/arch"},
		{"", nil, "not os/arch"},
		{"linux/amd64,linux/amd64", nil, "listed twice"},
	} {
		got, err := ParsePlatforms(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
}

func TestDeclaredArgs(t *testing.T) {
	dir := component(t, t.TempDir(), "web", "")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"),
		[]byte("ARG GO_IMAGE=golang\nFROM x:1\n  arg TARGETOS TARGETARCH\nARG APT_MIRROR\nRUN echo ARG NOT_ME \\\n  ARG NOR_ME\nARG APT_MIRROR=\n"), 0o644))
	c, err := read(dir)
	require.NoError(t, err)
	got := c.Declared
	assert.Equal(t, []string{"GO_IMAGE", "TARGETOS", "TARGETARCH", "APT_MIRROR"}, got)
}

func TestCheckContextSize(t *testing.T) {
	root := t.TempDir()
	dir := component(t, root, "big", "")
	f, err := os.Create(filepath.Join(dir, "blob.bin"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(3<<20)) // sparse: 3 MB without writing them
	require.NoError(t, f.Close())
	set, err := Load(Tree{FS: os.DirFS(root), Where: root})
	require.NoError(t, err)
	_, err = set.Check(set.Specs[0], 1<<20, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "build context is 3.146MB, over the 1.049MB limit")
	assert.Contains(t, err.Error(), ".dockerignore")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*.bin\n"), 0o644))
	set, err = Load(Tree{FS: os.DirFS(root), Where: root})
	require.NoError(t, err)
	ctx, err := set.Check(set.Specs[0], 1<<20, nil)
	require.NoError(t, err, "ignored files do not count")
	assert.Equal(t, filepath.Join(dir, ".dockerignore"), ctx.Ignore)
}

func TestLintIgnore(t *testing.T) {
	root := t.TempDir()
	dir := component(t, root, "web", "lint: {ignore: {unpinned-base: the base is pinned by the mirror}}\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian\nRUN echo $TARGETARCH\n"), 0o644))
	c, err := read(dir)
	require.NoError(t, err)
	require.Len(t, c.Lint, 1, "the ignored rule is gone, the other stays")
	assert.Equal(t, "undeclared-platform-arg", c.Lint[0].Rule)
	assert.Equal(t, filepath.Join(dir, "Dockerfile"), c.Lint[0].File)
	assert.Equal(t, map[string]string{"unpinned-base": "the base is pinned by the mirror"}, c.LintIgnore)

	for _, tc := range []struct{ yaml, field, problem string }{
		{"lint: {ignore: {no-such-rule: because}}\n", "lint.ignore.no-such-rule", "is not a lint rule"},
		{"lint: {ignore: {unpinned-base: \"\"}}\n", "lint.ignore.unpinned-base", "gives no reason"},
		{"lint: [a]\n", "lint", "wrong type"},
	} {
		dir := component(t, t.TempDir(), "web", tc.yaml)
		_, err := read(dir)
		var se *Error
		require.ErrorAs(t, err, &se, tc.yaml)
		assert.Equal(t, tc.field, se.Field)
		assert.Contains(t, err.Error(), tc.problem)
	}

	dir = component(t, t.TempDir(), "web", "")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian:12\nCOPY\n"), 0o644))
	_, err = read(dir)
	assert.ErrorContains(t, err, "web/Dockerfile: cannot be parsed")
}
