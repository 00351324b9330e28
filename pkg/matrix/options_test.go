package matrix

import (
	"github.com/ai-infra-matrix/matrix/pkg/component"

	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

func TestValidateDefaults(t *testing.T) {
	o := Options{Verb: VerbPublish, Registry: "localhost:5000/ai-infra/"}
	require.NoError(t, o.Validate())
	assert.Equal(t, DefaultPlatforms, o.Platforms)
	assert.Equal(t, runtime.NumCPU(), o.Jobs)
	assert.Equal(t, "dev", o.Version)
	assert.Equal(t, DefaultStageRegistry, o.StageRegistry)
	assert.Equal(t, []string{"dev", "latest"}, o.Tags, "tags default to the version and latest")
	assert.Equal(t, "localhost:5000/ai-infra", o.Registry)
	before := o
	require.NoError(t, o.Validate(), "validating twice changes nothing")
	assert.Equal(t, before.Tags, o.Tags)
}

func TestValidateRejects(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"platform twice", Options{Platforms: []string{"linux/amd64", "linux/amd64"}}, "--platforms: linux/amd64 is listed twice"},
		{"unknown arch", Options{Platforms: []string{"linux/amd65"}}, `--platforms: "linux/amd65": unknown architecture`},
		{"bad component name", Options{Components: []string{"Web UI"}}, `--components: "Web UI" is not a component name`},
		{"negative jobs", Options{Jobs: -1}, "--jobs -1"},
		{"syft image not a reference", Options{Verb: VerbPublish, Registry: "localhost:5000/x", SyftImage: "anchore/syft:UPPER CASE"}, `--syft-image "anchore/syft:UPPER CASE"`},
		{"negative context", Options{MaxContext: -5}, "--max-context -5"},
		{"mirror with space", Options{Mirrors: map[string]string{"APT_MIRROR": "http://a b"}}, "--apt-mirror"},
		{"secret id", Options{Secrets: map[string]string{"a b": "x"}}, `--secret: id "a b"`},
		{"stage registry path", Options{StageRegistry: "localhost:5000/x"}, "--stage-registry"},
		{"publish without registry", Options{Verb: VerbPublish}, "registry is empty"},
		{"bad tag", Options{Verb: VerbPublish, Registry: "localhost:5000", Tags: []string{"v1 2"}}, `tag "v1 2" is not valid`},
		{"short revision", Options{Revision: "abc123"}, `--revision "abc123": give the full commit hash`},
		{"push by digest without revision", Options{PushByDigest: true, Registry: "localhost:5000"}, "--push-by-digest needs --revision"},
		{"push by digest without registry", Options{PushByDigest: true, Revision: rev}, "--push-by-digest needs --registry"},
		{"push by digest to a bad registry", Options{PushByDigest: true, Revision: rev, Registry: "http://x"}, "drop the scheme"},
		{"push by digest from publish", Options{Verb: VerbPublish, PushByDigest: true, Revision: rev, Registry: "localhost:5000"}, "--push-by-digest is for build-all"},
		{"engine of an unplanned platform", Options{Platforms: []string{"linux/amd64"}, Engines: map[string]string{"linux/arm64": "tcp://x:1"}}, "linux/arm64 is not in --platforms"},
		{"engine of another scheme", Options{Engines: map[string]string{"linux/arm64": "http://x:1"}}, "not a runner host; use unix://"},
		{"engine for export", Options{Verb: VerbExport, Engines: map[string]string{"linux/arm64": "tcp://x:1"}}, "export writes its archives from one engine"},
		{"merge without registry", Options{Verb: VerbMerge}, "registry is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err), "%v is bad input", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestValidateFanOut(t *testing.T) {
	o := Options{PushByDigest: true, Revision: "0123456789abcdef0123456789abcdef01234567", Registry: "localhost:5000/ai-infra",
		Engines: map[string]string{"linux/arm64": "ssh://user@arm-host"}}
	require.NoError(t, o.Validate())
	assert.Empty(t, o.Tags, "a leg moves no tag")
	m := Options{Verb: VerbMerge, Registry: "localhost:5000"}
	require.NoError(t, m.Validate())
	assert.Equal(t, []string{"dev", "latest"}, m.Tags)
	assert.Equal(t, []string{"latest"}, m.Floating, "latest moves forward only by default")
}

func TestNewReadsLocalSpecs(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "web"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web", "Dockerfile"), []byte("FROM x\n"), 0o644))
	r, err := New(Options{Platforms: []string{"linux/arm64"}}, local(dir))
	require.NoError(t, err)
	assert.Equal(t, []string{"web"}, r.Plan.Order)
	assert.Equal(t, filepath.Join(dir, "web"), r.Plan.Components[0].Dir, "errors name the user's path")

	_, err = New(Options{Components: []string{"ghost"}}, local(dir))
	assert.Equal(t, class.BadInput, class.Of(err))
	assert.ErrorContains(t, err, `unknown component "ghost"`)
}

func TestLintOptions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "web"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web", "Dockerfile"), []byte("FROM debian\nRUN echo $TARGETARCH\n"), 0o644))
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Lint: "fatal"}, "--lint \"fatal\": use warn, error or off"},
		{Options{Severity: "fatal"}, "--severity: \"fatal\" is not a severity"},
	} {
		_, err := New(tc.o, local(dir))
		assert.Equal(t, class.BadInput, class.Of(err), "%v", err)
		assert.ErrorContains(t, err, tc.want)
	}

	r, err := New(Options{}, local(dir))
	require.NoError(t, err, "findings are warnings by default")
	var got []string
	for _, f := range r.Findings() {
		got = append(got, f.Rule)
	}
	assert.Equal(t, []string{"unpinned-base", "undeclared-platform-arg"}, got)
	r, err = New(Options{Severity: "error"}, local(dir))
	require.NoError(t, err)
	assert.Len(t, r.Findings(), 1, "only the error counts at --severity error")

	_, err = New(Options{Lint: "error"}, local(dir))
	require.Error(t, err)
	assert.Equal(t, class.Failed, class.Of(err), "lint findings fail the run, before any build")
	assert.ErrorContains(t, err, "web/Dockerfile:2: error [undeclared-platform-arg]")
	assert.ErrorContains(t, err, "nothing built")

	r, err = New(Options{Verb: VerbLint, Lint: "error"}, local(dir))
	require.NoError(t, err, "the lint verb reports its findings itself")
	fs, err := r.Lint()
	assert.Len(t, fs, 2)
	assert.Equal(t, class.Failed, class.Of(err))
}

// local is the components directory dir as a tree of its own.
func local(dir string) component.Tree { return component.Tree{FS: os.DirFS(dir), Where: dir} }
