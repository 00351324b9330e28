package main

import (
	"fmt"
	"os"
	"strings"

	"dagger.io/dagger"
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show the cells a run would build (no engine needed)",
		Flags: runFlags(),
		Action: func(c *cli.Context) error {
			cfg, err := config(c)
			if err != nil {
				return err
			}
			p, err := matrix.Plan(cfg)
			if err != nil {
				return err
			}
			if c.String("format") == "json" {
				return p.JSON(c.App.Writer)
			}
			return p.Table(c.App.Writer)
		},
	}
}

func buildCommand(name, usage string) *cli.Command {
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Flags: runFlags(),
		Action: func(c *cli.Context) error {
			if name == "build" && c.String("components") == "" {
				return &matrix.BadInput{Err: fmt.Errorf("build needs --components (or use build-all)")}
			}
			cfg, dc, err := session(c)
			if err != nil {
				return err
			}
			defer dc.Close()
			_, res, err := matrix.BuildAll(c.Context, dc, cfg)
			if err != nil {
				return err
			}
			return finish(c, res.Report)
		},
	}
}

// session checks the flags and specs, then connects: bad input never starts engine work.
func session(c *cli.Context) (matrix.Config, *dagger.Client, error) {
	cfg, err := config(c)
	if err != nil {
		return cfg, nil, err
	}
	if _, err := matrix.Plan(cfg); err != nil {
		return cfg, nil, err
	}
	secrets, err := secretValues(c.StringSlice("secret"))
	if err != nil {
		return cfg, nil, err
	}
	dc, err := connect(c)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Secrets = map[string]*dagger.Secret{}
	for id, v := range secrets {
		cfg.Secrets[id] = dc.SetSecret(id, v)
	}
	return cfg, dc, nil
}

// secretValues reads id=env:VAR and id=file:PATH; values never reach a log.
func secretValues(specs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		id, src, ok := strings.Cut(s, "=")
		kind, ref, ok2 := strings.Cut(src, ":")
		if !ok || !ok2 || id == "" || ref == "" {
			return nil, &matrix.BadInput{Err: fmt.Errorf("--secret %q: use id=env:VAR or id=file:PATH", redact(s))}
		}
		switch kind {
		case "env":
			v, set := os.LookupEnv(ref)
			if !set {
				return nil, &matrix.BadInput{Err: fmt.Errorf("--secret %s: environment variable %s is not set", id, ref)}
			}
			out[id] = v
		case "file":
			b, err := os.ReadFile(ref)
			if err != nil {
				return nil, &matrix.BadInput{Err: fmt.Errorf("--secret %s: %v", id, err)}
			}
			out[id] = strings.TrimRight(string(b), "\n")
		default:
			return nil, &matrix.BadInput{Err: fmt.Errorf("--secret %s: source %q is not env or file", id, kind)}
		}
	}
	return out, nil
}

// redact keeps a malformed --secret from echoing a value typed inline.
func redact(s string) string {
	id, _, _ := strings.Cut(s, "=")
	return id + "=…"
}

// finish prints the report, writes it as JSON when asked, and turns a failed
// run into its exit code.
func finish(c *cli.Context, r *report.Report) error {
	if c.String("format") == "json" {
		if err := r.JSON(c.App.Writer); err != nil {
			return err
		}
	} else if err := r.Table(c.App.Writer); err != nil {
		return err
	}
	if path := c.String("report"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := r.JSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if code := r.ExitCode(); code != report.ExitOK {
		return fail(code, fmt.Errorf("%s", r.Summary()))
	}
	return nil
}
