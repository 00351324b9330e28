package main

import (
	"fmt"
	"os"
	"strings"

	"dagger.io/dagger"
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

func publishCommand() *cli.Command {
	flags := append(runFlags(),
		&cli.StringFlag{Name: "registry", EnvVars: []string{"MATRIX_REGISTRY"}, Usage: "host[:port][/project] to publish to, e.g. harbor.example.com/ai-infra"},
		&cli.StringSliceFlag{Name: "tags", Aliases: []string{"tag"}, Usage: "final tags, comma-separated or repeated (default: --version and latest)"},
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
			pw, err := password(c)
			if err != nil {
				return err
			}
			return session(c, matrix.VerbPublish, func(r *matrix.Run, dc *dagger.Client, src *dagger.Directory) (*matrix.Result, error) {
				return r.Publish(c.Context, dc, src)
			}, func(o *matrix.Options) {
				o.Registry, o.Tags, o.ArchTags = c.String("registry"), c.StringSlice("tags"), c.Bool("arch-tags")
				o.Username, o.Password = c.String("username"), pw
				o.Notify = func(msg string) { fmt.Fprintln(c.App.ErrWriter, "matrix:", msg) }
			})
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
		Flags: append(runFlags(), &cli.StringFlag{Name: "out", Value: "dist", Usage: "directory for the archives"},
			&cli.BoolFlag{Name: "no-third-party", Usage: "leave out the third-party images of components/third-party.yaml"}),
		Action: func(c *cli.Context) error {
			return session(c, matrix.VerbExport, func(r *matrix.Run, dc *dagger.Client, src *dagger.Directory) (*matrix.Result, error) {
				res, err := r.Export(c.Context, dc, src, c.String("out"))
				if res != nil {
					for _, a := range res.Archives {
						fmt.Fprintf(c.App.ErrWriter, "wrote %s/%s (%s)\n", c.String("out"), a.Name, strings.Join(a.Platforms, ","))
					}
					for _, e := range res.ThirdParty {
						fmt.Fprintf(c.App.ErrWriter, "wrote %s/%s (third-party %s, %s)\n", c.String("out"), e.File, e.Source, strings.Join(e.Platforms, ","))
					}
				}
				return res, err
			}, func(o *matrix.Options) { o.NoThirdParty = c.Bool("no-third-party") })
		},
	}
}
