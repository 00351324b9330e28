package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ciSample has a verified, a failed, a skipped and a not-requested cell.
func ciSample() *Report {
	r := &Report{Platforms: []string{"linux/amd64", "linux/arm64"}, Seconds: 12.5}
	r.Set(Cell{Component: "base", Platform: "linux/amd64", Status: Verified, Seconds: 1.5})
	r.Set(Cell{Component: "armfails", Platform: "linux/arm64", Status: Failed, Step: "build", Command: "/bin/sh -c exit 42",
		Error: "armfails linux/arm64: exit code 42", Output: "no arm64 support in this step"})
	r.Set(Cell{Component: "child", Platform: "linux/arm64", Status: Skipped, Error: "dependency base: staging failed"})
	r.Set(Cell{Component: "x86", Platform: "linux/arm64", Status: NotRequested})
	return r
}

func TestJUnitReadBack(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, ciSample().JUnit(&b))
	suites, err := junit.Ingest(b.Bytes())
	require.NoError(t, err)
	require.Len(t, suites, 1)
	s := suites[0]
	assert.Equal(t, 4, s.Totals.Tests, "one case per cell")
	assert.Equal(t, 1, s.Totals.Failed)
	assert.Equal(t, 2, s.Totals.Skipped)
	assert.Equal(t, 1, s.Totals.Passed)
	byName := map[string]junit.Test{}
	for _, tc := range s.Tests {
		byName[tc.Name] = tc
	}
	f := byName["armfails linux/arm64"]
	assert.Equal(t, junit.StatusFailed, f.Status)
	require.Error(t, f.Error)
	assert.Contains(t, f.Message, "failed at build: armfails linux/arm64: exit code 42")
	assert.Contains(t, f.Error.Error(), "no arm64 support in this step", "the output tail")
	sk := byName["child linux/arm64"]
	assert.Equal(t, junit.StatusSkipped, sk.Status)
	assert.Equal(t, "dependency base: staging failed", sk.Message, "a skip carries its reason")
}

func TestMarkdownLimit(t *testing.T) {
	var b strings.Builder
	require.NoError(t, ciSample().Markdown(&b, SummaryLimit))
	assert.Contains(t, b.String(), "| armfails | linux/arm64 | failed | build |")
	assert.Contains(t, b.String(), "no arm64 support in this step")
	big := &Report{}
	for i := 0; i < 3000; i++ {
		big.Set(Cell{Component: fmt.Sprintf("c%d", i), Platform: "linux/amd64", Status: Failed, Step: "build",
			Error: strings.Repeat("e", 200), Output: strings.Repeat("o\n", 100)})
	}
	b.Reset()
	require.NoError(t, big.Markdown(&b, SummaryLimit))
	assert.LessOrEqual(t, b.Len(), SummaryLimit)
	assert.Contains(t, b.String(), "trimmed to fit")
}

func TestAnnotations(t *testing.T) {
	var b strings.Builder
	require.NoError(t, ciSample().Annotations(&b))
	assert.Equal(t, "::error title=armfails linux/arm64::failed at build: armfails linux/arm64: exit code 42\n", b.String(),
		"one per failed cell, none for the skip; the title's colon-free")
	many := &Report{}
	for i := 0; i < 15; i++ {
		many.Set(Cell{Component: fmt.Sprintf("c%d", i), Platform: "linux/amd64", Status: Failed, Step: "build", Error: "a\nb"})
	}
	b.Reset()
	require.NoError(t, many.Annotations(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	assert.Len(t, lines, MaxAnnotations+1)
	assert.Contains(t, lines[0], "a%0Ab", "newlines are encoded")
	assert.Equal(t, "::error title=matrix::5 more failed cells; see the report", lines[MaxAnnotations])
}

func TestResults(t *testing.T) {
	r := ciSample()
	r.AddIndex(Index{Component: "base", Ref: "reg/base", Digest: "sha256:i", Tags: []string{"v1"},
		Platforms: []PlatformDigest{{Platform: "linux/amd64", Digest: "sha256:a"}}})
	res := r.Results()
	assert.False(t, res.OK, "a cell failed")
	require.Len(t, res.Components, 4)
	assert.Equal(t, ComponentResult{Component: "base", Ref: "reg/base", Digest: "sha256:i", Tags: []string{"v1"},
		Platforms: []PlatformResult{{Platform: "linux/amd64", Status: Verified, Digest: "sha256:a", Seconds: 1.5}}}, res.Components[0])
	assert.Equal(t, "armfails", res.Components[1].Component)
	assert.Equal(t, Failed, res.Components[1].Platforms[0].Status)
}
