package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/plan"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// timed is a cell that ran from start to end, seconds after t0.
func timed(comp, pl, status string, start, end float64, steps ...Step) Cell {
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	return Cell{Component: comp, Platform: pl, Status: status, Image: "fixture-" + comp, Started: at(start), Ended: at(end),
		Seconds: end - start, Steps: steps}
}

// timelineSample: jupyterhub's arm64 cell is long and singleuser waits on
// it; armfails fails on arm64 and its dependent is skipped.
func timelineSample() *Report {
	r := &Report{Platforms: []string{"linux/amd64", "linux/arm64"}, Started: t0, Seconds: 1000, Jobs: 2, Matrix: "(devel)",
		Revision: strings.Repeat("ab", 20), Engines: []EngineInfo{{Name: "tcp://robot:hunter2@engine:1234", Platform: "linux/amd64"}},
		Edges:  []Edge{{From: "jupyterhub", To: "singleuser", Kind: plan.EdgeDependency}, {From: "armfails", To: "armchild", Kind: plan.EdgeDependency}},
		Phases: []Phase{{Name: "stage", Component: "jupyterhub", Started: t0.Add(670 * time.Second), Ended: t0.Add(680 * time.Second)}}}
	r.Set(timed("jupyterhub", "linux/arm64", Verified, 5, 670, Step{StepBuild, 600}, Step{StepVerify, 60}))
	r.Set(timed("jupyterhub", "linux/amd64", Verified, 0, 200, Step{StepBuild, 190}, Step{StepVerify, 10}))
	r.Set(timed("singleuser", "linux/amd64", Verified, 680, 780))
	r.Set(timed("singleuser", "linux/arm64", Verified, 681, 975))
	r.Set(timed("armfails", "linux/amd64", Verified, 200, 230))
	c := timed("armfails", "linux/arm64", Failed, 230, 260)
	c.Step, c.Command, c.Error, c.Output = "build", "/bin/sh -c exit 42", "armfails linux/arm64: exit code 42", "no arm64 <support> & more"
	r.Set(c)
	r.Set(Cell{Component: "armchild", Platform: "linux/amd64", Status: Skipped, Error: "dependency armfails: did not build"})
	r.Set(Cell{Component: "armchild", Platform: "linux/arm64", Status: Skipped, Error: "dependency armfails: did not build"})
	r.Set(Cell{Component: "x86", Platform: "linux/arm64", Status: NotRequested})
	return r
}

func TestTimelineLayout(t *testing.T) {
	tl := timelineSample().Timeline(nil)
	require.True(t, tl.Timed)
	var keys []string
	for _, b := range tl.Bars {
		keys = append(keys, b.Key)
	}
	assert.Equal(t, []string{"jupyterhub linux/amd64", "jupyterhub linux/arm64", "armfails linux/amd64", "armfails linux/arm64",
		"singleuser linux/amd64", "singleuser linux/arm64", "armchild linux/amd64", "armchild linux/arm64", "x86 linux/arm64"}, keys,
		"the cells that ran in start order, then the others as reported")
	for i := 1; i < 6; i++ {
		assert.LessOrEqual(t, tl.Bars[i-1].Start, tl.Bars[i].Start)
	}
	assert.InDelta(t, 1000.0, tl.Wall, 1e-9)
	assert.Equal(t, []string{"jupyterhub linux/arm64", "singleuser linux/arm64"}, tl.Critical)
	assert.InDelta(t, 665+294, tl.CriticalSeconds, 1e-6)
	outcomes := map[string]string{}
	for _, b := range tl.Bars {
		outcomes[b.Key] = b.Outcome
	}
	assert.Equal(t, Failed, outcomes["armfails linux/arm64"])
	assert.Equal(t, Skipped, outcomes["armchild linux/amd64"])
	assert.Equal(t, OutcomeMissing, outcomes["x86 linux/arm64"])
}

func TestCriticalPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cells []Cell
		edges []Edge
		want  []string
		secs  float64
	}{
		{"no edges: the longest cell", []Cell{timed("a", "p", Verified, 0, 10), timed("b", "p", Verified, 0, 30)}, nil, []string{"b p"}, 30},
		{"a chain beats a long cell", []Cell{timed("a", "p", Verified, 0, 20), timed("b", "p", Verified, 20, 40), timed("c", "p", Verified, 0, 35)},
			[]Edge{{From: "a", To: "b"}}, []string{"a p", "b p"}, 40},
		{"the dependency that took longest", []Cell{timed("a", "amd", Verified, 0, 5), timed("a", "arm", Verified, 0, 50), timed("b", "amd", Verified, 55, 60)},
			[]Edge{{From: "a", To: "b"}}, []string{"a arm", "b amd"}, 55},
		{"three deep", []Cell{timed("a", "p", Verified, 0, 1), timed("b", "p", Verified, 1, 2), timed("c", "p", Verified, 2, 3), timed("d", "p", Verified, 0, 2.5)},
			[]Edge{{From: "a", To: "b"}, {From: "b", To: "c"}}, []string{"a p", "b p", "c p"}, 3},
		{"no times: no path", []Cell{{Component: "a", Platform: "p", Status: Verified, Seconds: 3}}, nil, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Edges: tc.edges}
			for _, c := range tc.cells {
				r.Set(c)
			}
			tl := r.Timeline(nil)
			assert.Equal(t, tc.want, tl.Critical)
			assert.InDelta(t, tc.secs, tl.CriticalSeconds, 1e-6)
			n := 0
			for _, b := range tl.Bars {
				if b.Critical {
					n++
				}
			}
			assert.Equal(t, len(tc.want), n, "each cell of the path is marked")
		})
	}
}

func TestCriticalPathCycleEnds(t *testing.T) {
	r := &Report{Edges: []Edge{{From: "a", To: "b"}, {From: "b", To: "a"}}} // plans refuse cycles; a hand-made report may not
	r.Set(timed("a", "p", Verified, 0, 1))
	r.Set(timed("b", "p", Verified, 1, 3))
	tl := r.Timeline(nil)
	assert.ElementsMatch(t, []string{"a p", "b p"}, tl.Critical)
	assert.InDelta(t, 3, tl.CriticalSeconds, 1e-6)
}

func TestTimelineAgainstPrevious(t *testing.T) {
	prev := &Report{}
	prev.Set(Cell{Component: "a", Platform: "p", Status: Verified, Seconds: 10, Reused: true})
	prev.Set(Cell{Component: "b", Platform: "p", Status: Verified, Seconds: 10})
	prev.Set(Cell{Component: "c", Platform: "p", Status: Verified, Seconds: 10, Reused: true})
	prev.Set(Cell{Component: "d", Platform: "p", Status: Verified, Seconds: 10})
	cur := &Report{}
	cur.Set(timed("a", "p", Verified, 0, 10.5))                                                // rebuilt, not slower
	cur.Set(timed("b", "p", Verified, 0, 20))                                                  // slower
	cur.Set(func() Cell { c := timed("c", "p", Verified, 0, 1); c.Reused = true; return c }()) // reused again
	cur.Set(timed("d", "p", Verified, 0, 11))                                                  // jitter
	tl := cur.Timeline(prev)
	assert.Equal(t, []string{"b p"}, tl.Slower)
	assert.Equal(t, []string{"a p"}, tl.Rebuilt)
	for _, b := range tl.Bars {
		assert.InDelta(t, 10.0, b.Previous, 1e-9, b.Key)
	}
}

// parseXHTML parses the page strictly as XML and returns the elements
// whose class attribute holds class, with their attributes and text.
func parseXHTML(t *testing.T, page []byte) (classes map[string][]map[string]string, text string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	classes = map[string][]map[string]string{}
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the page is well-formed XHTML")
		switch el := tok.(type) {
		case xml.StartElement:
			attrs := map[string]string{"element": el.Name.Local}
			for _, a := range el.Attr {
				attrs[a.Name.Local] = a.Value
			}
			for _, c := range strings.Fields(attrs["class"]) {
				classes[c] = append(classes[c], attrs)
			}
		case xml.CharData:
			b.Write(el)
		}
	}
	return classes, b.String()
}

func elements(attrs []map[string]string) []string {
	var out []string
	for _, a := range attrs {
		out = append(out, a["element"])
	}
	return out
}

func TestHTMLPage(t *testing.T) {
	r := timelineSample()
	var b bytes.Buffer
	require.NoError(t, r.HTML(&b, nil))
	classes, text := parseXHTML(t, b.Bytes())
	assert.Len(t, classes["bar"], len(r.Cells), "one bar per cell")
	assert.Len(t, classes["critical"], 2)
	assert.Equal(t, []string{"span", "g", "td"}, elements(classes["failed"]), "the legend, the failed cell's bar and its table cell")
	assert.Len(t, classes["phase"], 2, "the stage phase, and its legend")
	assert.Len(t, classes["edge"], 2, "singleuser waits on jupyterhub on both platforms; armchild never ran")
	assert.Len(t, classes["seg"], 4, "build and verify of the two jupyterhub cells")
	assert.Contains(t, text, "no arm64 <support> & more", "the output tail, escaped and read back")
	assert.Contains(t, text, "/bin/sh -c exit 42")
	assert.Contains(t, text, "singleuser waits for jupyterhub (depends_on)")
	assert.Contains(t, text, "Critical path: 959.0s of 1000.0s wall time: jupyterhub linux/arm64 → singleuser linux/arm64")
	assert.Contains(t, text, "fixture-jupyterhub")
	assert.Contains(t, text, strings.Repeat("ab", 20), "the revision among the inputs")
	assert.NotContains(t, b.String(), "hunter2", "an engine's password never reaches the page")
	assert.Equal(t, len(r.Cells)+1, strings.Count(text, "tcp://robot:xxxxx@engine:1234"), "the one engine, in each cell's row and the inputs")
	assert.NotRegexp(t, `(?i)<script|<link|@import|url\(|src=`, b.String(), "nothing outside the page")
}

func TestHTMLWithoutTimes(t *testing.T) {
	old := sample() // a report of before: no cell times
	var b bytes.Buffer
	require.NoError(t, old.HTML(&b, nil))
	classes, text := parseXHTML(t, b.Bytes())
	assert.Empty(t, classes["bar"], "no invented timeline")
	assert.Contains(t, text, "the table only, no timeline")
	assert.Equal(t, []string{"td"}, elements(classes["failed"]), "the failed cell in the table")
	assert.Empty(t, old.Mermaid(MermaidBudget))
}

func TestHTMLAgainstPrevious(t *testing.T) {
	prev := timelineSample()
	cur := timelineSample()
	c, _ := cur.Get("singleuser", "linux/amd64")
	c.Ended = c.Ended.Add(200 * time.Second)
	c.Seconds += 200
	cur.Set(c)
	var b bytes.Buffer
	require.NoError(t, cur.HTML(&b, prev))
	classes, text := parseXHTML(t, b.Bytes())
	assert.Contains(t, text, "slower: singleuser linux/amd64")
	require.Len(t, classes["changed"], 1)
	assert.Equal(t, "singleuser linux/amd64", classes["changed"][0]["data-cell"])
}

func TestMermaid(t *testing.T) {
	for _, tc := range []struct {
		name       string
		components int
		platforms  int
		perCell    bool
	}{
		{"24 cells, one task each", 12, 2, true},
		{"3,000 cells, grouped", 1500, 2, false},
		{"3,000 cells of one platform, grouped", 3000, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Started: t0}
			for i := range tc.components {
				for p := range tc.platforms {
					r.Set(timed(fmt.Sprintf("component-%04d", i), fmt.Sprintf("linux/arch%d", p), Verified, float64(i+p*tc.components), float64(i+p*tc.components+10)))
				}
				if i > 0 {
					r.Edges = append(r.Edges, Edge{From: fmt.Sprintf("component-%04d", i-1), To: fmt.Sprintf("component-%04d", i)})
				}
			}
			g := r.Mermaid(MermaidBudget)
			t.Logf("%d cells: %d characters", tc.components*tc.platforms, len(g))
			assert.LessOrEqual(t, len(g), MermaidBudget)
			assert.True(t, strings.HasPrefix(g, "```mermaid\ngantt\n"))
			assert.True(t, strings.HasSuffix(g, "```\n"), "closed, never cut")
			tasks := regexp.MustCompile(`(?m)^  (.+) :(?:[a-z, ]*)(\d+), (\d+)s$`).FindAllStringSubmatch(g, -1)
			require.NotEmpty(t, tasks)
			if tc.perCell {
				assert.Len(t, tasks, tc.components*tc.platforms)
				sections := regexp.MustCompile(`(?m)^  section (.+)$`).FindAllStringSubmatch(g, -1)
				assert.Len(t, sections, tc.components, "one section per component, each once")
				return
			}
			cells := 0
			for _, m := range tasks {
				var n int
				_, err := fmt.Sscanf(m[1][strings.LastIndex(m[1], ", ")+2:], "%d cells)", &n)
				require.NoError(t, err, m[1])
				cells += n
			}
			assert.Equal(t, tc.components*tc.platforms, cells, "every cell is in a group")
		})
	}
}

func TestMarkdownHasGantt(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, timelineSample().Markdown(&b, SummaryLimit))
	assert.Contains(t, b.String(), "```mermaid\ngantt\n")
	assert.Contains(t, b.String(), "  linux/arm64 failed :crit, ")
	assert.Contains(t, b.String(), "  linux/arm64 verified :done, active, ")
	gantt, _, _ := strings.Cut(b.String(), "\n```\n\n")
	assert.NotContains(t, gantt, "armchild", "a skipped cell has no task")
	assert.Contains(t, gantt, "section singleuser")
}

func TestReadReport(t *testing.T) {
	var good bytes.Buffer
	require.NoError(t, timelineSample().JSON(&good))
	results, err := json.Marshal(timelineSample().Results())
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		data string
		err  string
	}{
		{"a report", good.String(), ""},
		{"a report of before the timeline", `{"platforms":["linux/amd64"],"cells":[{"component":"a","platform":"linux/amd64","status":"verified","seconds":3}],"seconds":3}`, ""},
		{"not JSON", "<html>", "not a matrix report"},
		{"results.json", string(results), `unknown field "ok"`},
		{"no cells", `{"platforms":[]}`, "no cells"},
		{"two values", good.String() + good.String(), "more than one JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadReport([]byte(tc.data), "in.json")
			if tc.err == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, r.Cells)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			assert.Contains(t, err.Error(), "in.json: not a matrix report")
			assert.Contains(t, err.Error(), "--report", "the error names the fix")
		})
	}
	r, err := ReadReport(good.Bytes(), "in.json")
	require.NoError(t, err)
	assert.Equal(t, timelineSample().Timeline(nil).Critical, r.Timeline(nil).Critical, "a report read back lays out the same")
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://robot:hunter2@engine:1234": "tcp://robot:xxxxx@engine:1234",
		"ssh://robot@arm-host":            "ssh://robot@arm-host",
		"unix:///run/dagger/engine.sock":  "unix:///run/dagger/engine.sock",
		"default":                         "default",
	} {
		assert.Equal(t, want, Redact(in), in)
	}
}

// BenchmarkTimeline3000: the page and the gantt of a 3,000-cell run, each
// component built FROM the one before (the longest critical path).
func BenchmarkTimeline3000(b *testing.B) {
	r := &Report{Started: t0}
	for i := range 1500 {
		for p := range 2 {
			r.Set(timed(fmt.Sprintf("c%04d", i), fmt.Sprintf("linux/a%d", p), Verified, float64(i), float64(i+1), Step{StepBuild, 0.5}))
		}
		if i > 0 {
			r.Edges = append(r.Edges, Edge{From: fmt.Sprintf("c%04d", i-1), To: fmt.Sprintf("c%04d", i)})
		}
	}
	for b.Loop() {
		if err := r.HTML(io.Discard, nil); err != nil {
			b.Fatal(err)
		}
		_ = r.Mermaid(MermaidBudget)
	}
}
