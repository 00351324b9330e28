//go:build engine

package publish_test

import (
	"context"
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
)

// TestBackendIndexEngineRegistry builds components/backend for two platforms
// in the real engine, publishes one index to the real registry and reads it
// back with go-containerregistry.
func TestBackendIndexEngineRegistry(t *testing.T) {
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	b, err := builder.New(ctx, c, 2)
	require.NoError(t, err)
	platforms := []dagger.Platform{"linux/amd64", "linux/arm64"}
	req := builder.Request{
		Component: "backend",
		Dir:       c.Host().Directory(filepath.Join(enginetest.Root(), "components", "backend")),
		Args:      []dagger.BuildArg{{Name: "VERSION", Value: "v0.0.0-test"}},
	}
	var variants []builder.Variant
	for _, pl := range platforms {
		ctr, err := b.Container(req, pl).Sync(ctx)
		require.NoError(t, err, "backend %s", pl)
		variants = append(variants, builder.Variant{Platform: pl, Container: ctr})
	}

	machines := map[dagger.Platform]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}
	native, err := c.DefaultPlatform(ctx)
	require.NoError(t, err)
	nativeMachine := map[dagger.Platform]string{"linux/amd64": "x86_64", "linux/arm64": "aarch64"}[native]
	for i, v := range variants {
		assert.Equal(t, platforms[i], v.Platform, "variants keep the requested order")

		// The Go build stage ran on the engine's platform, not emulated.
		built, err := v.Container.File("/usr/share/backend/build-machine").Contents(ctx)
		require.NoError(t, err)
		assert.Equal(t, nativeMachine, strings.TrimSpace(built), "%s: build stage machine", v.Platform)

		// The binary is for the variant's architecture ...
		bin := filepath.Join(t.TempDir(), "backend")
		_, err = v.Container.File("/usr/local/bin/backend").Export(ctx, bin)
		require.NoError(t, err)
		f, err := elf.Open(bin)
		require.NoError(t, err)
		assert.Equal(t, machines[v.Platform], f.Machine, "%s: ELF machine", v.Platform)
		require.NoError(t, f.Close())

		// ... and runs there (emulated where foreign).
		out, err := v.Container.WithExec([]string{"/usr/local/bin/backend", "--version"}).Stdout(ctx)
		require.NoError(t, err)
		assert.Equal(t, "backend v0.0.0-test "+string(v.Platform), strings.TrimSpace(out))
	}

	ref := registry + "/matrix-test/backend:" + enginetest.Unique("skeleton")
	digest, err := publish.Index(ctx, c, ref, variants)
	require.NoError(t, err)

	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	idx, err := remote.Index(r, remote.WithContext(ctx))
	require.NoError(t, err)
	got, err := idx.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest, got.String(), "Publish returns the digest of the index in the registry")
	mt, err := idx.MediaType()
	require.NoError(t, err)
	assert.Contains(t, []types.MediaType{types.OCIImageIndex, types.DockerManifestList}, mt)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 2, "exactly one entry per platform")
	for i, d := range m.Manifests {
		require.NotNil(t, d.Platform, "entry %d has a platform", i)
		want, err := v1.ParsePlatform(string(platforms[i]))
		require.NoError(t, err)
		assert.Equal(t, want.OS+"/"+want.Architecture, d.Platform.OS+"/"+d.Platform.Architecture, "entry %d", i)
		img, err := idx.Image(d.Digest)
		require.NoError(t, err)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, want.OS, cf.OS, "entry %d config os", i)
		assert.Equal(t, want.Architecture, cf.Architecture, "entry %d config architecture", i)
	}
}
