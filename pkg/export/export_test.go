package export

import (
	"bytes"
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func blob(t *testing.T, v any) (v1.Hash, []byte) {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	h, _, err := v1.SHA256(bytes.NewReader(b))
	require.NoError(t, err)
	return h, b
}

func TestArchivePlatforms(t *testing.T) {
	cfgHash, cfg := blob(t, v1.ConfigFile{OS: "linux", Architecture: "arm64"})
	manHash, man := blob(t, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: v1.Descriptor{Digest: cfgHash}})
	two := v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{
		{Digest: manHash, MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
		{Digest: manHash, MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}},
	}}
	innerHash, inner := blob(t, two)
	blobs := map[string][]byte{cfgHash.String(): cfg, manHash.String(): man, innerHash.String(): inner}
	for _, tc := range []struct {
		name  string
		index v1.IndexManifest
		want  []string
		err   string
	}{
		{"platforms in the index", two, []string{"linux/amd64", "linux/arm64"}, ""},
		{"index nested one level", v1.IndexManifest{Manifests: []v1.Descriptor{{Digest: innerHash, MediaType: types.OCIImageIndex}}}, []string{"linux/amd64", "linux/arm64"}, ""},
		{"single image: platform from its config", v1.IndexManifest{Manifests: []v1.Descriptor{{Digest: manHash, MediaType: types.OCIManifestSchema1}}}, []string{"linux/arm64"}, ""},
		{"no platform, no manifest", v1.IndexManifest{Manifests: []v1.Descriptor{{Digest: cfgHash}}}, nil, "has no platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, idx := blob(t, tc.index)
			got, err := archivePlatforms(idx, blobs)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
