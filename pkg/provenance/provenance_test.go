package provenance

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatement(t *testing.T) {
	b := Build{Subject: "localhost:5000/ai-infra-nginx", Digest: "sha256:abcd", Component: "nginx",
		Platforms: []string{"linux/arm64"}, Version: "v1.2.3", Source: "https://github.com/ai-infra-matrix/matrix",
		Revision: "0123456789abcdef0123456789abcdef01234567", Created: "2026-12-01T10:00:00Z",
		Args:   map[string]string{"VERSION": "v1.2.3", "APT_MIRROR": "https://user:s3cr3t@mirror.example/debian"},
		Base:   "docker.io/library/debian:bookworm-slim@sha256:beef",
		Engine: "v0.21.8", Matrix: "v0.0.1"}
	a, err := Statement(b)
	require.NoError(t, err)
	again, err := Statement(b)
	require.NoError(t, err)
	assert.Equal(t, a, again, "the same build, the same bytes")
	assert.NotContains(t, string(a), "s3cr3t", "a credential in a mirror URL is dropped")

	var st struct {
		Type          string `json:"_type"`
		PredicateType string
		Subject       []struct {
			Name   string
			Digest map[string]string
		}
		Predicate struct {
			BuildDefinition struct {
				ExternalParameters   map[string]any
				InternalParameters   struct{ BuildArgs map[string]string }
				ResolvedDependencies []struct {
					URI    string
					Digest map[string]string
				}
			}
			RunDetails struct {
				Builder struct {
					ID      string
					Version map[string]string
				}
				Metadata map[string]string
			}
		}
	}
	require.NoError(t, json.Unmarshal(a, &st))
	assert.Equal(t, StatementType, st.Type)
	assert.Equal(t, PredicateType, st.PredicateType)
	require.Len(t, st.Subject, 1)
	assert.Equal(t, map[string]string{"sha256": "abcd"}, st.Subject[0].Digest)
	p := st.Predicate
	assert.Equal(t, "linux/arm64", p.BuildDefinition.ExternalParameters["platforms"].([]any)[0])
	assert.Equal(t, "https://mirror.example/debian", p.BuildDefinition.InternalParameters.BuildArgs["APT_MIRROR"])
	require.Len(t, p.BuildDefinition.ResolvedDependencies, 2)
	assert.Equal(t, map[string]string{"gitCommit": b.Revision}, p.BuildDefinition.ResolvedDependencies[0].Digest)
	assert.Equal(t, "pkg:docker/docker.io/library/debian:bookworm-slim", p.BuildDefinition.ResolvedDependencies[1].URI)
	assert.Equal(t, map[string]string{"matrix": "v0.0.1", "dagger-engine": "v0.21.8"}, p.RunDetails.Builder.Version)
	assert.Equal(t, "2026-12-01T10:00:00Z", p.RunDetails.Metadata["startedOn"], "the source's time, never the wall clock")
}
