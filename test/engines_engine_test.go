//go:build engine

package system_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/provenance"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
	"github.com/ai-infra-matrix/matrix/pkg/signature"
)

// TestTwoEnginesEngineRegistry: a dependency and its dependent (the
// fixtures base and child) published from two
// engines of this machine (linux/amd64 on the world's engine, linux/arm64 on
// the second, `ci/world/up.sh --second-engine`) give the same indexes, in
// content, as a one-engine publish of the same tree: the same platform
// order, and per platform the same config (but for created and history) and
// the same layers: the same files in each (names, types, modes, sizes, link
// targets), as file times differ from build to build (the arm64 layers are
// built again on the second engine, and a dependent staged FROM an index of
// other platforms builds again too). The fixtures prove it in seconds; the
// 12 real components are built once per run, by TestAllComponentsEngineRegistry.
func TestTwoEnginesEngineRegistry(t *testing.T) {
	c := enginetest.Connect(t)
	host := enginetest.SecondEngine(t)
	c2 := enginetest.ConnectTo(t, host)
	registry := enginetest.Registry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir := enginetest.DependencyFixtures(t)
	opts := func(repo string) matrix.Options {
		// No attestations: this compares the variants of two engines, and the
		// second engine would compile syft for them first (the attestation
		// tests cover referrers, the Docker road and the module's fan-out
		// with them).
		return matrix.Options{Run: matrix.RunOptions{Version: "v0.0.0-e2e", StageRegistry: registry},
			Push: matrix.PushOptions{Mode: matrix.PushTagged, Registry: repo, Tags: []string{"e2e"}}, Attest: matrix.AttestOptions{NoAttest: true}}
	}

	one := registry + "/matrix-test-" + enginetest.Unique("one-engine")
	res, err := enginetest.Local(t, opts(one), dir).Publish(ctx, c, c.Host().Directory(dir))
	require.NoError(t, err)
	require.Len(t, res.Report.Indexes, 2)

	two := registry + "/matrix-test-" + enginetest.Unique("two-engines")
	o := opts(two)
	o.Run.Engines = map[string]string{"linux/arm64": host}
	run := enginetest.Local(t, o, dir)
	require.Equal(t, []string{"", host}, run.Hosts())
	res, err = run.PublishOn(ctx, []matrix.Engine{{Client: c, Src: c.Host().Directory(dir)}, {Host: host, Client: c2, Src: c2.Host().Directory(dir)}})
	require.NoError(t, err)
	var table strings.Builder
	require.NoError(t, res.Report.Table(&table))
	t.Logf("two-engine report:\n%s", table.String())
	verified, requested := res.Report.Counts()
	assert.Equal(t, 4, verified)
	assert.Equal(t, 4, requested)
	for _, cell := range res.Report.Snapshot() {
		want := "default" // the core's own client, from no runner host
		if cell.Platform == "linux/arm64" {
			want = host
		}
		assert.Equal(t, want, cell.Engine, "%s %s ran on its platform's engine", cell.Component, cell.Platform)
		assert.Equal(t, "linux/amd64", cell.Native, "%s %s: the engine's own platform", cell.Component, cell.Platform)
	}
	require.Len(t, res.Report.Indexes, 2)
	for _, ix := range res.Report.Indexes {
		image := strings.TrimPrefix(ix.Ref, two+"/")
		a := variants(t, one+"/"+image+":e2e")
		b := variants(t, two+"/"+image+":e2e")
		require.Equal(t, []string{"linux/amd64", "linux/arm64"}, platformsOf(a), "%s: one engine's platform order", image)
		require.Equal(t, platformsOf(a), platformsOf(b), "%s: two engines' platform order", image)
		for i := range a {
			assert.Equal(t, configOf(t, a[i].img), configOf(t, b[i].img), "%s %s: the same config but for created and history", image, a[i].platform)
			la, lb := layerList(t, a[i].img), layerList(t, b[i].img)
			require.Len(t, lb, len(la), "%s %s: as many layers", image, a[i].platform)
			for j := range la {
				assert.Equal(t, files(t, la[j]), files(t, lb[j]), "%s %s layer %d: the same files", image, a[i].platform, j)
			}
		}
	}
}

type variant struct {
	platform string
	img      v1.Image
}

// variants reads the index at ref, entry by entry.
func variants(t *testing.T, ref string) []variant {
	t.Helper()
	idx, err := remote.Index(enginetest.Ref(t, ref))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	var out []variant
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		require.NoError(t, err)
		out = append(out, variant{platform: d.Platform.String(), img: img})
	}
	return out
}

func platformsOf(vs []variant) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.platform)
	}
	return out
}

// configOf is the image config without what differs from build to build.
func configOf(t *testing.T, img v1.Image) v1.Config {
	t.Helper()
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	return cf.Config
}

func layerList(t *testing.T, img v1.Image) []v1.Layer {
	t.Helper()
	ls, err := img.Layers()
	require.NoError(t, err)
	return ls
}

// files lists a layer's entries, without their times, sorted.
func files(t *testing.T, l v1.Layer) []string {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	var out []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		// A base layer as pulled names its entries (and hard links) ./bin,
		// ./etc/..., with ./ itself; the same layer re-tarred by an engine
		// after a restart (docs/cache.md) names them bin, etc/...: the same
		// files.
		entry, link := strings.TrimPrefix(h.Name, "./"), h.Linkname
		if entry == "" {
			continue
		}
		if h.Typeflag == tar.TypeLink { // a hard link names an entry of the layer
			link = strings.TrimPrefix(link, "./")
		}
		out = append(out, fmt.Sprintf("%s %c %o %d %s", entry, h.Typeflag, h.Mode, h.Size, link))
	}
	sort.Strings(out)
	return out
}

// legEnv is this process's environment with the default engine replaced:
// a leg run as on another runner.
func legEnv(host string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "_EXPERIMENTAL_DAGGER_RUNNER_HOST=") {
			env = append(env, kv)
		}
	}
	return append(env, "_EXPERIMENTAL_DAGGER_RUNNER_HOST="+host)
}

// cliOn runs the matrix binary against the engine at host.
func cliOn(t *testing.T, host, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = legEnv(host)
	code, out, errw := enginetest.Run(t, cmd)
	return code, out + errw
}

// headOf is the digest a tag names, or "" when there is none.
func headOf(t *testing.T, ref string) string {
	t.Helper()
	d, err := remote.Head(enginetest.Ref(t, ref))
	if err != nil {
		return ""
	}
	return d.Digest.String()
}

// revisionOf is the revision the index at ref carries.
func revisionOf(t *testing.T, ref string) string {
	t.Helper()
	idx, err := remote.Index(enginetest.Ref(t, ref))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	return m.Annotations[publish.AnnotationRevision]
}

// gitRev resolves a revision of this checkout.
func gitRev(t *testing.T, rev string) string {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", rev)
	cmd.Dir = enginetest.Root()
	out, err := cmd.Output()
	require.NoError(t, err, "git rev-parse %s (the checkout needs its history)", rev)
	return strings.TrimSpace(string(out))
}

// TestFanOutEngineRegistry: the fixtures fan out as a release does, through
// the host CLI: an amd64 leg on the world's engine and an arm64 leg on the
// second engine, each `matrix build-all --push-by-digest`, then `matrix
// merge`. The merge writes one index per component in the plan's platform
// order from exactly the legs' digests, with the revision annotated. A merge
// missing a leg refuses (exit 1), names the missing cells and moves no tag; a
// leg of another revision refuses (exit 2). A merge from an older revision
// leaves latest where it is, says so, and still writes its version tag.
func TestFanOutEngineRegistry(t *testing.T) {
	host := enginetest.SecondEngine(t)
	enginetest.Engine(t)
	registry := enginetest.Registry(t)
	bin := buildCLI(t)
	comps := enginetest.DependencyFixtures(t)
	repo := registry + "/matrix-test-" + enginetest.Unique("fanout")
	head, parent := gitRev(t, "HEAD"), gitRev(t, "HEAD~1")
	legs := t.TempDir()
	leg := func(t *testing.T, on, arch, rev string) string {
		out := filepath.Join(legs, rev[:12]+"-"+arch+".json")
		code, log := cliOn(t, on, bin, "build-all", "--components-dir", comps, "--platforms", "linux/"+arch, "--stage-registry", registry,
			"--push-by-digest", "--registry", repo, "--revision", rev, "--results", out, "--no-attest") // see TestTwoEngines
		require.Equal(t, 0, code, log)
		assert.Contains(t, log, "by digest: "+repo+"/fixture-base@sha256:")
		return out
	}
	merge := func(t *testing.T, tag string, files ...string) (int, string) {
		return cli(t, bin, append([]string{"merge", "--components-dir", comps, "--registry", repo, "--tags", tag + ",latest", "--no-attest"}, files...)...)
	}
	amd64, arm64 := leg(t, os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST"), "amd64", head), leg(t, host, "arm64", head)

	t.Run("two legs and a merge", func(t *testing.T) {
		code, out := merge(t, "v1", amd64, arm64)
		require.Equal(t, 0, code, out)
		t.Logf("matrix merge:\n%s", out)
		assert.Contains(t, out, "4/4 cells verified")
		for _, f := range []string{amd64, arm64} {
			res, err := report.ReadResults(f)
			require.NoError(t, err)
			assert.Equal(t, head, res.Revision)
			for _, cr := range res.Components {
				for _, pr := range cr.Platforms {
					wantEngine := os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST")
					if pr.Platform == "linux/arm64" {
						wantEngine = host
					}
					assert.Equal(t, wantEngine, pr.Engine, "%s %s: the results name the engine", cr.Component, pr.Platform)
					assert.Equal(t, "linux/amd64", pr.Native, "%s %s: and its platform", cr.Component, pr.Platform)
					idx, err := publish.ReadBack(context.Background(), enginetest.Ref(t, cr.Ref+":v1"), []string{"linux/amd64", "linux/arm64"})
					require.NoError(t, err)
					m, err := idx.IndexManifest()
					require.NoError(t, err)
					i := map[string]int{"linux/amd64": 0, "linux/arm64": 1}[pr.Platform]
					assert.Equal(t, pr.Digest, m.Manifests[i].Digest.String(), "%s %s: the index holds the leg's digest", cr.Component, pr.Platform)
					assert.Equal(t, head, m.Annotations[publish.AnnotationRevision])
				}
			}
		}
		assert.Equal(t, headOf(t, repo+"/fixture-base:v1"), headOf(t, repo+"/fixture-base:latest"))
	})

	t.Run("a leg missing refuses and moves no tag", func(t *testing.T) {
		before := headOf(t, repo+"/fixture-base:latest")
		code, out := merge(t, "v2", amd64)
		t.Logf("matrix merge (one leg):\n%s", out)
		assert.Equal(t, int(class.Failed), code, out)
		assert.Contains(t, out, "do not cover 2 planned cell(s): base linux/arm64 (in no results file), child linux/arm64 (in no results file)")
		assert.Contains(t, out, "no tag moved")
		assert.Empty(t, headOf(t, repo+"/fixture-base:v2"), "no v2 tag")
		assert.Equal(t, before, headOf(t, repo+"/fixture-base:latest"), "latest did not move")
	})

	older := leg(t, host, "arm64", parent)
	t.Run("a leg of another revision refuses", func(t *testing.T) {
		code, out := merge(t, "v3", amd64, older)
		t.Logf("matrix merge (two revisions):\n%s", out)
		assert.Equal(t, int(class.BadInput), code, out)
		assert.Contains(t, out, "the results are of 2 revisions")
		assert.Contains(t, out, parent)
		assert.Empty(t, headOf(t, repo+"/fixture-base:v3"))
	})

	t.Run("an older revision keeps latest", func(t *testing.T) {
		latest := headOf(t, repo+"/fixture-base:latest")
		code, out := merge(t, "v0.9", leg(t, os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST"), "amd64", parent), older)
		t.Logf("matrix merge (older revision):\n%s", out)
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "kept "+repo+"/fixture-base:latest where it was: revision "+parent+" does not descend from "+head)
		assert.Equal(t, latest, headOf(t, repo+"/fixture-base:latest"), "latest stays at the newer revision")
		assert.Equal(t, head, revisionOf(t, repo+"/fixture-base:latest"))
		assert.Equal(t, parent, revisionOf(t, repo+"/fixture-base:v0.9"), "the version tag is written")
	})
}

// TestDaggerCallFanOutEngineRegistry: the same fan-out through the module,
// as the CI files run it: `dagger call build-all --push-by-digest -o` per
// platform, then `dagger call merge --results DIR`; a merge missing a leg
// exits 1 and moves no tag.
func TestDaggerCallFanOutEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository (and engine); see ci/test.sh
	ctx := enginetest.Context(t)
	registry := enginetest.Registry(t)
	src := filepath.Join(sourceRoot(t, false), "components")
	repo := registry + "/matrix-test-" + enginetest.Unique("module-fanout")
	head := gitRev(t, "HEAD")
	results := t.TempDir()
	priv, pub := enginetest.SigningKey(t)
	key := filepath.Join(t.TempDir(), "sign.key")
	require.NoError(t, os.WriteFile(key, priv, 0o600))
	for _, arch := range []string{"amd64", "arm64"} {
		out, code := dagger(t, ctx, "call", "--components-dir", src, "--registry", repo, "--registry-service", "tcp://"+registry, "--sign-key", "file:"+key, "build-all", "--platforms", "linux/"+arch, "--revision", head, "--push-by-digest", "-o", filepath.Join(results, arch+".json"))
		require.Equal(t, 0, code, out)
		res, err := report.ReadResults(filepath.Join(results, arch+".json"))
		require.NoError(t, err, "dagger call -o wrote the results")
		assert.True(t, res.OK)
		assert.Equal(t, head, res.Revision)
	}
	out, code := dagger(t, ctx, "call", "--components-dir", src, "--registry", repo, "--registry-service", "tcp://"+registry, "--sign-key", "file:"+key, "merge", "--results", results, "--tags", "v1,latest")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "5/5 cells verified")
	for _, img := range []string{"fixture-base", "fixture-child", "fixture-x86"} {
		platforms := []string{"linux/amd64", "linux/arm64"}
		if img == "fixture-x86" {
			platforms = platforms[:1]
		}
		idx, err := publish.ReadBack(ctx, enginetest.Ref(t, repo+"/"+img+":latest"), platforms)
		require.NoError(t, err, "%s:latest", img)
		assert.Equal(t, head, revisionOf(t, repo+"/"+img+":latest"))
		// The legs attested their variants, the merge the index, signed
		// with the key the module got as a secret.
		r, err := name.NewRepository(repo+"/"+img, name.Insecure)
		require.NoError(t, err)
		d, err := idx.Digest()
		require.NoError(t, err)
		subjects := map[v1.Hash][]string{d: {provenance.MediaType, signature.MediaType}}
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		for _, c := range m.Manifests {
			subjects[c.Digest] = []string{sbom.MediaType, provenance.MediaType, signature.MediaType}
		}
		for s, want := range subjects {
			refs, _ := referrersByType(t, ctx, r, s)
			assert.ElementsMatch(t, want, slices.Collect(maps.Keys(refs)), "%s@%s", img, s)
			assert.NoError(t, signature.Verify(layerOf(t, ctx, r, refs[signature.MediaType]), pub, s.String()), "%s@%s", img, s)
		}
	}

	require.NoError(t, os.Remove(filepath.Join(results, "arm64.json")))
	before := headOf(t, repo+"/fixture-base:latest")
	out, code = dagger(t, ctx, "call", "--components-dir", src, "--registry", repo, "--registry-service", "tcp://"+registry, "merge", "--results", results, "--tags", "v2,latest")
	assert.Equal(t, int(class.Failed), code, out)
	assert.Contains(t, out, "base linux/arm64 (in no results file)")
	assert.Empty(t, headOf(t, repo+"/fixture-base:v2"))
	assert.Equal(t, before, headOf(t, repo+"/fixture-base:latest"))
}

// TestFanOutBadInput: wrong fan-out flags are refused before any engine
// work, naming the flag and the fix, through both entry points.
func TestFanOutBadInput(t *testing.T) {
	t.Parallel() // refused before any build or push; see ci/test.sh
	enginetest.Engine(t)
	bin := buildCLI(t)
	comps := enginetest.DependencyFixtures(t)
	notResults := filepath.Join(t.TempDir(), "report.json")
	require.NoError(t, os.WriteFile(notResults, []byte(`{"cells": []}`), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"engine without a runner host", []string{"build-all", "--engine", "linux/arm64"}, `--engine "linux/arm64": use platform=runner-host`},
		{"engine of an unknown scheme", []string{"build-all", "--engine", "linux/arm64=http://x:1"}, "--engine linux/arm64=http://x:1: not a runner host"},
		{"engine of an unplanned platform", []string{"build-all", "--platforms", "linux/amd64", "--engine", "linux/arm64=tcp://x:1"}, "linux/arm64 is not in --platforms"},
		{"push by digest to a registry with a scheme", []string{"build-all", "--push-by-digest", "--registry", "http://localhost:5000"}, "drop the scheme"},
		{"a short revision", []string{"build-all", "--revision", "abc123"}, `--revision "abc123": give the full commit hash`},
		{"merge of nothing", []string{"merge", "--registry", "localhost:5000/x"}, "merge: give the results files"},
		{"merge of a file that is no results file", []string{"merge", "--registry", "localhost:5000/x", notResults}, "not a results file"},
	} {
		t.Run("matrix "+tc.name, func(t *testing.T) {
			code, out := cli(t, bin, append(tc.args[:1:1], append([]string{"--components-dir", comps}, tc.args[1:]...)...)...)
			assert.Equal(t, int(class.BadInput), code, out)
			assert.Contains(t, out, tc.want)
		})
	}
	ctx := enginetest.Context(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"push by digest without a revision", []string{"--registry", "localhost:5000/x", "build-all", "--push-by-digest"}, "--push-by-digest needs --revision"},
		{"merge of an empty directory", []string{"--registry", "localhost:5000/x", "merge", "--results", t.TempDir()}, "holds no *.json results file"},
	} {
		t.Run("dagger call "+tc.name, func(t *testing.T) {
			out, code := dagger(t, ctx, append([]string{"call", "--components-dir", comps}, tc.args...)...)
			assert.Equal(t, int(class.BadInput), code, out)
			assert.Contains(t, out, tc.want)
		})
	}
}
