package report

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
)

// The page is one file with its style inline and no script: it opens
// offline from a CI artifact. It is also well-formed XML (XHTML), which the
// tests parse strictly.

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"seconds": func(s float64) string { return seconds(s) },
	"size":    size,
	"dash":    dash,
	"short":   short,
	"px":      func(f float64) string { return fmt.Sprintf("%.1f", f) },
}).Parse(pageSource))

// Layout of the timeline, in pixels.
const (
	labelWidth = 250
	chartWidth = 900
	rowHeight  = 22
	axisHeight = 26
	barHeight  = 14
	minBar     = 1.5
)

type page struct {
	Summary  string
	Note     string // why there is no timeline, when there is none
	T        Timeline
	Width    int
	Height   int
	Rows     []svgRow
	Ticks    []tick
	Lines    []string // SVG path data of the edges
	Inputs   [][2]string
	Cells    []tableRow
	Failures []Bar
	Indexes  []Index
	Critical string
	Previous bool
}

type svgRow struct {
	Y, TextY, X, W float64
	Label, Class   string
	Title          string
	Cell           string // the cell's key; "" for a phase
	Segments       []segment
}

type segment struct {
	X, Y, W float64
	Name    string
	Title   string
}

type tick struct {
	X     float64
	Label string
}

type tableRow struct {
	Bar
	DigestOf string
	Vs       string
}

// HTML writes the report as one self-contained page: the timeline (one bar
// per cell, coloured by outcome and split into its steps, the edges drawn
// and listed, the critical path marked), the table of cells with each
// failure's step and output, and the run's inputs. prev (may be nil) is an
// earlier report to mark the differences from.
func (r *Report) HTML(w io.Writer, prev *Report) error {
	t := r.Timeline(prev)
	p := page{Summary: r.Summary(), T: t, Previous: prev != nil}
	r.mu.Lock()
	p.Indexes = slices.Clone(r.Indexes)
	p.Inputs = inputs(r, t)
	only := "" // a run on one engine names it once, not in each cell
	if len(r.Engines) == 1 {
		only = r.Engines[0].Name
	}
	r.mu.Unlock()
	if t.Timed {
		p.layout()
		p.Critical = fmt.Sprintf("%s of %s wall time: %s", seconds(t.CriticalSeconds), seconds(t.Wall), strings.Join(t.Critical, " → "))
	} else {
		p.Note = "This report records no cell times (it was written before matrix recorded them, or no cell ran): the table only, no timeline."
	}
	digests := map[string]string{}
	for _, ix := range p.Indexes {
		for _, pd := range ix.Platforms {
			digests[ix.Component+" "+strings.TrimSuffix(pd.Platform, "/v8")] = pd.Digest
		}
	}
	for _, b := range t.Bars {
		row := tableRow{Bar: b, DigestOf: cmp.Or(b.Digest, digests[b.Key])}
		if prev != nil && b.Previous > 0 {
			row.Vs = fmt.Sprintf("%s before", seconds(b.Previous))
		}
		row.Engine = Redact(cmp.Or(row.Engine, only))
		p.Cells = append(p.Cells, row)
		if b.Status == Failed || (b.Status == Skipped && b.Error != "") {
			p.Failures = append(p.Failures, b)
		}
	}
	return pageTemplate.Execute(w, p)
}

func inputs(r *Report, t Timeline) [][2]string {
	var engines []string
	for _, e := range r.Engines {
		s := Redact(e.Name)
		if e.Platform != "" {
			s += " (" + e.Platform + ")"
		}
		engines = append(engines, s)
	}
	out := [][2]string{
		{"platforms", strings.Join(r.Platforms, ", ")},
		{"jobs", dash(fmt.Sprint(r.Jobs))},
		{"engines", dash(strings.Join(engines, ", "))},
		{"matrix", dash(r.Matrix)},
		{"revision", dash(r.Revision)},
		{"version", dash(r.Version)},
		{"source time", dash(r.Created)},
		{"wall time", seconds(t.Wall)},
	}
	if r.Jobs == 0 {
		out[1][1] = "-"
	}
	if !t.Origin.IsZero() {
		out = append(out, [2]string{"started", t.Origin.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	return out
}

// layout places a row per phase and per cell, the time axis and the edges.
func (p *page) layout() {
	t := p.T
	scale := chartWidth / math.Max(t.Wall, 1)
	x := func(s float64) float64 { return labelWidth + s*scale }
	y := float64(axisHeight)
	at := map[string]svgRow{}
	for _, ph := range t.Phases {
		label := ph.Name
		if ph.Component != "" {
			label += " " + ph.Component
		}
		p.Rows = append(p.Rows, svgRow{Y: y, TextY: y + barHeight - 2, X: x(ph.Start), W: math.Max((ph.End-ph.Start)*scale, minBar),
			Label: label, Class: "phase", Title: fmt.Sprintf("%s: %s", label, seconds(ph.End-ph.Start))})
		y += rowHeight
	}
	for _, b := range t.Bars {
		row := svgRow{Y: y, TextY: y + barHeight - 2, Label: b.Key, Cell: b.Key, Class: "bar " + strings.ReplaceAll(b.Outcome, " ", "-")}
		if b.Critical {
			row.Class += " critical"
		}
		if b.Slower || b.Rebuilt {
			row.Class += " changed"
		}
		row.Title = b.Key + ": " + b.Outcome
		if b.Timed() {
			row.X, row.W = x(b.Start), math.Max(b.Seconds()*scale, minBar)
			row.Title += ", " + seconds(b.Seconds())
			for _, s := range b.Steps {
				row.Title += fmt.Sprintf("; %s %s", s.Name, seconds(s.Seconds))
			}
			row.Segments = segments(b, row.X, row.Y, row.W, scale)
		} else {
			row.X, row.W = labelWidth, 0 // a cell that never ran: its row, no time
		}
		if b.Step != "" {
			row.Title += " at " + b.Step
		}
		if !b.Timed() && b.Error != "" {
			row.Title += ": " + b.Error
		}
		p.Rows = append(p.Rows, row)
		at[b.Key] = row
		y += rowHeight
	}
	for _, e := range t.Edges {
		for _, b := range t.Bars {
			if b.Component != e.To || !b.Timed() {
				continue
			}
			from, ok := at[e.From+" "+b.Platform]
			if !ok || from.W == 0 {
				continue
			}
			to := at[b.Key]
			x1, y1, y2 := from.X+from.W, from.Y+barHeight/2, to.Y+barHeight/2
			p.Lines = append(p.Lines, fmt.Sprintf("M %.1f %.1f H %.1f V %.1f H %.1f", x1, y1, math.Max(x1, to.X-4)+2, y2, to.X))
		}
	}
	p.Ticks = ticks(t.Wall, scale)
	p.Width, p.Height = labelWidth+chartWidth+20, int(y)+4
}

// segments split a bar into its steps, in order; what the steps do not
// cover (waiting for the engine, the stage) is left as the bar itself.
func segments(b Bar, x, y, w, scale float64) []segment {
	var sum float64
	for _, s := range b.Steps {
		if s.Name != StepPush {
			sum += s.Seconds
		}
	}
	fit := 1.0
	if sum*scale > w && sum > 0 {
		fit = w / (sum * scale)
	}
	var out []segment
	for _, s := range b.Steps {
		if s.Name == StepPush {
			continue // after the cell's span, in the push phase
		}
		sw := s.Seconds * scale * fit
		out = append(out, segment{X: x, Y: y, W: sw, Name: s.Name, Title: fmt.Sprintf("%s %s: %s", b.Key, s.Name, seconds(s.Seconds))})
		x += sw
	}
	return out
}

// ticks marks the time axis at a round step, ten marks at most.
func ticks(wall, scale float64) []tick {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200} {
		step = s
		if wall/s <= 10 {
			break
		}
	}
	var out []tick
	for s := 0.0; s <= wall+1e-9; s += step {
		label := fmt.Sprintf("%gs", s)
		if step >= 60 {
			label = fmt.Sprintf("%gm", s/60)
		}
		out = append(out, tick{X: labelWidth + s*scale, Label: label})
	}
	return out
}

// short is a digest as people read it: the algorithm and 12 hex digits.
func short(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return dash(d)
}
