package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// GitHub renders a ```mermaid block inline, up to MermaidLimit characters;
// the gantt is grouped to stay under MermaidBudget, well before that.
const (
	MermaidLimit  = 50_000
	MermaidBudget = 25_000
)

// Mermaid is the timeline as a Mermaid gantt block for a step summary, or
// "" when the report has no cell times. Each cell is a task in its
// component's section; when that would pass budget characters, each
// component is one task, and then runs of components are, so a large run is
// grouped, never cut. Tags: done verified, crit failed, active the critical path.
func (r *Report) Mermaid(budget int) string {
	t := r.Timeline(nil)
	if !t.Timed {
		return ""
	}
	for per := 0; ; per = max(1, per*2) {
		out := t.mermaid(per)
		if len(out) <= budget || per >= len(t.Bars) {
			return out
		}
	}
}

// task is one line of the gantt.
type task struct {
	section, name string
	start, end    float64
	tags          []string
}

// mermaid writes the gantt with per components to a task (0: a task per cell).
func (t Timeline) mermaid(per int) string {
	var tasks []task
	if per == 0 {
		// One section per component, in the order components started.
		at := map[string]int{}
		var sections [][]task
		for _, b := range t.Bars {
			if !b.Timed() {
				continue
			}
			i, ok := at[b.Component]
			if !ok {
				i = len(sections)
				at[b.Component] = i
				sections = append(sections, nil)
			}
			sections[i] = append(sections[i], task{b.Component, b.Platform + " " + b.Outcome, b.Start, b.End, tags(b.Outcome, b.Critical)})
		}
		tasks = slices.Concat(sections...)
	} else {
		tasks = t.grouped(per)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "```mermaid\ngantt\n  title matrix timeline: critical path %s of %s\n  dateFormat X\n  axisFormat %%H:%%M:%%S\n",
		seconds(t.CriticalSeconds), seconds(t.Wall))
	origin := float64(t.Origin.Unix())
	section := ""
	for _, ph := range t.Phases {
		if section == "" {
			section = "run"
			b.WriteString("  section run\n")
		}
		name := ph.Name
		if ph.Component != "" {
			name += " " + ph.Component
		}
		line(&b, task{"run", name, ph.Start, ph.End, nil}, origin)
	}
	for _, tk := range tasks {
		if tk.section != section {
			section = tk.section
			fmt.Fprintf(&b, "  section %s\n", section)
		}
		line(&b, tk, origin)
	}
	b.WriteString("```\n")
	return b.String()
}

func line(b *strings.Builder, tk task, origin float64) {
	d := max(1, int(math.Ceil(tk.end-tk.start)))
	tags := ""
	if len(tk.tags) > 0 {
		tags = strings.Join(tk.tags, ", ") + ", "
	}
	fmt.Fprintf(b, "  %s :%s%d, %ds\n", tk.name, tags, int64(origin+tk.start), d)
}

func tags(outcome string, critical bool) []string {
	var out []string
	switch outcome {
	case Verified, Reused:
		out = append(out, "done")
	case Failed:
		out = append(out, "crit")
	}
	if critical {
		out = append(out, "active")
	}
	return out
}

// grouped is one task per per components, in the order they started, each
// spanning its cells, tagged by the worst of them.
func (t Timeline) grouped(per int) []task {
	type group struct {
		names      []string
		cells      int
		start, end float64
		outcome    string
		critical   bool
	}
	var order []string
	by := map[string]*group{}
	for _, b := range t.Bars {
		if !b.Timed() {
			continue
		}
		g, ok := by[b.Component]
		if !ok {
			g = &group{names: []string{b.Component}, start: b.Start, outcome: Verified}
			by[b.Component] = g
			order = append(order, b.Component)
		}
		g.cells++
		g.start, g.end = min(g.start, b.Start), max(g.end, b.End)
		g.critical = g.critical || b.Critical
		if b.Outcome == Failed {
			g.outcome = Failed
		}
	}
	var out []task
	for i := 0; i < len(order); i += per {
		run := order[i:min(i+per, len(order))]
		g := *by[run[0]]
		for _, n := range run[1:] {
			o := by[n]
			g.cells += o.cells
			g.start, g.end = min(g.start, o.start), max(g.end, o.end)
			g.critical = g.critical || o.critical
			if o.outcome == Failed {
				g.outcome = Failed
			}
		}
		name := fmt.Sprintf("%s (%d cells)", run[0], g.cells)
		section := "components"
		if len(run) > 1 {
			name = fmt.Sprintf("%s … %s (%d components, %d cells)", run[0], run[len(run)-1], len(run), g.cells)
		}
		out = append(out, task{section, name, g.start, g.end, tags(g.outcome, g.critical)})
	}
	return out
}
