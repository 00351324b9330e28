package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// TestOutputsWrite: each path asked for gets its form of the report, what is
// not asked for is not written, and in GitHub Actions the summary is
// appended (never truncated) and the annotations go to stdout.
func TestOutputsWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		github  bool
		summary bool // GITHUB_STEP_SUMMARY set
	}{
		{"files only", false, false},
		{"in GitHub Actions", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			summary := filepath.Join(dir, "summary.md")
			require.NoError(t, os.WriteFile(summary, []byte("earlier step\n"), 0o644))
			t.Setenv("GITHUB_ACTIONS", map[bool]string{true: "true"}[tc.github])
			t.Setenv("GITHUB_STEP_SUMMARY", map[bool]string{true: summary}[tc.summary])
			o := Outputs{JSON: filepath.Join(dir, "r.json"), JUnit: filepath.Join(dir, "junit.xml"), HTML: filepath.Join(dir, "r.html")}
			var stdout bytes.Buffer
			r := ciSample()
			require.NoError(t, o.Write(r, &stdout))

			data, err := os.ReadFile(o.JSON)
			require.NoError(t, err)
			back, err := ReadReport(data, "r.json")
			require.NoError(t, err, "the JSON reads back as a report")
			assert.Len(t, back.Cells, len(r.Cells))
			junitXML, err := os.ReadFile(o.JUnit)
			require.NoError(t, err)
			assert.Contains(t, string(junitXML), "<testsuite")
			page, err := os.ReadFile(o.HTML)
			require.NoError(t, err)
			assert.Contains(t, string(page), "armfails")
			assert.NoFileExists(t, filepath.Join(dir, "results.json"), "not asked for")

			text, err := os.ReadFile(summary)
			require.NoError(t, err)
			if tc.summary {
				assert.True(t, strings.HasPrefix(string(text), "earlier step\n"), "appended, not truncated")
				assert.Greater(t, len(text), len("earlier step\n"))
			} else {
				assert.Equal(t, "earlier step\n", string(text))
			}
			if tc.github {
				assert.Contains(t, stdout.String(), "::error")
			} else {
				assert.Empty(t, stdout.String())
			}
		})
	}
}

func TestOutputsWriteFails(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	err := Outputs{JSON: filepath.Join(t.TempDir(), "missing", "r.json")}.Write(ciSample(), &bytes.Buffer{})
	require.Error(t, err)
	assert.ErrorContains(t, err, "missing")
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	var b bytes.Buffer
	require.NoError(t, ciSample().JSON(&b))
	require.NoError(t, os.WriteFile(good, b.Bytes(), 0o644))
	notReport := filepath.Join(dir, "results.json")
	require.NoError(t, os.WriteFile(notReport, []byte(`{"backend": {}}`), 0o644))
	for _, tc := range []struct{ name, path, want string }{
		{"a report", good, ""},
		{"missing", filepath.Join(dir, "nope.json"), "--previous " + filepath.Join(dir, "nope.json") + ": "},
		{"not a report", notReport, "not a matrix report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadFile(tc.path, "--previous")
			if tc.want == "" {
				require.NoError(t, err)
				assert.Len(t, r.Cells, len(ciSample().Cells))
				return
			}
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "--report", "names the fix")
			assert.Equal(t, class.BadInput, class.Of(err))
		})
	}
}
