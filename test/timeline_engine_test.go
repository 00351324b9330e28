//go:build engine

package system_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// readReport reads a JSON report a run wrote with --report.
func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := report.ReadReport(b, path)
	require.NoError(t, err)
	return r
}

// xhtml parses page strictly (XML) and returns the data-cell of each
// element with class bar and the page's text.
func xhtml(t *testing.T, page []byte) (bars []string, text string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return bars, b.String()
		}
		require.NoError(t, err, "the page is well-formed XHTML")
		switch el := tok.(type) {
		case xml.StartElement:
			var class, cell string
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "class":
					class = a.Value
				case "data-cell":
					cell = a.Value
				}
			}
			if strings.HasPrefix(class, "bar ") {
				bars = append(bars, cell)
			}
		case xml.CharData:
			b.Write(el)
		}
	}
}

// TestTimelineBrowserEngineRegistry: a real build-all of the fixtures with a
// failed, a skipped and a dependent cell writes a report whose page (from
// --html, and again from matrix render) a headless Chromium, its network
// cut off, loads from a file:// URL: one bar per cell in its DOM, the failed
// cell's output tail, no request outside the file, and a screenshot that
// is not blank (kept in reports/test/, not in git).
func TestTimelineBrowserEngineRegistry(t *testing.T) {
	enginetest.Registry(t)
	chromium := browser(t)
	bin := buildCLI(t)
	out := t.TempDir()
	jsonPath, page := filepath.Join(out, "report.json"), filepath.Join(out, "report.html")
	code, log := cli(t, bin, "build-all", "--components-dir", enginetest.TimelineFixtures(t), "--platforms", "linux/amd64,linux/arm64",
		"--sizes", "--progress", "plain", "--report", jsonPath, "--html", page)
	require.Equal(t, 1, code, log)

	r := readReport(t, jsonPath)
	require.Len(t, r.Cells, 10)
	assert.ElementsMatch(t, []report.Edge{{From: "base", To: "child", Kind: plan.EdgeDependency}, {From: "armfails", To: "armchild", Kind: plan.EdgeDependency}}, r.Edges)
	assert.NotEmpty(t, r.Engines)
	assert.Positive(t, r.Jobs)
	assert.NotEmpty(t, r.Matrix)
	assert.False(t, r.Started.IsZero())
	for _, c := range r.Cells {
		switch c.Status {
		case report.Verified:
			assert.True(t, c.Ended.After(c.Started), "%s %s ran", c.Component, c.Platform)
			var steps []string
			for _, s := range c.Steps {
				steps = append(steps, s.Name)
			}
			assert.Equal(t, []string{report.StepBuild, report.StepVerify, report.StepSize}, steps, "%s %s", c.Component, c.Platform)
			assert.Equal(t, "fixture-"+c.Component, c.Image)
		case report.Skipped:
			assert.Equal(t, "armchild", c.Component)
			assert.True(t, c.Started.IsZero(), "a skipped cell never ran")
		}
	}
	child, _ := r.Get("child", "linux/arm64")
	for _, pl := range r.Platforms {
		base, _ := r.Get("base", pl)
		assert.False(t, child.Started.Before(base.Ended), "child waits for base on every platform")
	}
	tl := r.Timeline(nil)
	require.NotEmpty(t, tl.Critical)
	assert.LessOrEqual(t, tl.CriticalSeconds, tl.Wall)

	b, err := os.ReadFile(page)
	require.NoError(t, err)
	bars, text := xhtml(t, b)
	assert.Len(t, bars, len(r.Cells), "one bar per cell")
	assert.Contains(t, text, "no arm64 support in this step")

	// The same page again from the JSON report.
	again := filepath.Join(out, "again.html")
	code, log = cli(t, bin, "render", "--html", again, "--previous", jsonPath, jsonPath)
	require.Equal(t, 0, code, log)
	b, err = os.ReadFile(again)
	require.NoError(t, err)
	rebars, retext := xhtml(t, b)
	assert.Equal(t, bars, rebars)
	assert.Contains(t, retext, "no cell got slower or was rebuilt where it was reused")

	dom, requests := load(t, chromium, page)
	assert.Equal(t, len(r.Cells), strings.Count(dom, `<g class="bar `), "one bar per cell in the browser's DOM")
	for _, c := range r.Cells {
		assert.Contains(t, dom, fmt.Sprintf(`data-cell="%s %s"`, c.Component, c.Platform))
	}
	assert.Contains(t, dom, "no arm64 support in this step", "the failed cell's output tail")
	assert.Empty(t, requests, "the page asks for nothing outside its file")

	// The net log check can fail: a page that asks for an image is caught.
	control := filepath.Join(out, "control.html")
	require.NoError(t, os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://192.0.2.1/x.png"/></body></html>`), 0o644))
	_, requests = load(t, chromium, control)
	assert.Equal(t, []string{"http://192.0.2.1/x.png"}, requests)

	shot := screenshot(t, chromium, page)
	assert.Greater(t, shot, 0.02, "the screenshot is not blank: %.1f%% of its pixels are not white", shot*100)
}

// TestTimelinePublishEngineRegistry: matrix publish --html twice over the
// same fixtures: the second run finds every index in place, its cells are
// reused, and the page shows the publish phase and the digests; rendering
// the first run against the second marks its cells rebuilt.
func TestTimelinePublishEngineRegistry(t *testing.T) {
	repo := enginetest.Registry(t) + "/matrix-test-" + enginetest.Unique("timeline")
	bin := buildCLI(t)
	dir, out := enginetest.DependencyFixtures(t), t.TempDir()
	for _, run := range []string{"first", "second"} {
		code, log := cli(t, bin, "publish", "--components-dir", dir, "--platforms", "linux/amd64,linux/arm64", "--registry", repo,
			"--tags", "v1", "--no-attest", "--progress", "quiet", "--report", filepath.Join(out, run+".json"), "--html", filepath.Join(out, run+".html"))
		require.Equal(t, 0, code, log)
	}
	first, second := readReport(t, filepath.Join(out, "first.json")), readReport(t, filepath.Join(out, "second.json"))
	for _, c := range first.Cells {
		assert.False(t, c.Reused, "the first publish writes %s %s", c.Component, c.Platform)
	}
	for _, c := range second.Cells {
		assert.True(t, c.Reused, "the second publish finds %s %s in place", c.Component, c.Platform)
	}
	var phases []string
	for _, p := range second.Phases {
		phases = append(phases, strings.TrimSpace(p.Name+" "+p.Component))
	}
	assert.ElementsMatch(t, []string{"stage base", "publish"}, phases)

	b, err := os.ReadFile(filepath.Join(out, "second.html"))
	require.NoError(t, err)
	bars, text := xhtml(t, b)
	assert.Len(t, bars, 4)
	for _, ix := range second.Indexes {
		assert.Contains(t, text, ix.Ref+"@"+ix.Digest)
	}
	assert.Equal(t, 4, strings.Count(string(b), `<g class="bar reused`), "every cell reused")

	page := filepath.Join(out, "diff.html")
	code, log := cli(t, bin, "render", "--html", page, "--previous", filepath.Join(out, "second.json"), filepath.Join(out, "first.json"))
	require.Equal(t, 0, code, log)
	b, err = os.ReadFile(page)
	require.NoError(t, err)
	_, text = xhtml(t, b)
	for _, c := range first.Cells {
		assert.Contains(t, text, "rebuilt where it was reused: "+c.Component+" "+c.Platform)
	}
}

// browser is Debian's Chromium (ci/browser.sh installs it); under CI=true
// a missing one fails the test.
func browser(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		msg := "no chromium on PATH: install it with ci/browser.sh (Debian's chromium package)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// headless runs chromium on a file:// URL with its network cut off (a
// network namespace of its own) and no background traffic of its own.
func headless(t *testing.T, chromium, page string, args ...string) []byte {
	t.Helper()
	argv := append([]string{"-n", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--disable-features=NetworkTimeServiceQuerying", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.Command("unshare", append(argv, "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	return out
}

// load returns the DOM chromium built from page and the URLs the page
// asked for over the network, from the browser's net log. The browser's
// own requests (its updater) carry no origin; the page's carry file://.
func load(t *testing.T, chromium, page string) (dom string, requests []string) {
	t.Helper()
	netlog := filepath.Join(t.TempDir(), "net.json")
	out := headless(t, chromium, page, "--log-net-log="+netlog, "--net-log-capture-mode=Everything", "--dump-dom")
	b, err := os.ReadFile(netlog)
	require.NoError(t, err)
	var log struct {
		Constants struct {
			Types map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(b, &log), "the net log")
	start, ok := log.Constants.Types["URL_REQUEST_START_JOB"]
	require.True(t, ok, "the net log names its event types")
	for _, e := range log.Events {
		nik, _ := e.Params["network_isolation_key"].(string)
		if url, _ := e.Params["url"].(string); e.Type == start && strings.Contains(nik, "file://") {
			requests = append(requests, url)
		}
	}
	return string(out), requests
}

// screenshot takes a screenshot of page, keeps it in the test reports, and
// returns the share of its pixels that are not white.
func screenshot(t *testing.T, chromium, page string) float64 {
	t.Helper()
	dir := filepath.Join(enginetest.Root(), cmp.Or(os.Getenv("MATRIX_TEST_OUT"), "reports/test"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	shot := filepath.Join(dir, "timeline.png")
	headless(t, chromium, page, "--screenshot="+shot, "--window-size=1300,900", "--hide-scrollbars")
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bounds, ink := img.Bounds(), 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
				ink++
			}
		}
	}
	t.Logf("screenshot %s: %dx%d, %.1f%% of its pixels not white", shot, bounds.Dx(), bounds.Dy(), 100*float64(ink)/float64(bounds.Dx()*bounds.Dy()))
	return float64(ink) / float64(bounds.Dx()*bounds.Dy())
}

// TestDaggerCallRenderEngine: the module's report keeps report.html and a
// summary.md with the gantt; render draws the page again from report.json,
// and input that is not a report exits 2 through dagger call too, naming
// the flag and the fix, and writes nothing.
func TestDaggerCallRenderEngine(t *testing.T) {
	ctx := enginetest.Context(t)
	dir := filepath.Join(t.TempDir(), "reports")
	out, code := dagger(t, ctx, "call", "--components-dir", enginetest.TimelineFixtures(t), "report", "--platforms", "linux/amd64,linux/arm64",
		"export", "--path", dir)
	require.Equal(t, 0, code, out)
	r := readReport(t, filepath.Join(dir, "report.json"))
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	bars, text := xhtml(t, b)
	assert.Len(t, bars, len(r.Cells))
	assert.Contains(t, text, "no arm64 support in this step")
	summary, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(summary), "```mermaid\ngantt\n")

	page := filepath.Join(t.TempDir(), "page.html")
	out, code = dagger(t, ctx, "call", "render", "--report", filepath.Join(dir, "report.json"), "--previous", filepath.Join(dir, "report.json"),
		"export", "--path", page)
	require.Equal(t, 0, code, out)
	b, err = os.ReadFile(page)
	require.NoError(t, err)
	rebars, _ := xhtml(t, b)
	assert.Equal(t, bars, rebars)

	// One bad input (each dagger call costs a module load); the CLI's unit
	// tests cover --previous too.
	bad := filepath.Join(t.TempDir(), "bad.html")
	out, code = dagger(t, ctx, "call", "render", "--report", filepath.Join(dir, "results.json"), "export", "--path", bad)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--report: not a matrix report")
	assert.Contains(t, out, "give the JSON a run wrote with --report", "the fix")
	assert.NoFileExists(t, bad)
}
