//go:build engine

package system_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
)

// TestAllComponentsEngineRegistry: the 12 real components for linux/amd64
// and linux/arm64 in the real engine: 24 of 24 cells built and verified,
// published as 12 complete indexes, singleuser built FROM this run's
// jupyterhub variant of each platform.
//
// It runs as CI on a fresh runner should: with --cache-repo. CI starts the
// world's engine anew each run, and a restarted engine gives back some
// layers as new tars (docs/cache.md), so the staged jupyterhub got a new
// digest and singleuser rebuilt every run (275 s amd64, 510 s arm64 under
// emulation). Its cell key holds jupyterhub's key instead, so the cells
// whose inputs did not change are reused from the last run's push, then
// verified and published like built ones. On a fresh machine (an empty
// registry), or when a component changes, they build.
func TestAllComponentsEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository (and engine); see ci/test.sh
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	// A cold engine builds the 24 cells in 20-30 minutes here (jupyterhub's
	// arm64 install under qemu alone takes 7-15); a warm one in seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Minute)
	defer cancel()
	dir := filepath.Join(enginetest.Root(), "components")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var comps []string // beside them: third-party.yaml
	for _, e := range entries {
		if e.IsDir() {
			comps = append(comps, e.Name())
		}
	}
	require.Len(t, comps, 12, "12 components")

	repo := registry + "/matrix-test-" + enginetest.Unique("all")
	// StageReadBack as the CLI has it: a staged jupyterhub equal to the last
	// one but for its created time keeps the last one's digest, so a warm
	// engine builds singleuser FROM it from its cache.
	opts := matrix.Options{
		Run:  matrix.RunOptions{Version: "v0.0.0-e2e", StageRegistry: registry, StageReadBack: true, Sizes: true, CacheRepo: registry + "/matrix-test-cache"},
		Push: matrix.PushOptions{Mode: matrix.PushTagged, Registry: repo, Tags: []string{"e2e"}},
	}
	res, err := enginetest.Local(t, opts, dir).Publish(ctx, c, c.Host().Directory(dir))
	require.NoError(t, err)
	r := res.Report
	var table strings.Builder
	require.NoError(t, r.Table(&table))
	t.Logf("report:\n%s", table.String())
	verified, requested := r.Counts()
	reused := 0
	for _, cell := range r.Snapshot() {
		assert.NotEmpty(t, cell.Key, "%s %s has a cell key", cell.Component, cell.Platform)
		if cell.Reused {
			reused++
		}
	}
	t.Logf("figures: cells reused=%d built=%d", reused, verified-reused)
	assert.Equal(t, 24, requested)
	assert.Equal(t, 24, verified, "24 of 24 cells verified")
	require.True(t, r.OK(), r.Summary())
	require.Len(t, r.Indexes, 12)
	for _, ix := range r.Indexes {
		idx, err := publish.ReadBack(ctx, enginetest.Ref(t, ix.Ref+":e2e"), []string{"linux/amd64", "linux/arm64"})
		require.NoError(t, err, "%s:e2e holds both platforms", ix.Ref)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		for _, d := range m.Manifests { // each variant lists what is inside it
			repo, err := name.NewRepository(ix.Ref, name.Insecure)
			require.NoError(t, err)
			refs, _ := referrersByType(t, ctx, repo, d.Digest)
			require.Contains(t, refs, sbom.MediaType, "%s %s has an SBOM", ix.Component, d.Platform)
			purls, err := sbom.Packages(layerOf(t, ctx, repo, refs[sbom.MediaType]))
			require.NoError(t, err)
			assert.NotEmpty(t, purls)
			t.Logf("figures: sbom %s %s packages=%d", ix.Component, d.Platform, len(purls))
			// Beside the Debian packages: jupyterhub's Python
			// distributions, the Go modules of backend's binary.
			if kind := map[string]string{"jupyterhub": "pkg:pypi/jupyterhub@", "backend": "pkg:golang/github.com/ai-infra-matrix/matrix/components/backend"}[ix.Component]; kind != "" {
				assert.True(t, slices.ContainsFunc(purls, func(p string) bool { return strings.HasPrefix(p, kind) }), "%s %s lists %s", ix.Component, d.Platform, kind)
			}
		}
	}

	// singleuser's layers start with exactly jupyterhub's, platform by platform.
	for _, arch := range []string{"amd64", "arm64"} {
		hub := layers(t, repo+"/ai-infra-jupyterhub:e2e", arch)
		user := layers(t, repo+"/ai-infra-singleuser:e2e", arch)
		require.Greater(t, len(user), len(hub))
		assert.Equal(t, hub, user[:len(hub)], "singleuser linux/%s is built FROM this run's jupyterhub linux/%s", arch, arch)
	}
}

// layers lists the layer digests of ref's variant for arch.
func layers(t *testing.T, ref, arch string) []string {
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	idx, err := remote.Index(r)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Architecture == arch {
			img, err := idx.Image(d.Digest)
			require.NoError(t, err)
			ls, err := img.Layers()
			require.NoError(t, err)
			var out []string
			for _, l := range ls {
				dg, err := l.Digest()
				require.NoError(t, err)
				out = append(out, dg.String())
			}
			return out
		}
	}
	t.Fatalf("%s has no linux/%s", ref, arch)
	return nil
}
