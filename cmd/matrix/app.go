package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

// run executes the CLI and returns the process exit code: the class of
// its error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := newApp(stdout, stderr).RunContext(ctx, args)
	if err != nil {
		fmt.Fprintln(stderr, "matrix:", err)
	}
	return int(class.Of(err))
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:           "matrix",
		Usage:          "build every component for every platform, verify each cell, publish one index per component",
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(*cli.Context, error) {}, // run() decides the exit code
		OnUsageError:   usageError,
		Flags:          globalFlags(),
		Commands: []*cli.Command{
			planCommand(), buildCommand("build", "build and verify some components (--components)"),
			buildCommand("build-all", "build and verify every component for every platform"),
			buildCommand("verify", "build and verify every cell, publishing nothing (same as build-all)"),
			publishCommand(), mergeCommand(), exportCommand(), mirrorCommand(), importCommand(), lintCommand(), doctorCommand(),
			renderCommand(), initCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
		c.Flags = append(c.Flags, afterVerb(c.Flags)...)
	}
	return app
}

// usageError is a flag that cli cannot parse (unknown, or a bad value):
// bad input, shown with the help as cli shows it.
func usageError(c *cli.Context, err error, isCommand bool) error {
	fmt.Fprintf(c.App.Writer, "Incorrect Usage: %s\n\n", err)
	if isCommand {
		_ = cli.ShowSubcommandHelp(c)
	} else {
		_ = cli.ShowAppHelp(c)
	}
	return class.BadInput.Wrap(err)
}

// selectFlags choose the cells: every verb that plans takes them.
func selectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "platforms", Value: strings.Join(matrix.DefaultPlatforms, ","), Usage: "comma-separated os/arch list"},
		&cli.StringFlag{Name: "components", Usage: "comma-separated component names, or component/image for one image of one (default: all)"},
		&cli.StringFlag{Name: "version", Value: matrix.DefaultVersion, Usage: "version of this run (build arg ${VERSION}, default tag)"},
		&cli.StringFlag{Name: "rebuild", Usage: "build these components whatever --cache-repo holds: all, or comma-separated names"},
		&cli.StringFlag{Name: "format", Value: "table", Usage: "output: table or json"},
	}
}

// buildFlags are those of every verb that builds: how, and where the
// report goes.
func buildFlags() []cli.Flag {
	return append(selectFlags(),
		&cli.IntFlag{Name: "jobs", Usage: "cells built at once", DefaultText: "one per core"},
		&cli.BoolFlag{Name: "keep-going", Value: true, Usage: "build every cell it can and report all failures"},
		&cli.BoolFlag{Name: "fail-fast", Usage: "cancel the rest at the first failed cell"},
		&cli.StringFlag{Name: "report", Usage: "also write the report as JSON to this file"},
		&cli.StringFlag{Name: "junit", Usage: "also write the report as JUnit XML to this file (one test case per cell)"},
		&cli.StringFlag{Name: "results", Usage: "also write results.json to this file: per component, the index and platform digests, tags, sizes and times"},
		&cli.StringFlag{Name: "html", Usage: "also write the report as one self-contained HTML page: the timeline, the critical path, the cells, the inputs"},
		&cli.StringFlag{Name: "previous", Usage: "a previous JSON report (--report), to estimate the time left and mark in --html what changed"},
		&cli.StringFlag{Name: "stage-registry", Value: matrix.DefaultStageRegistry, EnvVars: []string{"MATRIX_STAGE_REGISTRY"}, Usage: "registry where a dependency is staged for the components built FROM it"},
		&cli.BoolFlag{Name: "sizes", Usage: "measure each variant's size"},
		&cli.StringFlag{Name: "cache-repo", EnvVars: []string{"MATRIX_CACHE_REPO"}, Usage: "repository of cell keys, e.g. localhost:5000/ai-infra/matrix-cache: a cell whose key it holds is reused, not built"},
		&cli.StringFlag{Name: "revision", Usage: "the source revision built, a full commit hash (default: git rev-parse HEAD of the working directory, when it is a checkout)"},
		&cli.StringFlag{Name: "source-date-epoch", EnvVars: []string{"SOURCE_DATE_EPOCH"},
			Usage: "the source's time, seconds since 1970, for the created annotation (default: the revision's commit time)"},
	)
}

// only is flags without those not named.
func only(flags []cli.Flag, names ...string) []cli.Flag {
	return slices.DeleteFunc(flags, func(f cli.Flag) bool { return !slices.Contains(names, f.Names()[0]) })
}

// withDot is flags with plan's --format, which also takes dot.
func withDot(flags []cli.Flag) []cli.Flag {
	for i, f := range flags {
		if f.Names()[0] == "format" {
			flags[i] = &cli.StringFlag{Name: "format", Value: "table", Usage: "output: table, json or dot (a Graphviz graph)"}
		}
	}
	return flags
}

// options binds the flags of c into a run's options and checks the ones only
// the CLI has; matrix.New checks the rest, as for the module.
func options(c *cli.Context) (matrix.RunOptions, error) {
	o := matrix.RunOptions{
		Platforms:       matrix.Split(c.String("platforms")),
		Components:      matrix.Split(c.String("components")),
		Jobs:            c.Int("jobs"),
		FailFast:        c.Bool("fail-fast") || !c.Bool("keep-going"),
		Version:         c.String("version"),
		Sizes:           c.Bool("sizes"),
		StageRegistry:   c.String("stage-registry"),
		CacheRepo:       c.String("cache-repo"),
		Rebuild:         matrix.Split(c.String("rebuild")),
		StageReadBack:   true, // matrix runs on the host: it must reach the registry too
		MaxContext:      globalInt64(c, "max-context"),
		Lint:            globalString(c, "lint"),
		SourceDateEpoch: c.String("source-date-epoch"),
		Severity:        globalString(c, "severity"),
		Mirrors: map[string]string{
			"APT_MIRROR": globalString(c, "apt-mirror"), "GO_PROXY": globalString(c, "go-proxy"),
			"PYPI_INDEX_URL": globalString(c, "pypi-index-url"), "NPM_REGISTRY": globalString(c, "npm-registry"),
		},
	}
	if c.IsSet("fail-fast") && c.IsSet("keep-going") && c.Bool("fail-fast") && c.Bool("keep-going") {
		return o, class.BadInput.Errorf("--keep-going and --fail-fast exclude each other")
	}
	if f := c.String("format"); f != "table" && f != "json" && (f != "dot" || c.Command.Name != "plan") {
		return o, class.BadInput.Errorf("--format %q: use table or json (plan also takes dot)", f)
	}
	var err error
	if o.Engines, err = matrix.ParseEngines(globalSlice(c, "engine")); err != nil {
		return o, err
	}
	o.Revision = c.String("revision") // a build's default is the checkout's (see session)
	if o.BuildArgFiles, err = matrix.ReadArgFiles(globalSlice(c, "build-arg-file")); err != nil {
		return o, err
	}
	o.Secrets, err = matrix.ParseSecrets(globalSlice(c, "secret"))
	return o, err
}

// sourceDir is --source, or the working directory.
func sourceDir(c *cli.Context) string { return cmp.Or(globalString(c, "source"), ".") }

// tree binds --source, --components-dir and --components-path.
func tree(c *cli.Context) (component.Tree, error) {
	dir := ""
	if globalIsSet(c, "components-dir") {
		dir = globalString(c, "components-dir")
	}
	return matrix.LocalTree(globalString(c, "source"), dir, globalString(c, "components-path"))
}

// notify prints what a run waits for, and its warnings, on stderr.
func notify(c *cli.Context) func(string) {
	return func(msg string) { fmt.Fprintln(c.App.ErrWriter, "matrix:", msg) }
}

// prepare binds and checks the flags and reads the specs with newRun
// (matrix.New, or matrix.Inspect for a verb that builds nothing): bad input
// is refused here, before any engine work.
func prepare(c *cli.Context, newRun func(matrix.Options, component.Tree) (*matrix.Run, error), more ...func(*matrix.Options)) (*matrix.Run, error) {
	run, err := options(c)
	if err != nil {
		return nil, err
	}
	o := matrix.Options{Run: run, Notify: notify(c)}
	for _, f := range more {
		f(&o)
	}
	t, err := tree(c)
	if err != nil {
		return nil, err
	}
	return newRun(o, t)
}
