package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"dagger.io/dagger"
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
			switch c.String("format") {
			case "json":
				return r.Plan.JSON(c.App.Writer)
			case "dot":
				return r.Plan.Dot(c.App.Writer)
			}
			return r.Plan.Table(c.App.Writer)
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
			return session(c, func(r *matrix.Run, engines []matrix.Engine) (*matrix.Result, error) {
				return r.BuildOn(c.Context, engines)
			}, more...)
		},
	}
}

// session prepares a run that builds (all bad input is refused before the
// engine is dialed), connects to each engine the run needs, runs the verb
// do and finishes with its report and error. The revision built defaults to
// the checkout's.
func session(c *cli.Context, do func(*matrix.Run, []matrix.Engine) (*matrix.Result, error), more ...func(*matrix.Options)) error {
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
	t, err := tree(c)
	if err != nil {
		return err
	}
	var engines []matrix.Engine
	for _, host := range r.Hosts() {
		dc, err := connectTo(c, host)
		if err != nil {
			return err
		}
		defer disconnect(dc, c.App.ErrWriter)
		engines = append(engines, matrix.Engine{Host: host, Runner: os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST"),
			Client: dc, Src: dc.Host().Directory(matrix.Path(t, r.Upload), dagger.HostDirectoryOpts{Exclude: r.Exclude})})
	}
	res, err := do(r, engines)
	if res != nil {
		if ferr := finish(c, res.Report, prev); ferr != nil {
			return ferr
		}
	}
	return err
}

// secretValues reads id=env:VAR and id=file:PATH; values never reach a log.
func secretValues(specs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		id, src, ok := strings.Cut(s, "=")
		kind, ref, ok2 := strings.Cut(src, ":")
		if !ok || !ok2 || id == "" || ref == "" {
			return nil, class.BadInput.Errorf("--secret %q: use id=env:VAR or id=file:PATH", redact(s))
		}
		switch kind {
		case "env":
			v, set := os.LookupEnv(ref)
			if !set {
				return nil, class.BadInput.Errorf("--secret %s: environment variable %s is not set", id, ref)
			}
			out[id] = v
		case "file":
			b, err := os.ReadFile(ref)
			if err != nil {
				return nil, class.BadInput.Errorf("--secret %s: %v", id, err)
			}
			out[id] = strings.TrimRight(string(b), "\n")
		default:
			return nil, class.BadInput.Errorf("--secret %s: source %q is not env or file", id, kind)
		}
	}
	return out, nil
}

// redact keeps a malformed --secret from echoing a value typed inline.
func redact(s string) string {
	id, _, _ := strings.Cut(s, "=")
	return id + "=…"
}

// finish prints the report and writes it where asked: JSON, JUnit,
// results.json, and in GitHub Actions the step summary and one annotation
// per failed cell. The run's error, with its class, decides the exit code.
func finish(c *cli.Context, r *report.Report, prev *report.Report) error {
	if c.String("format") == "json" {
		if err := r.JSON(c.App.Writer); err != nil {
			return err
		}
	} else if err := r.Table(c.App.Writer); err != nil {
		return err
	}
	files := map[string]func(io.Writer) error{}
	for _, f := range r.Files() {
		files[f.Name] = f.Write
	}
	outputs := []struct {
		path  string
		write func(io.Writer) error
	}{
		{c.String("report"), files["report.json"]},
		{c.String("junit"), files["junit.xml"]},
		{c.String("results"), files["results.json"]},
		{c.String("html"), func(w io.Writer) error { return r.HTML(w, prev) }},
	}
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		if err := writeFile(o.path, o.write, os.O_TRUNC); err != nil {
			return err
		}
	}
	// GitHub reads workflow commands from stdout, and appends summaries.
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := writeFile(path, files["summary.md"], os.O_APPEND); err != nil {
			return err
		}
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		return files["annotations.txt"](c.App.Writer)
	}
	return nil
}

// writeFile writes (mode os.O_TRUNC) or appends (os.O_APPEND) to path.
func writeFile(path string, write func(io.Writer) error, mode int) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|mode, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// previous reads --previous, an earlier run's JSON report; nil without one.
func previous(c *cli.Context) (*report.Report, error) {
	path := c.String("previous")
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, class.BadInput.Errorf("--previous %s: %v; give a report written with --report", path, err)
	}
	prev, err := report.ReadReport(b, "--previous "+path)
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	return prev, nil
}

// progress shows the run's cell events on stderr, as --progress asks.
func progress(c *cli.Context, r *matrix.Run, prev *report.Report) (*report.Progress, error) {
	p, err := report.NewProgress(c.App.ErrWriter, globalString(c, "progress"), r.Requested(), r.Options.Run.Jobs, prev)
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	return p, nil
}
