//go:build engine

package matrix_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/export"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// options are the fixtures' run options; the push comes from more.
func options(registry string, more ...func(*matrix.Options)) matrix.Options {
	o := matrix.Options{Run: matrix.RunOptions{Jobs: 4, Version: "v9.9.9", StageRegistry: registry}}
	for _, f := range more {
		f(&o)
	}
	return o
}

// publishTo makes a run a publish to repo with tags.
func publishTo(repo string, archTags bool, tags ...string) func(*matrix.Options) {
	return func(o *matrix.Options) {
		o.Push = matrix.PushOptions{Mode: matrix.PushTagged, Registry: repo, Tags: tags, ArchTags: archTags}
	}
}

// publish runs a publish of the fixtures in dir.
func publishRun(t *testing.T, c *dagger.Client, dir string, o matrix.Options) (*report.Report, error) {
	res, err := enginetest.Local(t, o, dir).Publish(enginetest.Context(t), c, c.Host().Directory(dir))
	require.NotNil(t, res, "the run got past its checks: %v", err)
	return res.Report, err
}

// TestBuildAllFixturesEngine: a dependency chain, an amd64-only component and
// a component failing only on arm64, in the real engine.
func TestBuildAllFixturesEngine(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx := enginetest.Context(t)

	dir := enginetest.Fixtures(t, true)
	res, err := enginetest.Local(t, options(registry), dir).BuildAll(ctx, c, c.Host().Directory(dir))
	require.Error(t, err, "a cell failed")
	assert.Equal(t, class.Failed, class.Of(err))
	r := res.Report
	cell := func(comp, pl string) report.Cell {
		got, ok := r.Get(comp, pl)
		require.True(t, ok, "%s %s is in the report", comp, pl)
		return got
	}
	assert.Len(t, r.Cells, 8, "4 components × 2 platforms, none dropped")
	assert.Equal(t, report.Failed, cell("armfails", "linux/arm64").Status)
	assert.Equal(t, "build", cell("armfails", "linux/arm64").Step)
	assert.Contains(t, cell("armfails", "linux/arm64").Output, "no arm64 support in this step")
	assert.Contains(t, cell("armfails", "linux/arm64").Error, "armfails linux/arm64")
	assert.Equal(t, report.Verified, cell("armfails", "linux/amd64").Status)
	assert.Equal(t, report.NotRequested, cell("x86", "linux/arm64").Status)
	assert.Equal(t, report.Verified, cell("x86", "linux/amd64").Status)
	for _, pl := range []string{"linux/amd64", "linux/arm64"} {
		assert.Equal(t, report.Verified, cell("base", pl).Status)
		assert.Equal(t, report.Verified, cell("child", pl).Status)
	}
	assert.Equal(t, []report.Cell{cell("armfails", "linux/arm64")}, r.Failed(), "exactly that cell failed")
	assert.Equal(t, class.Failed, class.Of(r.Err()))

	// The child was built FROM this run's base variant of the same platform.
	for _, v := range res.Variants["child"] {
		out, err := v.Container.File("/etc/fixture-child").Contents(ctx)
		require.NoError(t, err)
		want := map[string]string{"linux/amd64": "x86_64", "linux/arm64": "aarch64"}[string(v.Platform)]
		assert.Equal(t, "base v9.9.9 "+want, strings.TrimSpace(out))
	}

	// Nothing is published when a cell failed.
	repo := registry + "/matrix-test-" + enginetest.Unique("tx")
	rep, err := publishRun(t, c, dir, options(registry, publishTo(repo, false, "v1")))
	assert.ErrorContains(t, err, "nothing published")
	assert.Equal(t, class.Failed, class.Of(err))
	assert.False(t, rep.OK())
	_, err = remote.Head(enginetest.Ref(t, repo+"/fixture-base:v1"))
	assert.Error(t, err, "no final tag was written")
}

// TestPublishTransactionalEngineRegistry: a good run publishes every index,
// stable across runs; a failing run leaves every final tag untouched.
func TestPublishTransactionalEngineRegistry(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx := enginetest.Context(t)
	repo := registry + "/matrix-test-" + enginetest.Unique("tx")
	dir := enginetest.Fixtures(t, false)
	target := options(registry, publishTo(repo, true, "v1", "latest"))

	rep, err := publishRun(t, c, dir, target)
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	require.Len(t, rep.Indexes, 3)
	before := digests(t, repo, "v1", "latest")
	for _, ix := range rep.Indexes {
		assert.Equal(t, ix.Digest, before[ix.Ref+":v1"], "report names the published digest")
		assert.Contains(t, ix.Tags, "v1-amd64")
		want := []string{"linux/amd64", "linux/arm64"}
		if strings.HasSuffix(ix.Ref, "/fixture-x86") {
			want = want[:1]
		}
		_, err := publish.ReadBack(ctx, enginetest.Ref(t, ix.Ref+":v1"), want)
		require.NoError(t, err, "%s:v1 is complete", ix.Ref)
	}

	// Same inputs, same index digests.
	rep, err = publishRun(t, c, dir, target)
	require.NoError(t, err)
	require.True(t, rep.OK())
	assert.Equal(t, before, digests(t, repo, "v1", "latest"), "unchanged inputs give unchanged index digests")

	// Break one component on arm64 and change another: the run fails and no tag moves.
	broken := enginetest.Fixtures(t, true)
	rep, err = publishRun(t, c, broken, options(registry, publishTo(repo, false, "v1", "latest")))
	assert.Error(t, err)
	assert.False(t, rep.OK())
	assert.Equal(t, before, digests(t, repo, "v1", "latest"), "a failed run moved no final tag")
}

// TestExportSkopeoImportEngine: the exported archives hold both platforms,
// match SHA256SUMS, and skopeo imports them into the registry.
func TestExportSkopeoImportEngine(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx := enginetest.Context(t)
	out := t.TempDir()
	dir := enginetest.Fixtures(t, false)
	o := options(registry, func(o *matrix.Options) { o.Run.Components = []string{"base"} })
	res, err := enginetest.Local(t, o, dir).Export(ctx, c, c.Host().Directory(dir), out)
	require.NoError(t, err)
	require.True(t, res.Report.OK(), res.Report.Summary())
	archives := res.Archives
	require.Len(t, archives, 1)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, archives[0].Platforms)

	sums := exec.Command("sha256sum", "-c", export.SumsFile)
	sums.Dir = out
	b, err := sums.CombinedOutput()
	require.NoError(t, err, string(b))

	dst := registry + "/matrix-test-" + enginetest.Unique("import") + "/fixture-base:v9.9.9"
	imp := exec.CommandContext(ctx, "skopeo", "copy", "--all", "--dest-tls-verify=false",
		"oci-archive:"+filepath.Join(out, archives[0].Name), "docker://"+dst)
	b, err = imp.CombinedOutput()
	require.NoError(t, err, string(b))
	_, err = publish.ReadBack(ctx, enginetest.Ref(t, dst), []string{"linux/amd64", "linux/arm64"})
	require.NoError(t, err, "the imported index holds both platforms")
}

// digests maps repo/image:tag to its digest for every fixture image.
func digests(t *testing.T, repo string, tags ...string) map[string]string {
	out := map[string]string{}
	for _, img := range []string{"fixture-base", "fixture-child", "fixture-x86"} {
		for _, tag := range tags {
			d, err := remote.Head(enginetest.Ref(t, repo+"/"+img+":"+tag))
			require.NoError(t, err, "%s/%s:%s", repo, img, tag)
			out[repo+"/"+img+":"+tag] = d.Digest.String()
		}
	}
	return out
}
