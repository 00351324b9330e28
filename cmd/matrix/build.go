package main

import (
	"encoding/json"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/source"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show the cells a run would build (no engine needed)",
		Flags: withDot(selectFlags()),
		Action: func(c *cli.Context) error {
			r, err := prepare(c, matrix.Inspect)
			if err != nil {
				return err
			}
			return r.Plan.Write(c.App.Writer, c.String("format"))
		},
	}
}

func buildCommand(name, usage string) *cli.Command {
	flags := buildFlags()
	if name == "build-all" {
		flags = append(flags, attestFlags()...)
		flags = append(flags, &cli.BoolFlag{Name: "push-by-digest", Usage: "push each verified variant by digest to --registry, moving no tag, and record the digests in --results: one leg of matrix merge"})
	}
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if name == "build" && c.String("components") == "" {
				return class.BadInput.Errorf("build needs --components (or use build-all)")
			}
			var more []func(*matrix.Options)
			if name == "build-all" {
				push, err := pushOptions(c)
				if err != nil {
					return err
				}
				more = append(more, push, func(o *matrix.Options) {
					if c.Bool("push-by-digest") {
						o.Push.Mode = matrix.PushByDigest
					}
				})
			}
			return runOn(c, func(r *matrix.Run, engines []matrix.Engine) (*matrix.Result, error) {
				return r.BuildOn(c.Context, engines)
			}, more...)
		},
	}
}

// runOn prepares a run that builds (all bad input is refused before the
// engine is dialed), connects to each engine the run needs, runs the verb
// do and finishes with its report and error. The revision built defaults to
// the checkout's.
func runOn(c *cli.Context, do func(*matrix.Run, []matrix.Engine) (*matrix.Result, error), more ...func(*matrix.Options)) error {
	more = append([]func(*matrix.Options){func(o *matrix.Options) {
		if o.Run.Revision == "" { // not a checkout: no revision, and floating tags keep theirs
			o.Run.Revision, _ = source.Checkout{Dir: sourceDir(c)}.Revision(c.Context)
		}
	}}, more...)
	r, err := prepare(c, matrix.New, more...)
	if err != nil {
		return err
	}
	prev, err := previous(c)
	if err != nil {
		return err
	}
	prog, err := progress(c, r, prev)
	if err != nil {
		return err
	}
	defer prog.Close()
	r.Options.Events = prog.Event
	engines, end, err := r.Open(c.Context, engineLog(c), c.App.ErrWriter)
	if err != nil {
		return err
	}
	defer end()
	res, err := do(r, engines)
	if res != nil {
		if ferr := finish(c, res.Report, prev); ferr != nil {
			return ferr
		}
	}
	return err
}

// finish prints the report and writes it where asked (report.Outputs).
// The run's error, with its class, decides the exit code.
func finish(c *cli.Context, r *report.Report, prev *report.Report) error {
	show := r.Table
	if c.String("format") == "json" {
		show = r.JSON
	}
	if err := show(c.App.Writer); err != nil {
		return err
	}
	return report.Outputs{JSON: c.String("report"), JUnit: c.String("junit"), Results: c.String("results"), HTML: c.String("html"),
		Previous: prev}.Write(r, c.App.Writer)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// previous reads --previous, an earlier run's JSON report; nil without one.
func previous(c *cli.Context) (*report.Report, error) {
	if path := c.String("previous"); path != "" {
		return report.ReadFile(path, "--previous")
	}
	return nil, nil
}

// progress shows the run's cell events on stderr, as --progress asks.
func progress(c *cli.Context, r *matrix.Run, prev *report.Report) (*report.Progress, error) {
	p, err := report.NewProgress(c.App.ErrWriter, globalString(c, "progress"), r.Requested(), r.Options.Run.Jobs, prev)
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	return p, nil
}
