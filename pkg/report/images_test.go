package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imagesSample is a run of backend's two images from one Dockerfile, each
// published as its own index.
func imagesSample() *Report {
	r := &Report{Platforms: []string{"linux/amd64"}}
	r.Set(Cell{Component: "backend/backend", Platform: "linux/amd64", Status: Verified, Image: "ai-infra-backend", Seconds: 2})
	r.Set(Cell{Component: "backend/backend-init", Platform: "linux/amd64", Status: Failed, Step: "verify", Image: "ai-infra-backend-init",
		Error: "backend/backend-init linux/amd64: smoke exited 1"})
	r.AddIndex(Index{Component: "backend/backend", Ref: "reg/ai-infra-backend", Digest: "sha256:b",
		Platforms: []PlatformDigest{{Platform: "linux/amd64", Digest: "sha256:b1"}}})
	return r
}

// TestImageRows: each image of a component is a row of its own, addressed
// component/image, in every form of the report; an index is its image's.
func TestImageRows(t *testing.T) {
	r := imagesSample()
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
		want  []string
	}{
		{"table", func(b *bytes.Buffer) error { return r.Table(b) },
			[]string{"backend/backend       linux/amd64  verified", "backend/backend-init  linux/amd64  failed", "1/2 cells verified"}},
		{"markdown", func(b *bytes.Buffer) error { return r.Markdown(b, 1<<16) },
			[]string{"| backend/backend | linux/amd64 |", "| backend/backend-init | linux/amd64 |"}},
		{"junit", func(b *bytes.Buffer) error { return r.JUnit(b) },
			[]string{`classname="backend/backend"`, `name="backend/backend-init linux/amd64"`}},
		{"annotations", func(b *bytes.Buffer) error { return r.Annotations(b) },
			[]string{"::error title=backend/backend-init linux/amd64::"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, tc.write(&b))
			for _, w := range tc.want {
				assert.Contains(t, b.String(), w)
			}
		})
	}

	res := r.Results()
	require.Len(t, res.Components, 2, "one result per image")
	assert.Equal(t, "backend/backend", res.Components[0].Component)
	assert.Equal(t, "sha256:b", res.Components[0].Digest, "its own index")
	assert.Equal(t, "backend/backend-init", res.Components[1].Component)
	assert.Empty(t, res.Components[1].Digest, "no index: it failed")
	assert.Equal(t, Failed, res.Components[1].Platforms[0].Status)
}
