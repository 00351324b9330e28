package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReusedCellInEveryReport: a cell taken from the registry by its key
// says so, with whence, in the table, the step summary, JUnit and results.json.
func TestReusedCellInEveryReport(t *testing.T) {
	r := &Report{}
	r.Set(Cell{Component: "backend", Platform: "linux/amd64", Status: Verified, Reused: true, Key: "sha256:k1", From: "reg/backend@sha256:d1"})
	r.Set(Cell{Component: "frontend", Platform: "linux/amd64", Status: Verified, Key: "sha256:k2"})
	write := map[string]func(*strings.Builder) error{
		"table":    func(b *strings.Builder) error { return r.Table(b) },
		"markdown": func(b *strings.Builder) error { return r.Markdown(b, SummaryLimit) },
		"junit":    func(b *strings.Builder) error { return r.JUnit(b) },
	}
	for _, tc := range []struct{ format, want string }{
		{"table", "verified (reused)"},
		{"markdown", "| verified (reused) |"},
		{"junit", "reused reg/backend@sha256:d1 (key sha256:k1)"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, write[tc.format](&b))
			assert.Contains(t, b.String(), tc.want)
			assert.Equal(t, 1, strings.Count(b.String(), "reused"), "only the reused cell says so")
		})
	}
	res := r.Results()
	assert.Equal(t, "reg/backend@sha256:d1", res.Components[0].Platforms[0].From)
	assert.Equal(t, "sha256:k2", res.Components[1].Platforms[0].Key)
	assert.Empty(t, res.Components[1].Platforms[0].From)
}
