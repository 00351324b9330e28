package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
)

func publishCommand() *cli.Command {
	flags := append(runFlags(),
		&cli.StringFlag{Name: "registry", EnvVars: []string{"MATRIX_REGISTRY"}, Usage: "host[:port][/project] to publish to, e.g. harbor.example.com/ai-infra"},
		&cli.StringSliceFlag{Name: "tag", Usage: "final tag (repeatable; default: --version and latest)"},
		&cli.BoolFlag{Name: "arch-tags", Usage: "also tag each variant <tag>-<arch>"},
		&cli.StringFlag{Name: "username", EnvVars: []string{"MATRIX_REGISTRY_USERNAME"}, Usage: "registry user name"},
		&cli.StringFlag{Name: "password-env", Usage: "environment variable holding the registry password"},
		&cli.StringFlag{Name: "password-file", Usage: "file holding the registry password"},
	)
	return &cli.Command{
		Name:  "publish",
		Usage: "build and verify every cell, then publish one index per component; no final tag moves unless all succeed",
		Flags: flags,
		Action: func(c *cli.Context) error {
			t := publish.Target{Registry: strings.TrimSuffix(c.String("registry"), "/"), Tags: c.StringSlice("tag"), ArchTags: c.Bool("arch-tags"), Jobs: c.Int("jobs")}
			if len(t.Tags) == 0 {
				t.Tags = []string{c.String("version"), "latest"}
			}
			pw, err := password(c)
			if err != nil {
				return err
			}
			if err := t.Validate(); err != nil {
				return &matrix.BadInput{Err: err}
			}
			cfg, dc, err := session(c)
			if err != nil {
				return err
			}
			defer dc.Close()
			t.Auth = publish.Auth{Username: c.String("username"), Plaintext: pw}
			t.Notify = func(msg string) { fmt.Fprintln(c.App.ErrWriter, "matrix:", msg) }
			if pw != "" {
				t.Auth.Password = dc.SetSecret("matrix-registry-password", pw)
			}
			r, err := matrix.Publish(c.Context, dc, cfg, t)
			if err != nil {
				return err
			}
			return finish(c, r)
		},
	}
}

func password(c *cli.Context) (string, error) {
	switch {
	case c.String("password-env") != "" && c.String("password-file") != "":
		return "", &matrix.BadInput{Err: fmt.Errorf("--password-env and --password-file exclude each other")}
	case c.String("password-env") != "":
		v, ok := os.LookupEnv(c.String("password-env"))
		if !ok {
			return "", &matrix.BadInput{Err: fmt.Errorf("--password-env: %s is not set", c.String("password-env"))}
		}
		return v, nil
	case c.String("password-file") != "":
		b, err := os.ReadFile(c.String("password-file"))
		if err != nil {
			return "", &matrix.BadInput{Err: fmt.Errorf("--password-file: %v", err)}
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	return "", nil
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "build and verify every cell, then write one multi-platform OCI archive per component and SHA256SUMS",
		Flags: append(runFlags(), &cli.StringFlag{Name: "out", Value: "dist", Usage: "directory for the archives"}),
		Action: func(c *cli.Context) error {
			cfg, dc, err := session(c)
			if err != nil {
				return err
			}
			defer dc.Close()
			r, archives, err := matrix.Export(c.Context, dc, cfg, c.String("out"))
			if err != nil {
				return err
			}
			for _, a := range archives {
				fmt.Fprintf(c.App.ErrWriter, "wrote %s/%s (%s)\n", c.String("out"), a.Name, strings.Join(a.Platforms, ","))
			}
			return finish(c, r)
		},
	}
}
