package matrix

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

func TestOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want func(t *testing.T, o Options)
	}{
		{"run", Options{}, func(t *testing.T, o Options) {
			assert.Equal(t, DefaultPlatforms, o.Run.Platforms)
			assert.Equal(t, runtime.NumCPU(), o.Run.Jobs)
			assert.Equal(t, "dev", o.Run.Version)
			assert.Equal(t, DefaultStageRegistry, o.Run.StageRegistry)
			assert.Equal(t, "warn", o.Run.Lint)
			assert.Equal(t, "warning", o.Run.Severity)
			assert.Empty(t, o.Push.Tags, "a run that pushes nothing has no tags")
		}},
		{"publish", Options{Push: PushOptions{Mode: PushTagged, Registry: "localhost:5000/ai-infra/"}}, func(t *testing.T, o Options) {
			assert.Equal(t, []string{"dev", "latest"}, o.Push.Tags, "tags default to the version and latest")
			assert.Equal(t, "localhost:5000/ai-infra", o.Push.Registry)
			assert.Equal(t, []string{"latest"}, o.Push.Floating, "latest moves forward only by default")
			assert.Equal(t, runtime.NumCPU(), o.Push.Jobs, "a publish pushes as many at once as it builds")
		}},
		{"publish of a version", Options{Run: RunOptions{Version: "v1"}, Push: PushOptions{Mode: PushTagged, Registry: "r:5000"}}, func(t *testing.T, o Options) {
			assert.Equal(t, []string{"v1", "latest"}, o.Push.Tags)
		}},
		{"leg", Options{Run: RunOptions{Revision: strings.Repeat("0a", 20)}, Push: PushOptions{Mode: PushByDigest, Registry: "r:5000"}}, func(t *testing.T, o Options) {
			assert.Empty(t, o.Push.Tags, "a leg moves no tag")
		}},
		{"source date epoch", Options{Run: RunOptions{SourceDateEpoch: "1764583200"}}, func(t *testing.T, o Options) {
			assert.Equal(t, "2025-12-01T10:00:00Z", o.Run.Created)
		}},
		{"given", Options{Run: RunOptions{Platforms: []string{"linux/arm64"}, Jobs: 3, Version: "v2", Lint: "off", Severity: "error", StageRegistry: "stage:5000"},
			Push: PushOptions{Mode: PushTagged, Registry: "r:5000", Tags: []string{"x"}, Floating: []string{}, Jobs: 7}}, func(t *testing.T, o Options) {
			assert.Equal(t, RunOptions{Platforms: []string{"linux/arm64"}, Jobs: 3, Version: "v2", Lint: "off", Severity: "error", StageRegistry: "stage:5000",
				fileArgs: map[string]fileArg{}}, o.Run)
			assert.Equal(t, []string{"x"}, o.Push.Tags)
			assert.Empty(t, o.Push.Floating, "no floating tags, when none are given")
			assert.Equal(t, 7, o.Push.Jobs)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			require.NoError(t, o.Validate())
			tc.want(t, o)
			before := o
			require.NoError(t, o.Validate(), "validating twice changes nothing")
			assert.Equal(t, before.Push, o.Push)
			assert.Equal(t, before.Run, o.Run)
		})
	}
}

// rejects checks that validate's error is bad input naming the flag; want
// empty: that there is none.
func rejects(t *testing.T, validate func() error, want string) {
	t.Helper()
	err := validate()
	if want == "" {
		assert.NoError(t, err)
		return
	}
	require.Error(t, err)
	assert.Equal(t, class.BadInput, class.Of(err), "%v is bad input", err)
	assert.Contains(t, err.Error(), want)
}

// validator is an options group, its defaults applied.
type validator interface{ Validate() error }

func runOf(o RunOptions) validator       { o.defaults(); return &o }
func pushOf(o PushOptions) validator     { o.defaults("dev"); return &o }
func attestOf(o AttestOptions) validator { return &o }

// TestGroupsValidate: each group's Validate, alone.
func TestGroupsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    validator
		want string // empty: valid
	}{
		{"platform twice", runOf(RunOptions{Platforms: []string{"linux/amd64", "linux/amd64"}}), "--platforms: linux/amd64 is listed twice"},
		{"unknown arch", runOf(RunOptions{Platforms: []string{"linux/amd65"}}), `--platforms: "linux/amd65": unknown architecture`},
		{"bad component name", runOf(RunOptions{Components: []string{"Web UI"}}), `--components: "Web UI" is not a component name`},
		{"negative jobs", runOf(RunOptions{Jobs: -1}), "--jobs -1"},
		{"negative context", runOf(RunOptions{MaxContext: -5}), "--max-context -5"},
		{"mirror with space", runOf(RunOptions{Mirrors: map[string]string{"APT_MIRROR": "http://a b"}}), "--apt-mirror"},
		{"secret id", runOf(RunOptions{Secrets: map[string]string{"a b": "x"}}), `--secret: id "a b"`},
		{"arg file", runOf(RunOptions{BuildArgFiles: []ArgFile{{Name: "a.env", Data: []byte("not a line\n")}}}), "--build-arg-file a.env"},
		{"lint", runOf(RunOptions{Lint: "fatal"}), `--lint "fatal": use warn, error or off`},
		{"severity", runOf(RunOptions{Severity: "fatal"}), `--severity: "fatal" is not a severity`},
		{"stage registry path", runOf(RunOptions{StageRegistry: "localhost:5000/x"}), "--stage-registry"},
		{"short revision", runOf(RunOptions{Revision: "abc123"}), `--revision "abc123": give the full commit hash`},
		{"source date epoch", runOf(RunOptions{SourceDateEpoch: "yesterday"}), "--source-date-epoch"},
		{"engine of an unplanned platform", runOf(RunOptions{Platforms: []string{"linux/amd64"}, Engines: map[string]string{"linux/arm64": "tcp://x:1"}}), "linux/arm64 is not in --platforms"},
		{"engine of another scheme", runOf(RunOptions{Engines: map[string]string{"linux/arm64": "http://x:1"}}), "not a runner host; use unix://"},
		{"cache repo", runOf(RunOptions{CacheRepo: "https://x/cache"}), `--cache-repo "https://x/cache": not a repository`},
		{"rebuild", runOf(RunOptions{Rebuild: []string{"Web UI"}}), "--rebuild"},
		{"nothing pushed", pushOf(PushOptions{Registry: "http://x", Tags: []string{"v1 2"}}), ""},
		{"publish", pushOf(PushOptions{Mode: PushTagged, Registry: "localhost:5000"}), ""},
		{"publish without registry", pushOf(PushOptions{Mode: PushTagged}), "registry is empty"},
		{"bad tag", pushOf(PushOptions{Mode: PushTagged, Registry: "localhost:5000", Tags: []string{"v1 2"}}), `tag "v1 2" is not valid`},
		{"leg", pushOf(PushOptions{Mode: PushByDigest, Registry: "localhost:5000"}), ""},
		{"leg without registry", pushOf(PushOptions{Mode: PushByDigest}), "--push-by-digest needs --registry"},
		{"leg to a bad registry", pushOf(PushOptions{Mode: PushByDigest, Registry: "http://x"}), "drop the scheme"},
		{"defaults", attestOf(AttestOptions{}), ""},
		{"syft from source", attestOf(AttestOptions{SyftImage: "source"}), ""},
		{"syft image not a reference", attestOf(AttestOptions{SyftImage: "anchore/syft:UPPER CASE"}), `--syft-image "anchore/syft:UPPER CASE"`},
		{"sign key and no attest", attestOf(AttestOptions{SignKey: "x", NoAttest: true}), "--sign-key and --no-attest exclude each other"},
		{"sign key not a key", attestOf(AttestOptions{SignKey: "x"}), "--sign-key: "},
	} {
		t.Run(tc.name, func(t *testing.T) { rejects(t, tc.o.Validate, tc.want) })
	}
}

func TestOptionsValidate(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"leg without revision", Options{Push: PushOptions{Mode: PushByDigest, Registry: "localhost:5000"}}, "--push-by-digest needs --revision"},
		{"leg without registry", Options{Run: RunOptions{Revision: rev}, Push: PushOptions{Mode: PushByDigest}}, "--push-by-digest needs --registry"},
		{"publish without registry", Options{Push: PushOptions{Mode: PushTagged}}, "registry is empty"},
		{"run before push", Options{Run: RunOptions{Jobs: -1}, Push: PushOptions{Mode: PushTagged}}, "--jobs -1"},
		{"attest", Options{Push: PushOptions{Mode: PushTagged, Registry: "localhost:5000/x"}, Attest: AttestOptions{SyftImage: "anchore/syft:UPPER CASE"}}, "--syft-image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rejects(t, tc.o.Validate, tc.want)
		})
	}
	fan := Options{Run: RunOptions{Revision: rev, Engines: map[string]string{"linux/arm64": "ssh://user@arm-host"}},
		Push: PushOptions{Mode: PushByDigest, Registry: "localhost:5000/ai-infra"}}
	require.NoError(t, fan.Validate())
}

func TestVerbsRefuseTheirPush(t *testing.T) {
	ctx := context.Background()
	leg := &Run{Options: Options{Push: PushOptions{Mode: PushByDigest}}}
	_, err := leg.PublishOn(ctx, nil)
	rejects(t, func() error { return err }, "--push-by-digest is for build-all")
	_, err = leg.Merge(ctx, map[string]report.Results{"a.json": {}})
	rejects(t, func() error { return err }, "--push-by-digest is for build-all")
	export := &Run{Options: Options{Run: RunOptions{Engines: map[string]string{"linux/arm64": "tcp://x:1"}}}}
	_, err = export.Export(ctx, nil, nil, t.TempDir())
	rejects(t, func() error { return err }, "export writes its archives from one engine")
}

func TestCreatedReadsGitOnlyWhenPushing(t *testing.T) {
	o := RunOptions{Revision: strings.Repeat("0a", 20)}
	require.NoError(t, (&Options{Run: o}).Validate())
	assert.Empty(t, o.Created, "validation reads no git history")
	assert.Empty(t, o.created(context.Background(), t.TempDir()), "not a checkout: unknown")
	o.Created = "2025-12-01T10:00:00Z"
	assert.Equal(t, o.Created, o.created(context.Background(), "/nonexistent"), "--source-date-epoch wins; no git call")
}

func TestNewReadsLocalSpecs(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "web"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web", "Dockerfile"), []byte("FROM x\n"), 0o644))
	r, err := New(Options{Run: RunOptions{Platforms: []string{"linux/arm64"}}}, local(dir))
	require.NoError(t, err)
	assert.Equal(t, []string{"web"}, r.Plan.Order)
	assert.Equal(t, filepath.Join(dir, "web"), r.Plan.Components[0].Dir, "errors name the user's path")

	_, err = New(Options{Run: RunOptions{Components: []string{"ghost"}}}, local(dir))
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
		{Options{Run: RunOptions{Lint: "fatal"}}, "--lint \"fatal\": use warn, error or off"},
		{Options{Run: RunOptions{Severity: "fatal"}}, "--severity: \"fatal\" is not a severity"},
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
	r, err = New(Options{Run: RunOptions{Severity: "error"}}, local(dir))
	require.NoError(t, err)
	assert.Len(t, r.Findings(), 1, "only the error counts at --severity error")

	_, err = New(Options{Run: RunOptions{Lint: "error"}}, local(dir))
	require.Error(t, err)
	assert.Equal(t, class.Failed, class.Of(err), "lint findings fail the run, before any build")
	assert.ErrorContains(t, err, "web/Dockerfile:2: error [undeclared-platform-arg]")
	assert.ErrorContains(t, err, "nothing built")

	r, err = Inspect(Options{Run: RunOptions{Lint: "error"}}, local(dir))
	require.NoError(t, err, "the lint verb reports its findings itself")
	fs, err := r.Lint()
	assert.Len(t, fs, 2)
	assert.Equal(t, class.Failed, class.Of(err))
}

// local is the components directory dir as a tree of its own.
func local(dir string) component.Tree { return component.Tree{FS: os.DirFS(dir), Where: dir} }
