//go:build engine

package matrix_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"dagger.io/dagger"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/cellkey"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/reuse"
)

// reuseFixtures: base writes a nonce no second build repeats, child builds
// FROM base, leaf stands alone.
func reuseFixtures(t *testing.T) string {
	nonce := "RUN cat /proc/sys/kernel/random/uuid > /nonce\n"
	return enginetest.Components(t, map[string]map[string]string{
		"base":  {"Dockerfile": "FROM debian:bookworm-slim\nCOPY base.txt /\n" + nonce, "base.txt": "1\n", "component.yaml": "image: reuse-base\nsmoke: [cat, /nonce]\n"},
		"child": {"Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n" + nonce, "component.yaml": "image: reuse-child\ndepends_on: [base]\nsmoke: [cat, /nonce]\n"},
		"leaf":  {"Dockerfile": "FROM debian:bookworm-slim\nCOPY leaf.txt /\n" + nonce, "leaf.txt": "1\n", "component.yaml": "image: reuse-leaf\nsmoke: [cat, /nonce]\n"},
	})
}

// reusedRun publishes dir on the engine of c and returns each cell and the
// nonce its variant holds.
func reusedRun(t *testing.T, c *dagger.Client, dir string, o matrix.Options) (map[string]report.Cell, map[string]string) {
	ctx := enginetest.Context(t)
	res, err := enginetest.Local(t, o, dir).Publish(ctx, c, c.Host().Directory(dir))
	require.NoError(t, err)
	cells, nonces := map[string]report.Cell{}, map[string]string{}
	for _, cell := range res.Report.Snapshot() {
		cells[cell.Component] = cell
	}
	for comp, vs := range res.Variants {
		require.Len(t, vs, 1)
		n, err := vs[0].Container.File("/nonce").Contents(ctx)
		require.NoError(t, err)
		nonces[comp] = n
	}
	return cells, nonces
}

// variantOf reads the linux/amd64 image of ref: its layers and its
// version annotation.
func variantOf(t *testing.T, ref string) ([]string, string) {
	img, err := remote.Image(enginetest.Ref(t, ref), remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	require.NoError(t, err)
	m, err := img.Manifest()
	require.NoError(t, err)
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, l.Digest.String())
	}
	return layers, m.Annotations[publish.AnnotationVersion]
}

// TestReuseEngineRegistry: a second publish of unchanged fixtures, on an
// engine that never built them (a fresh runner's), reuses every cell from
// the registry by its key: the same nonce, nothing built. A changed file
// then rebuilds only its cell and its dependents.
func TestReuseEngineRegistry(t *testing.T) {
	registry := enginetest.Registry(t)
	first, fresh := enginetest.Connect(t), enginetest.ConnectTo(t, enginetest.SecondEngine(t))
	project := registry + "/" + enginetest.Unique("reuse")
	var mu sync.Mutex
	var notes []string
	o := options(registry, publishTo(project, false, "v1"), func(o *matrix.Options) {
		o.Run.Platforms, o.Run.CacheRepo, o.Attest.NoAttest = []string{"linux/amd64"}, project+"/matrix-cache", true
		o.Notify = func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }
	})
	dir := reuseFixtures(t)

	built, nonce1 := reusedRun(t, first, dir, o)
	for comp, cell := range built {
		assert.False(t, cell.Reused, "%s: nothing to reuse yet", comp)
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, cell.Key, comp)
		assert.Contains(t, cell.Inputs, "recipe="+cellkey.Recipe, comp)
	}
	assert.Contains(t, built["child"].Inputs, "dependency:base="+built["base"].Key, "a dependent's key holds its dependency's")

	o.Run.Version = "v2" // a stamp, not an input of these fixtures: the key stays
	again, nonce2 := reusedRun(t, fresh, dir, o)
	for comp, cell := range again {
		assert.True(t, cell.Reused, "%s is reused", comp)
		assert.Equal(t, built[comp].Key, cell.Key, "%s: the same inputs, the same key on another engine", comp)
		assert.Contains(t, cell.From, project+"/reuse-"+comp+"@sha256:", comp)
		assert.Equal(t, report.Verified, cell.Status, "%s: a reused variant is still verified", comp)
	}
	assert.Equal(t, nonce1, nonce2, "no RUN ran again: the variants are the first run's")
	for comp, cell := range again {
		was, _ := variantOf(t, cell.From)
		layers, version := variantOf(t, project+"/reuse-"+comp+":v1")
		assert.Equal(t, was, layers, "%s: the published variant has the first run's layers", comp)
		assert.Equal(t, "v2", version, "%s: and this run's stamps", comp)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "base", "base.txt"), []byte("2\n"), 0o644))
	// A new session, as a new run has: a session reads a host directory once.
	changed, nonce3 := reusedRun(t, enginetest.ConnectTo(t, enginetest.SecondEngine(t)), dir, o)
	assert.False(t, changed["base"].Reused, "the changed component builds")
	assert.False(t, changed["child"].Reused, "its dependent builds")
	assert.True(t, changed["leaf"].Reused, "the rest is reused")
	assert.NotEqual(t, built["base"].Key, changed["base"].Key)
	assert.NotEqual(t, built["child"].Key, changed["child"].Key, "a dependency's new key is a new key")
	assert.NotEqual(t, nonce1["base"], nonce3["base"])
	assert.Equal(t, nonce1["leaf"], nonce3["leaf"])

	o.Run.Rebuild = []string{"leaf"}
	rebuilt, _ := reusedRun(t, enginetest.ConnectTo(t, enginetest.SecondEngine(t)), dir, o)
	assert.False(t, rebuilt["leaf"].Reused, "--rebuild leaf builds it whatever the cache holds")
	assert.True(t, rebuilt["base"].Reused, "and only it")
	t.Logf("keys: %v; notes: %v", map[string]string{"base": changed["base"].Key, "child": changed["child"].Key, "leaf": changed["leaf"].Key}, notes)
}

// TestReuseUnreachableCacheEngineRegistry: a cache that does not answer
// costs builds, said once, and never fails the run.
func TestReuseUnreachableCacheEngineRegistry(t *testing.T) {
	registry := enginetest.Registry(t)
	project := registry + "/" + enginetest.Unique("reuse-down")
	var mu sync.Mutex
	var notes []string
	o := options(registry, publishTo(project, false, "v1"), func(o *matrix.Options) {
		o.Run.Platforms, o.Run.CacheRepo, o.Attest.NoAttest = []string{"linux/amd64"}, "127.0.0.1:1/matrix-cache", true
		o.Notify = func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }
	})
	cells, _ := reusedRun(t, enginetest.Connect(t), reuseFixtures(t), o)
	for comp, cell := range cells {
		assert.False(t, cell.Reused, comp)
		assert.Equal(t, report.Verified, cell.Status, comp)
	}
	var down int
	for _, n := range notes {
		if strings.Contains(n, "--cache-repo does not answer") {
			down++
		}
	}
	assert.Equal(t, 1, down, "said once: %v", notes)
}

// TestReuseReadOnlyAndBadEntriesEngineRegistry: a pull request's build-all
// reads the cache through a proxy that refuses every write, as a job
// without write credentials does: it reuses every cell, writes nothing and
// passes. Then two entries go bad, one naming a deleted manifest and one a
// variant of another platform: those cells build instead, each with a
// warning, and the run still verifies every cell (engine, registry).
func TestReuseReadOnlyAndBadEntriesEngineRegistry(t *testing.T) {
	registry := enginetest.Registry(t)
	project := enginetest.Unique("reuse-ro")
	cacheRepo := registry + "/" + project + "/matrix-cache"
	o := options(registry, publishTo(registry+"/"+project, false, "v1"), func(o *matrix.Options) {
		o.Run.Platforms, o.Run.CacheRepo, o.Attest.NoAttest = []string{"linux/amd64"}, cacheRepo, true
	})
	dir, c := reuseFixtures(t), enginetest.Connect(t)
	first, _ := reusedRun(t, c, dir, o) // records every key

	roHost, refused := mirrortest.ReadOnly(t, registry)
	var mu sync.Mutex
	var notes []string
	pr := options(registry, func(o *matrix.Options) {
		o.Run.Platforms, o.Run.CacheRepo = []string{"linux/amd64"}, roHost+"/"+project+"/matrix-cache"
		o.Notify = func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }
	})
	buildAll := func() map[string]report.Cell {
		ctx := enginetest.Context(t)
		res, err := enginetest.Local(t, pr, dir).BuildAll(ctx, c, c.Host().Directory(dir))
		require.NoError(t, err)
		require.True(t, res.Report.OK(), res.Report.Summary())
		cells := map[string]report.Cell{}
		for _, cell := range res.Report.Snapshot() {
			assert.Equal(t, report.Verified, cell.Status, cell.Component)
			cells[cell.Component] = cell
		}
		return cells
	}
	for comp, cell := range buildAll() {
		assert.True(t, cell.Reused, "%s is reused through the read-only proxy", comp)
	}
	assert.Zero(t, refused(), "the pull request's run wrote nothing")

	cache, err := reuse.NewCache(cacheRepo)
	require.NoError(t, err)
	ctx := enginetest.Context(t)
	gone := registry + "/" + project + "/reuse-leaf@sha256:" + strings.Repeat("3", 64)
	require.NoError(t, cache.Record(ctx, first["leaf"].Key, "linux/amd64", gone))
	arm := armVariant(t, registry+"/library/debian:bookworm-slim")
	require.NoError(t, cache.Record(ctx, first["base"].Key, "linux/amd64", arm))
	notes = nil
	cells := buildAll()
	assert.False(t, cells["leaf"].Reused, "an entry naming a deleted manifest: leaf builds")
	assert.False(t, cells["base"].Reused, "an entry naming an arm64 variant: base builds")
	assert.True(t, cells["child"].Reused, "child's entry is sound")
	for _, comp := range []string{"leaf", "base"} {
		assert.True(t, slices.ContainsFunc(notes, func(n string) bool {
			return strings.HasPrefix(n, "warning: "+comp+" linux/amd64: cache entry not used, building")
		}), "%s: a warning says why it builds: %v", comp, notes)
	}
}

// armVariant is the repository@digest of index ref's linux/arm64 image.
func armVariant(t *testing.T, ref string) string {
	r := enginetest.Ref(t, ref)
	idx, err := remote.Index(r)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Architecture == "arm64" {
			return r.Context().String() + "@" + d.Digest.String()
		}
	}
	t.Fatalf("%s has no linux/arm64 image", ref)
	return ""
}
