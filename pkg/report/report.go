package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
)

// Cell statuses after a run.
const (
	Verified     = "verified"
	Failed       = "failed"
	Skipped      = "skipped" // not attempted: a dependency failed or --fail-fast stopped the run
	NotRequested = "not requested by spec"
)

// Cell is the outcome of one component on one platform.
type Cell struct {
	Component string  `json:"component"`
	Platform  string  `json:"platform"`
	Status    string  `json:"status"`
	Step      string  `json:"step,omitempty"`    // failing step: build, verify, smoke, stage
	Command   string  `json:"command,omitempty"` // failing Dockerfile or smoke command
	Error     string  `json:"error,omitempty"`
	Output    string  `json:"output,omitempty"` // last lines of the failing command's output
	SizeBytes int64   `json:"size_bytes,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`
	// Where the cell ran, when a run has several engines or pushes by
	// digest: the engine (its runner host) and the engine's own platform.
	Engine string `json:"engine,omitempty"`
	Native string `json:"engine_platform,omitempty"`
	// A cell pushed by digest (--push-by-digest): its repository and the
	// digest of its image manifest, which a merge assembles into the index.
	Ref    string `json:"ref,omitempty"`
	Digest string `json:"digest,omitempty"`
	// The timeline: the image, when the cell took its slot and ended, and
	// the seconds of each step. A report written before these existed has
	// none, and renders as a table only.
	Image   string    `json:"image,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	Steps   []Step    `json:"steps,omitempty"`
	// Reused: the variant was not built here. Either the index published
	// holds it unchanged, every final tag already named it, or it came from
	// the registry by its key (From names it).
	Reused bool `json:"reused,omitempty"`
	// Key is the digest of every input of the cell (see package cellkey),
	// Inputs the name=value lines behind it: why a cell rebuilt.
	Key    string   `json:"key,omitempty"`
	Inputs []string `json:"inputs,omitempty"`
	From   string   `json:"from,omitempty"` // the repository@digest a reused variant came from
}

// shown is the cell's status as the table says it: a variant taken from
// the registry by its key is "verified (reused)".
func (c Cell) shown() string {
	if c.From != "" {
		return c.Status + " (reused)"
	}
	return c.Status
}

// Step names of a cell, in the order a cell goes through them.
const (
	StepServe  = "serve" // the components served while the cell builds, started
	StepBuild  = "build"
	StepVerify = "verify"
	StepSize   = "size"
	StepPush   = "push"
)

// Step is the seconds one step of a cell took.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Edge is one of the plan's edges, "builds FROM" or "is served": To waits for From.
type Edge = plan.Edge

// Phase is a span of the run that belongs to no one cell: a component
// staged for its dependents, the indexes published.
type Phase struct {
	Name      string    `json:"name"`                // stage, publish, push
	Component string    `json:"component,omitempty"` // stage: whose variants
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended"`
}

// EngineInfo is one engine of the run and its own platform.
type EngineInfo struct {
	Name     string `json:"name"`
	Platform string `json:"platform,omitempty"`
}

// Index is one published multi-platform index.
type Index struct {
	Component string           `json:"component"`
	Ref       string           `json:"ref"`
	Digest    string           `json:"digest"`
	Tags      []string         `json:"tags"`
	Platforms []PlatformDigest `json:"platforms,omitempty"` // the index's entries, in order
	Source    string           `json:"source,omitempty"`    // a mirrored image's upstream, pinned by digest
	Kept      []KeptTag        `json:"kept,omitempty"`      // floating tags this run did not move
	Reused    bool             `json:"reused,omitempty"`    // every final tag already named this index: nothing new
}

// KeptTag is a floating tag a run left where it was, and why.
type KeptTag struct {
	Tag    string `json:"tag"`
	Reason string `json:"reason"`
}

// PlatformDigest is one entry of a published index.
type PlatformDigest struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
}

// Report is a run's outcome. Methods are safe for concurrent use.
type Report struct {
	mu        sync.Mutex
	Version   string         `json:"version,omitempty"`
	Revision  string         `json:"revision,omitempty"` // the source revision built
	Created   string         `json:"created,omitempty"`  // the source's time, RFC 3339: the created annotation
	Platforms []string       `json:"platforms"`
	Cells     []Cell         `json:"cells"`
	Indexes   []Index        `json:"indexes,omitempty"`
	Lint      []lint.Finding `json:"lint,omitempty"` // what matrix lint found before the build
	Seconds   float64        `json:"seconds"`
	// The run's inputs and shape, for the timeline.
	Matrix  string       `json:"matrix,omitempty"` // matrix's own version
	Jobs    int          `json:"jobs,omitempty"`
	Engines []EngineInfo `json:"engines,omitempty"`
	Started time.Time    `json:"started,omitzero"`
	Edges   []Edge       `json:"edges,omitempty"`
	Phases  []Phase      `json:"phases,omitempty"`
}

// AddPhase records a span of the run outside the cells.
func (r *Report) AddPhase(p Phase) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Phases = append(r.Phases, p)
}

// Set records c, replacing an earlier entry of the same cell.
func (r *Report) Set(c Cell) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.Cells {
		if r.Cells[i].Component == c.Component && r.Cells[i].Platform == c.Platform {
			r.Cells[i] = c
			return
		}
	}
	r.Cells = append(r.Cells, c)
}

// Get returns the recorded cell.
func (r *Report) Get(component, platform string) (Cell, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.Cells {
		if c.Component == component && c.Platform == platform {
			return c, true
		}
	}
	return Cell{}, false
}

// Snapshot is a copy of the cells recorded so far.
func (r *Report) Snapshot() []Cell {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Cell(nil), r.Cells...)
}

// AddIndex records a published index.
func (r *Report) AddIndex(i Index) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Indexes = append(r.Indexes, i)
	sort.Slice(r.Indexes, func(a, b int) bool { return r.Indexes[a].Component < r.Indexes[b].Component })
}

// Failed lists the cells that were requested and did not verify.
func (r *Report) Failed() []Cell {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Cell
	for _, c := range r.Cells {
		if c.Status != Verified && c.Status != NotRequested {
			out = append(out, c)
		}
	}
	return out
}

// Counts returns verified and requested cells.
func (r *Report) Counts() (verified, requested int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.Cells {
		if c.Status == NotRequested {
			continue
		}
		requested++
		if c.Status == Verified {
			verified++
		}
	}
	return verified, requested
}

// OK reports whether every requested cell verified.
func (r *Report) OK() bool {
	v, n := r.Counts()
	return v == n && n > 0
}

// Err is nil when OK, else the summary as a failed run.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return class.Failed.Errorf("%s", r.Summary())
}

// Summary is the one-line outcome, e.g. "24/24 cells verified".
func (r *Report) Summary() string {
	v, n := r.Counts()
	s := fmt.Sprintf("%d/%d cells verified", v, n)
	if f := r.Failed(); len(f) > 0 {
		s += fmt.Sprintf(", %d not", len(f))
	}
	return s
}

// Table writes one row per cell, then the failures in detail, then the summary.
func (r *Report) Table(w io.Writer) error {
	r.mu.Lock()
	cells := append([]Cell(nil), r.Cells...)
	indexes := append([]Index(nil), r.Indexes...)
	r.mu.Unlock()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	engines := slices.ContainsFunc(cells, func(c Cell) bool { return c.Engine != "" })
	head := "COMPONENT\tPLATFORM\tSTATUS\tSTEP\tSIZE\tTIME"
	if engines {
		head += "\tENGINE"
	}
	fmt.Fprintln(tw, head)
	for _, c := range cells {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", c.Component, c.Platform, c.shown(), dash(c.Step), size(c.SizeBytes), seconds(c.Seconds))
		if engines {
			if c.Engine == "" {
				fmt.Fprint(tw, "\t-")
			} else {
				fmt.Fprintf(tw, "\t%s (%s)", c.Engine, dash(c.Native))
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range cells {
		if c.Status == Skipped && c.Error != "" {
			fmt.Fprintf(w, "\n%s %s skipped\n  %s\n", c.Component, c.Platform, c.Error)
		}
		if c.Status != Failed {
			continue
		}
		fmt.Fprintf(w, "\n%s %s failed at %s", c.Component, c.Platform, c.Step)
		if c.Command != "" {
			fmt.Fprintf(w, ": %s", c.Command)
		}
		fmt.Fprintf(w, "\n  %s\n", c.Error)
		if c.Output != "" {
			fmt.Fprintf(w, "  output:\n    %s\n", strings.ReplaceAll(c.Output, "\n", "\n    "))
		}
	}
	r.mu.Lock()
	findings := append([]lint.Finding(nil), r.Lint...)
	r.mu.Unlock()
	if len(findings) > 0 {
		fmt.Fprintf(w, "\nlint: %d finding(s)\n", len(findings))
		for _, f := range findings {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	for _, c := range cells {
		if c.Digest != "" {
			fmt.Fprintf(w, "\npushed %s %s by digest: %s@%s", c.Component, c.Platform, c.Ref, c.Digest)
		}
	}
	for _, i := range indexes {
		fmt.Fprintf(w, "\npublished %s@%s tags %s", i.Ref, i.Digest, strings.Join(i.Tags, ","))
		if i.Source != "" {
			fmt.Fprintf(w, " from %s", i.Source)
		}
		for _, k := range i.Kept {
			fmt.Fprintf(w, "\n  kept %s:%s where it was: %s", i.Ref, k.Tag, k.Reason)
		}
	}
	if len(indexes) > 0 || slices.ContainsFunc(cells, func(c Cell) bool { return c.Digest != "" }) {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func size(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fMB", float64(b)/1e6)
}

func seconds(s float64) string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", s)
}

// Tail keeps the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
