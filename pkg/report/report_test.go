package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
)

func sample() *Report {
	r := &Report{Platforms: []string{"linux/amd64", "linux/arm64"}}
	r.Set(Cell{Component: "backend", Platform: "linux/amd64", Status: Verified, SizeBytes: 12_300_000, Seconds: 3.2})
	r.Set(Cell{Component: "backend", Platform: "linux/arm64", Status: Failed, Step: "build", Command: "/bin/sh -c make", Error: "backend linux/arm64: exited 2", Output: "make: *** [all] Error 2"})
	r.Set(Cell{Component: "gitea", Platform: "linux/amd64", Status: Verified})
	r.Set(Cell{Component: "gitea", Platform: "linux/arm64", Status: NotRequested})
	return r
}

func TestCountsAndExit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		r        *Report
		verified int
		total    int
		class    class.Class
	}{
		{"one failed", sample(), 2, 3, class.Failed},
		{"empty run is not success", &Report{}, 0, 0, class.Failed},
		{"all verified", func() *Report {
			r := &Report{}
			r.Set(Cell{Component: "a", Platform: "linux/amd64", Status: Verified})
			r.Set(Cell{Component: "a", Platform: "linux/arm64", Status: NotRequested})
			return r
		}(), 1, 1, class.None},
		{"skipped counts as not verified", func() *Report {
			r := &Report{}
			r.Set(Cell{Component: "a", Platform: "linux/amd64", Status: Skipped})
			return r
		}(), 0, 1, class.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, n := tc.r.Counts()
			assert.Equal(t, tc.verified, v)
			assert.Equal(t, tc.total, n)
			assert.Equal(t, tc.class, class.Of(tc.r.Err()))
		})
	}
}

func TestSetReplaces(t *testing.T) {
	r := sample()
	r.Set(Cell{Component: "backend", Platform: "linux/arm64", Status: Verified})
	assert.Len(t, r.Cells, 4)
	assert.True(t, r.OK())
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, sample().Table(&b))
	assert.Equal(t, `COMPONENT  PLATFORM     STATUS                 STEP   SIZE    TIME
backend    linux/amd64  verified               -      12.3MB  3.2s
backend    linux/arm64  failed                 build  -       -
gitea      linux/amd64  verified               -      -       -
gitea      linux/arm64  not requested by spec  -      -       -

backend linux/arm64 failed at build: /bin/sh -c make
  backend linux/arm64: exited 2
  output:
    make: *** [all] Error 2

2/3 cells verified, 1 not
`, b.String())
}

// TestTableSkippedReason: a skipped cell's reason is in the table, not only in JSON.
func TestTableSkippedReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		cell Cell
		want string
	}{
		{"dependency failed", Cell{Component: "singleuser", Platform: "linux/arm64", Status: Skipped, Error: "dependency jupyterhub: staging jupyterhub: connection refused"},
			"\nsingleuser linux/arm64 skipped\n  dependency jupyterhub: staging jupyterhub: connection refused\n"},
		{"fail-fast", Cell{Component: "gitea", Platform: "linux/amd64", Status: Skipped, Error: "not started: run cancelled"},
			"\ngitea linux/amd64 skipped\n  not started: run cancelled\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{}
			r.Set(tc.cell)
			var b bytes.Buffer
			require.NoError(t, r.Table(&b))
			assert.Contains(t, b.String(), tc.want)
		})
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, sample().JSON(&b))
	var back Report
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	assert.Equal(t, sample().Cells, back.Cells)
}

func TestTail(t *testing.T) {
	assert.Equal(t, "c\nd", Tail("a\nb\nc\nd\n", 2))
	assert.Equal(t, "a", Tail("a", 5))
}

func TestLintInReport(t *testing.T) {
	r := sample()
	r.Lint = []lint.Finding{{File: "components/web/Dockerfile", Line: 3, Stage: "0", Rule: "unpinned-base", Severity: lint.Warning, Why: "w", Fix: "f"}}
	var b strings.Builder
	require.NoError(t, r.Table(&b))
	assert.Contains(t, b.String(), "lint: 1 finding(s)\n  components/web/Dockerfile:3: warning [unpinned-base] stage 0: w; fix: f\n")
	b.Reset()
	require.NoError(t, r.JSON(&b))
	assert.Contains(t, b.String(), `"rule": "unpinned-base"`)
	assert.Contains(t, b.String(), `"severity": "warning"`)
}
