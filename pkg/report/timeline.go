package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Outcomes a timeline colours its bars by: the cell statuses, and reused
// for a verified cell whose published image was already there.
const (
	Reused         = "reused"
	OutcomeMissing = "not requested"
)

// Bar is one cell on the timeline, its times in seconds since the run began.
type Bar struct {
	Cell
	Key        string  // "component platform"
	Outcome    string  // verified, failed, skipped, reused, not requested
	Start, End float64 // 0, 0: the cell never ran (skipped, not requested)
	Critical   bool
	// Against the previous run (render --previous): how long it took then,
	// and whether it got slower, or was rebuilt where it was reused.
	Previous float64
	Slower   bool
	Rebuilt  bool
}

// Timed reports whether the cell ran.
func (b Bar) Timed() bool { return !b.Started.IsZero() && !b.Ended.IsZero() }

// Seconds is the bar's length.
func (b Bar) Seconds() float64 { return b.End - b.Start }

// PhaseBar is a phase of the run on the timeline.
type PhaseBar struct {
	Phase
	Start, End float64
}

// Timeline is a report laid out in time.
type Timeline struct {
	Timed    bool       // the report has cell times; without them, a table only
	Bars     []Bar      // the timed cells in start order, then the others in report order
	Phases   []PhaseBar // in start order
	Edges    []Edge
	Wall     float64  // the run's wall time
	Critical []string // the keys of the critical path, first cell first
	// CriticalSeconds is the critical path's length: the sum of its cells' times.
	CriticalSeconds float64
	Origin          time.Time // when the run began
	Slower          []string  // keys of the cells slower than in the previous run
	Rebuilt         []string  // keys of the cells rebuilt where the previous run reused them
}

// A cell is slower than before when it took both SlowerBy times as long and
// SlowerMin seconds more: a few seconds of jitter are not news.
const (
	SlowerBy  = 1.25
	SlowerMin = 1.0
)

// Timeline lays the report out in time; prev (may be nil) is an earlier
// run's report to mark the differences from.
func (r *Report) Timeline(prev *Report) Timeline {
	r.mu.Lock()
	cells := slices.Clone(r.Cells)
	phases := slices.Clone(r.Phases)
	t := Timeline{Edges: slices.Clone(r.Edges), Wall: r.Seconds, Origin: r.Started}
	r.mu.Unlock()
	for _, c := range cells {
		if !c.Started.IsZero() && (t.Origin.IsZero() || c.Started.Before(t.Origin)) {
			t.Origin = c.Started
		}
	}
	before := map[string]Cell{}
	if prev != nil {
		for _, c := range prev.Snapshot() {
			before[key(c)] = c
		}
	}
	var timed, rest []Bar
	for _, c := range cells {
		b := Bar{Cell: c, Key: key(c), Outcome: outcome(c)}
		if b.Timed() {
			b.Start, b.End = c.Started.Sub(t.Origin).Seconds(), c.Ended.Sub(t.Origin).Seconds()
			t.Wall = max(t.Wall, b.End)
		}
		if p, ok := before[b.Key]; ok {
			b.Previous = p.Seconds
			b.Slower = p.Seconds > 0 && c.Seconds >= p.Seconds*SlowerBy && c.Seconds-p.Seconds >= SlowerMin
			b.Rebuilt = p.Reused && !c.Reused && c.Status == Verified
		}
		if b.Slower {
			t.Slower = append(t.Slower, b.Key)
		}
		if b.Rebuilt {
			t.Rebuilt = append(t.Rebuilt, b.Key)
		}
		if b.Timed() {
			timed = append(timed, b)
		} else {
			rest = append(rest, b)
		}
	}
	t.Timed = len(timed) > 0
	slices.SortStableFunc(timed, func(a, b Bar) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End)) })
	t.Bars = append(timed, rest...)
	for _, p := range phases {
		pb := PhaseBar{Phase: p, Start: p.Started.Sub(t.Origin).Seconds(), End: p.Ended.Sub(t.Origin).Seconds()}
		t.Wall = max(t.Wall, pb.End)
		t.Phases = append(t.Phases, pb)
	}
	slices.SortStableFunc(t.Phases, func(a, b PhaseBar) int { return cmp.Compare(a.Start, b.Start) })
	t.critical()
	return t
}

func key(c Cell) string { return c.Component + " " + c.Platform }

func outcome(c Cell) string {
	switch {
	case c.Status == Verified && c.Reused:
		return Reused
	case c.Status == NotRequested:
		return OutcomeMissing
	}
	return c.Status
}

// critical finds the chain of timed cells, each waiting on the one before
// through an edge, whose times add up to the most: what bounded the run.
func (t *Timeline) critical() {
	deps := map[string][]string{} // component -> the components it waits for
	for _, e := range t.Edges {
		deps[e.To] = append(deps[e.To], e.From)
	}
	var timed []int
	of := map[string][]int{} // component -> its timed bars
	for i, b := range t.Bars {
		if b.Timed() {
			timed = append(timed, i)
			of[b.Component] = append(of[b.Component], i)
		}
	}
	length := map[int]float64{}
	next := map[int]int{} // the predecessor on the longest chain, -1 none
	state := map[int]int{}
	var walk func(i int) float64
	walk = func(i int) float64 {
		switch state[i] {
		case 2:
			return length[i]
		case 1:
			return 0 // an edge cycle: plans refuse them, a hand-made report may not
		}
		state[i] = 1
		best, from := 0.0, -1
		for _, d := range deps[t.Bars[i].Component] {
			for _, j := range of[d] {
				if l := walk(j); l > best || (l == best && from >= 0 && j < from) {
					best, from = l, j
				}
			}
		}
		length[i], next[i], state[i] = best+t.Bars[i].Seconds(), from, 2
		return length[i]
	}
	end := -1
	for _, i := range timed {
		if l := walk(i); end < 0 || l > length[end] {
			end = i
		}
	}
	if end < 0 {
		return
	}
	t.CriticalSeconds = length[end]
	for i := end; i >= 0; i = next[i] {
		t.Bars[i].Critical = true
		t.Critical = append([]string{t.Bars[i].Key}, t.Critical...)
	}
}

// ReadReport reads a JSON report (--report, or report.json of the module's
// report) strictly: a field it does not know is an error, so a file of
// another kind (results.json) is not taken for one. name is how the caller
// names it in errors.
func ReadReport(data []byte, name string) (*Report, error) {
	var probe struct {
		Cells *json.RawMessage `json:"cells"`
	}
	r := &Report{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(r)
	if err == nil && dec.More() {
		err = fmt.Errorf("more than one JSON value")
	}
	if err == nil {
		if err = json.Unmarshal(data, &probe); err == nil && probe.Cells == nil {
			err = fmt.Errorf("no cells")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a matrix report (%w); give the JSON a run wrote with --report, or report.json of `dagger call report`", name, err)
	}
	return r, nil
}

// Redact drops the password of a URL's user information, e.g. of an
// engine's runner host, so that a page or summary never shows it.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, set := u.User.Password(); set {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
