package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// The report where CI systems show results: JUnit for GitLab's test
// reports, Markdown for GitHub's step summary, workflow commands for
// GitHub's annotations.

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"` // a reused cell: whence, and its key
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit writes one test case per cell: a failure carries its step, command
// and output tail; a skip carries its reason.
func (r *Report) JUnit(w io.Writer) error {
	r.mu.Lock()
	cells := append([]Cell(nil), r.Cells...)
	seconds := r.Seconds
	r.mu.Unlock()
	s := junitSuite{Name: "matrix", Tests: len(cells), Time: seconds}
	for _, c := range cells {
		tc := junitCase{Classname: c.Component, Name: c.Component + " " + c.Platform, Time: c.Seconds}
		if c.From != "" {
			tc.SystemOut = fmt.Sprintf("reused %s (key %s)", c.From, c.Key)
		}
		switch c.Status {
		case Failed:
			s.Failures++
			text := c.Error
			if c.Command != "" {
				text += "\ncommand: " + c.Command
			}
			if c.Output != "" {
				text += "\noutput:\n" + c.Output
			}
			tc.Failure = &junitMessage{Message: fmt.Sprintf("failed at %s: %s", c.Step, c.Error), Type: c.Step, Text: text}
		case Skipped, NotRequested:
			s.Skipped++
			why := c.Error
			if why == "" {
				why = c.Status
			}
			tc.Skipped = &junitMessage{Message: why}
		}
		s.Cases = append(s.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// SummaryLimit is GitHub's limit on one step summary, 1 MiB.
const SummaryLimit = 1 << 20

// Markdown writes the report as a GitHub step summary: a table of cells,
// the failures in detail, the published indexes, trimmed under limit bytes.
// A report with cell times opens with the timeline as a Mermaid gantt.
func (r *Report) Markdown(w io.Writer, limit int) error {
	r.mu.Lock()
	cells := append([]Cell(nil), r.Cells...)
	indexes := append([]Index(nil), r.Indexes...)
	r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "### matrix: %s\n\n", r.Summary())
	if g := r.Mermaid(MermaidBudget); g != "" {
		b.WriteString(g + "\n")
	}
	b.WriteString("| component | platform | status | step | time |\n|---|---|---|---|---|\n")
	for _, c := range cells {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Component, c.Platform, c.shown(), dash(c.Step), seconds(c.Seconds))
	}
	for _, c := range cells {
		if c.Status != Failed && c.Error == "" {
			continue
		}
		fmt.Fprintf(&b, "\n**%s %s %s** %s\n", c.Component, c.Platform, c.Status, md(c.Error))
		if c.Output != "" {
			fmt.Fprintf(&b, "\n```\n%s\n```\n", strings.ReplaceAll(c.Output, "```", "'''"))
		}
	}
	if len(indexes) > 0 {
		b.WriteString("\n| index | digest | tags |\n|---|---|---|\n")
		for _, i := range indexes {
			fmt.Fprintf(&b, "| %s | `%s` | %s |\n", i.Ref, i.Digest, strings.Join(i.Tags, ", "))
		}
	}
	out := b.String()
	if len(out) > limit {
		const cut = "\n\n… trimmed to fit the step summary; the full report is the job's JSON report.\n"
		out = out[:limit-len(cut)] + cut
	}
	_, err := io.WriteString(w, out)
	return err
}

func md(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

// MaxAnnotations bounds the ::error lines of one run, as GitHub shows only
// ten per step.
const MaxAnnotations = 10

// Annotations writes a GitHub `::error` workflow command per failed cell, at
// most MaxAnnotations.
func (r *Report) Annotations(w io.Writer) error {
	var failed []Cell
	for _, c := range r.Failed() {
		if c.Status == Failed {
			failed = append(failed, c)
		}
	}
	for n, c := range failed {
		if n == MaxAnnotations {
			_, err := fmt.Fprintf(w, "::error title=matrix::%d more failed cells; see the report\n", len(failed)-n)
			return err
		}
		msg := fmt.Sprintf("failed at %s: %s", c.Step, c.Error)
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", escapeProperty(c.Component+" "+c.Platform), escapeData(msg)); err != nil {
			return err
		}
	}
	return nil
}

// escapeData and escapeProperty follow GitHub's workflow command encoding.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Results is what later jobs consume, per component: the index digest,
// each platform's digest, size and time, and the tags. It is defined once:
// results.json.
type Results struct {
	Version    string            `json:"version,omitempty"`
	Revision   string            `json:"revision,omitempty"`  // the source revision built
	Created    string            `json:"created,omitempty"`   // the source's time (SOURCE_DATE_EPOCH or the commit's)
	Platforms  []string          `json:"platforms,omitempty"` // the run's platforms
	OK         bool              `json:"ok"`
	Components []ComponentResult `json:"components"`
}

// ComponentResult is one component in results.json.
type ComponentResult struct {
	Component string           `json:"component"`
	Ref       string           `json:"ref,omitempty"`    // published repository
	Digest    string           `json:"digest,omitempty"` // published index
	Tags      []string         `json:"tags,omitempty"`
	Platforms []PlatformResult `json:"platforms"`
}

// PlatformResult is one cell of a component in results.json.
type PlatformResult struct {
	Platform  string  `json:"platform"`
	Status    string  `json:"status"`
	Digest    string  `json:"digest,omitempty"`
	SizeBytes int64   `json:"size_bytes,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`
	Engine    string  `json:"engine,omitempty"`          // the engine that built it
	Native    string  `json:"engine_platform,omitempty"` // that engine's own platform
	Key       string  `json:"key,omitempty"`             // the cell's key (package cellkey)
	From      string  `json:"from,omitempty"`            // reused: the repository@digest it came from
}

// Results gathers the report per component, in the order cells were planned.
func (r *Report) Results() Results {
	v, n := r.Counts() // before the lock: Counts takes it too
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Results{Version: r.Version, Revision: r.Revision, Created: r.Created, Platforms: r.Platforms}
	at := map[string]int{}
	for _, c := range r.Cells {
		i, ok := at[c.Component]
		if !ok {
			i = len(out.Components)
			at[c.Component] = i
			out.Components = append(out.Components, ComponentResult{Component: c.Component})
		}
		if c.Ref != "" {
			out.Components[i].Ref = c.Ref
		}
		out.Components[i].Platforms = append(out.Components[i].Platforms, PlatformResult{Platform: c.Platform, Status: c.Status,
			Digest: c.Digest, SizeBytes: c.SizeBytes, Seconds: c.Seconds, Engine: c.Engine, Native: c.Native, Key: c.Key, From: c.From})
	}
	for _, ix := range r.Indexes {
		i, ok := at[ix.Component]
		if !ok {
			continue
		}
		cr := &out.Components[i]
		cr.Ref, cr.Digest, cr.Tags = ix.Ref, ix.Digest, ix.Tags
		for _, pd := range ix.Platforms {
			for j := range cr.Platforms {
				if cr.Platforms[j].Platform == pd.Platform {
					cr.Platforms[j].Digest = pd.Digest
				}
			}
		}
	}
	out.OK = v == n && n > 0
	return out
}

// ReadResults reads a results.json, strictly: a field it does not know is
// an error, so a file of another kind is not taken for one.
func ReadResults(path string) (Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Results{}, class.BadInput.Wrap(err)
	}
	return ParseResults(path, data)
}

// ParseResults decodes a results file's data; name names it in errors.
func ParseResults(name string, data []byte) (Results, error) {
	var out Results
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return out, class.BadInput.Errorf("%s: not a results file (%v); give the results.json of a build-all --push-by-digest", name, err)
	}
	return out, nil
}

// File is one of the report's files, as a CI job keeps them.
type File struct {
	Name  string
	Write func(io.Writer) error
}

// Files are the report in every form CI reads, by file name: the table, the
// JSON report, JUnit, results.json, the Markdown summary, the GitHub
// annotations and the HTML page.
func (r *Report) Files() []File {
	return []File{
		{"report.txt", r.Table},
		{"report.json", r.JSON},
		{"junit.xml", r.JUnit},
		{"results.json", func(w io.Writer) error {
			b, err := json.MarshalIndent(r.Results(), "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s\n", b)
			return err
		}},
		{"summary.md", func(w io.Writer) error { return r.Markdown(w, SummaryLimit) }},
		{"annotations.txt", r.Annotations},
		{"report.html", func(w io.Writer) error { return r.HTML(w, nil) }},
	}
}
