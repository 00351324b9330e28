package report

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// Event kinds, in the order one cell goes through them.
const (
	EventStarted  = "started"
	EventBuilt    = "built"
	EventReused   = "reused" // taken from the registry by its key instead of built
	EventVerified = Verified
	EventFailed   = Failed
	EventSkipped  = Skipped
)

// Event is one step of one cell, as it happens.
type Event struct {
	Component string
	Platform  string
	Kind      string
	Step      string  // failed: the step
	Reason    string  // failed or skipped: why
	Seconds   float64 // built, verified, failed: since the cell started
}

// Progress modes, named like buildx's and Dagger's --progress.
const (
	ProgressAuto  = "auto"
	ProgressPlain = "plain"
	ProgressTTY   = "tty"
	ProgressQuiet = "quiet"
)

// Progress shows events as they come: one line each with the counters
// (cells done of all, time, cells running, and the time left when a
// previous report tells how long each cell took); on a terminal, a live
// bar under the lines.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	quiet    bool
	bar      *progressbar.ProgressBar
	total    int
	jobs     int
	start    time.Time
	done     map[string]bool
	running  map[string]bool
	previous map[string]float64 // seconds per cell in the previous report
}

// NewProgress shows the events of total cells, jobs at a time, on w in mode
// (auto: tty when w is a terminal). previous may be nil.
func NewProgress(w io.Writer, mode string, total, jobs int, previous *Report) (*Progress, error) {
	p := &Progress{w: w, total: total, jobs: max(jobs, 1), start: time.Now(), done: map[string]bool{}, running: map[string]bool{}, previous: map[string]float64{}}
	if mode == ProgressAuto {
		mode = ProgressPlain
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			mode = ProgressTTY
		}
	}
	switch mode {
	case ProgressQuiet:
		p.quiet = true
	case ProgressTTY:
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("cells"),
			progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish())
	case ProgressPlain:
	default:
		return nil, fmt.Errorf("--progress %q: use auto, plain, tty or quiet", mode)
	}
	if previous != nil {
		for _, c := range previous.Cells {
			p.previous[c.Component+" "+c.Platform] = c.Seconds
		}
	}
	return p, nil
}

// Event records e and shows it. Safe for concurrent use.
func (p *Progress) Event(e Event) {
	if p == nil || p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := e.Component + " " + e.Platform
	switch e.Kind {
	case EventStarted:
		p.running[key] = true
	case EventVerified, EventFailed, EventSkipped:
		delete(p.running, key)
		p.done[key] = true
	}
	line := fmt.Sprintf("[%d/%d %s, %d running%s] %s %s", len(p.done), p.total, time.Since(p.start).Round(time.Second),
		len(p.running), p.left(), key, e.Kind)
	if e.Seconds > 0 {
		line += fmt.Sprintf(" %.1fs", e.Seconds)
	}
	if e.Step != "" {
		line += " at " + e.Step
	}
	if e.Reason != "" {
		line += ": " + e.Reason
	}
	if p.bar != nil {
		// The live view is stderr's: a failed write there has nowhere to go.
		_ = p.bar.Clear()
		_, _ = fmt.Fprintln(p.w, line)
		p.bar.Describe(fmt.Sprintf("cells (%d running%s)", len(p.running), p.left()))
		_ = p.bar.Set(len(p.done))
		return
	}
	fmt.Fprintln(p.w, "matrix:", line)
}

// left estimates the time left from the previous report: the cells not
// done yet, jobs at a time.
func (p *Progress) left() string {
	if len(p.previous) == 0 {
		return ""
	}
	var s float64
	for k, v := range p.previous {
		if !p.done[k] {
			s += v
		}
	}
	return fmt.Sprintf(", ~%s left", (time.Duration(s/float64(p.jobs)) * time.Second).Round(time.Second))
}

// Close ends the live view.
func (p *Progress) Close() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}
