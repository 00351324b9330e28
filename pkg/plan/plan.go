package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/docker/go-units"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// Cell statuses a plan can give.
const (
	Planned      = "planned"
	NotRequested = "not requested by spec"
)

// Cell is one component × platform entry of a run.
type Cell struct {
	Component string `json:"component"`
	Platform  string `json:"platform"`
	Status    string `json:"status"`
	// Args are the build args the cell gets (a dependency's image arg
	// stands for the digest of this run's variant); ContextBytes its build
	// context after its .dockerignore. Set for planned cells by the run.
	Args         map[string]string `json:"args,omitempty"`
	ContextBytes int64             `json:"context_bytes,omitempty"`
}

// Plan is what a run will build.
type Plan struct {
	Platforms  []string         `json:"platforms"`
	Order      []string         `json:"order"` // components, dependencies first
	Cells      []Cell           `json:"cells"`
	Upload     *Upload          `json:"upload,omitempty"`
	Notes      []string         `json:"notes,omitempty"` // folders that are not components
	Edges      []Edge           `json:"edges,omitempty"` // what waits on what, in Order
	Components []component.Spec `json:"-"`               // in Order
}

// Edge is one relation between two planned components: To waits for From.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"` // EdgeDependency or EdgeService
}

// Edge kinds: To builds FROM From (depends_on), or From is served while To
// builds (services:).
const (
	EdgeDependency = "depends_on"
	EdgeService    = "service"
)

// needs are the components c waits for, each with its kind: dependencies
// first, then services.
func needs(c component.Spec) []Edge {
	var out []Edge
	for _, d := range c.DependsOn {
		out = append(out, Edge{From: d, To: c.Name, Kind: EdgeDependency})
	}
	for _, s := range c.Services {
		out = append(out, Edge{From: s.Component, To: c.Name, Kind: EdgeService})
	}
	return out
}

// Upload is what the engine gets, once per engine, for every cell.
type Upload struct {
	Dir    string `json:"dir"`    // as the run names it
	Shared bool   `json:"shared"` // one build context for every component; else each its folder
	Bytes  int64  `json:"bytes"`
}

// New plans the selected components (all when selected is empty, plus their
// dependencies) for platforms. A selected name is a component, which selects
// all its images, or one image of it (component/image). Unknown names and
// cycles are bad input.
func New(all []component.Spec, platforms []string, selected []string) (*Plan, error) {
	if len(platforms) == 0 {
		return nil, class.BadInput.Errorf("no platforms requested")
	}
	byName, images := map[string]component.Spec{}, map[string][]string{}
	for _, c := range all {
		byName[c.Name] = c
		images[c.Component()] = append(images[c.Component()], c.Name)
	}
	for _, c := range all {
		for i, e := range needs(c) {
			if _, ok := byName[e.From]; ok {
				continue
			}
			field, what := "depends_on", "it builds FROM"
			if e.Kind == EdgeService {
				field, what = fmt.Sprintf("services[%d].component", i-len(c.DependsOn)), "is served"
			}
			err := &component.Error{File: c.Dir + "/" + component.FileName, Field: field,
				Problem: fmt.Sprintf("unknown component %q", e.From), Fix: "known: " + strings.Join(names(all), ", ")}
			if imgs := images[e.From]; len(imgs) > 0 {
				// A dependent builds FROM (or is served) one image.
				err.Problem, err.Fix = fmt.Sprintf("%s gives several images", e.From), "name the one "+what+": "+strings.Join(imgs, ", ")
			}
			return nil, err
		}
	}
	want := map[string]bool{}
	var add func(string)
	add = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		for _, e := range needs(byName[n]) {
			add(e.From)
		}
	}
	if len(selected) == 0 {
		selected = names(all)
	}
	for _, n := range selected {
		if _, ok := byName[n]; ok {
			add(n)
			continue
		}
		if _, ok := images[n]; !ok {
			return nil, class.BadInput.Errorf("unknown component %q (known: %s)", n, strings.Join(known(all), ", "))
		}
		for _, img := range images[n] {
			add(img)
		}
	}
	order, err := topo(byName, want)
	if err != nil {
		return nil, err
	}
	p := &Plan{Platforms: platforms, Order: order}
	for _, n := range order {
		c := byName[n]
		p.Components = append(p.Components, c)
		for _, pl := range platforms {
			status := Planned
			if !c.Supports(pl) {
				status = NotRequested
			}
			p.Cells = append(p.Cells, Cell{Component: n, Platform: pl, Status: status})
		}
		for _, e := range needs(c) {
			what := "builds FROM"
			if e.Kind == EdgeService {
				what = "is served"
			}
			for _, pl := range platforms {
				if c.Supports(pl) && !byName[e.From].Supports(pl) {
					return nil, class.BadInput.Errorf("%s %s %s %s, whose spec does not support %s", n, pl, what, e.From, pl)
				}
			}
		}
		p.Edges = append(p.Edges, needs(c)...)
	}
	return p, nil
}

// topo orders the wanted components so dependencies come first; ties break by
// name so the order never changes between runs.
func topo(byName map[string]component.Spec, want map[string]bool) ([]string, error) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var order, path []string
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case done:
			return nil
		case active:
			i := slices.Index(path, n)
			return class.BadInput.Errorf("dependency cycle: %s (no component may wait for itself through depends_on or services:; remove one of these)", strings.Join(append(slices.Clone(path[i:]), n), " -> "))
		}
		state[n] = active
		path = append(path, n)
		var deps []string
		for _, e := range needs(byName[n]) {
			deps = append(deps, e.From)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		order = append(order, n)
		return nil
	}
	ns := make([]string, 0, len(want))
	for n := range want {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	for _, n := range ns {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func names(cs []component.Spec) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}

// known are the names a selection may give: every component, and each
// image of a component with several as component/image.
func known(cs []component.Spec) []string {
	var out []string
	for _, c := range cs {
		for _, n := range []string{c.Component(), c.Name} {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Component returns the planned component named n.
func (p *Plan) Component(n string) (component.Spec, bool) {
	for _, c := range p.Components {
		if c.Name == n {
			return c, true
		}
	}
	return component.Spec{}, false
}

// Write writes the plan in format: json, dot (a Graphviz graph of the
// dependencies), or else a table. Both entry points check --format first.
func (p *Plan) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		return p.JSON(w)
	case "dot":
		return p.Dot(w)
	}
	return p.Table(w)
}

// Table writes the plan as an aligned table: each cell with its image and
// what it waits for: the components it is built FROM (singleuser <-
// jupyterhub) and those served while it builds (slurm-master <~ apphub
// (service)).
func (p *Plan) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPLATFORM\tSTATUS\tIMAGE\tNEEDS")
	for _, cell := range p.Cells {
		c, _ := p.Component(cell.Component)
		var rel []string
		if len(c.DependsOn) > 0 {
			rel = append(rel, c.Name+" <- "+strings.Join(c.DependsOn, ", "))
		}
		if len(c.Services) > 0 {
			rel = append(rel, c.Name+" <~ "+strings.Join(c.Served(), ", ")+" (service)")
		}
		if rel == nil {
			rel = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell.Component, cell.Platform, cell.Status, c.Image, strings.Join(rel, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if u := p.Upload; u != nil {
		what := "the build context of every component"
		if !u.Shared {
			what = "each component's folder is its build context"
		}
		fmt.Fprintf(w, "upload: %s (%s), %s, once per engine\n", u.Dir, what, units.HumanSize(float64(u.Bytes)))
	}
	for _, n := range p.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

// Dot writes the plan as a Graphviz graph: one node per component (its
// image and platforms), one edge per dependency, pointing at the dependent,
// and a dashed one per service.
func (p *Plan) Dot(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph matrix {\n  rankdir=LR;\n  node [shape=box];\n")
	for i, c := range p.Components {
		var pls []string
		for _, pl := range p.Platforms {
			if c.Supports(pl) {
				pls = append(pls, pl)
			}
		}
		// The images of one component (one Dockerfile) share a box.
		indent, image := "  ", c.Name != c.Component()
		if image {
			indent = "    "
		}
		if image && (i == 0 || p.Components[i-1].Component() != c.Component()) {
			fmt.Fprintf(&b, "  subgraph %q {\n    label=%q;\n", "cluster_"+c.Component(), c.Component()+" (one Dockerfile)")
		}
		fmt.Fprintf(&b, "%s%q [label=%q];\n", indent, c.Name, c.Name+"\n"+c.Image+"\n"+strings.Join(pls, ", "))
		if image && (i == len(p.Components)-1 || p.Components[i+1].Component() != c.Component()) {
			b.WriteString("  }\n")
		}
	}
	for _, e := range p.Edges {
		if e.Kind == EdgeService {
			fmt.Fprintf(&b, "  %q -> %q [style=dashed, label=\"service\"];\n", e.From, e.To)
			continue
		}
		fmt.Fprintf(&b, "  %q -> %q;\n", e.From, e.To)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the plan as indented JSON.
func (p *Plan) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
