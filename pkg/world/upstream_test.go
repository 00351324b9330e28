package world_test

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
	"github.com/ai-infra-matrix/matrix/pkg/world"
)

func TestSeedUpstream(t *testing.T) {
	reg := mirrortest.New(t)
	require.NoError(t, world.SeedUpstream(context.Background(), reg.Host))
	for ref, want := range map[string][]string{
		"upstream/standin:1.0":   {"linux/amd64", "linux/arm64"},
		"upstream/amd64only:1.0": {"linux/amd64"},
	} {
		idx, err := remote.Index(reg.Ref(t, ref))
		require.NoError(t, err, ref)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		var got []string
		for _, d := range m.Manifests {
			img, err := idx.Image(d.Digest)
			require.NoError(t, err)
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			assert.Equal(t, d.Platform.OS+"/"+d.Platform.Architecture, cf.OS+"/"+cf.Architecture, "%s: entry and config agree", ref)
			got = append(got, d.Platform.String())
		}
		assert.Equal(t, want, got, ref)
	}
	reg.Writes()
	require.NoError(t, world.SeedUpstream(context.Background(), reg.Host))
	assert.Zero(t, reg.Writes(), "seeding again writes nothing")
}
