package main

import (
	"cmp"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name: "init",
		Usage: "adopt a tree a build script built: write matrix.yaml, and component.yaml and third-party.yaml where its conventions " +
			"need them, then show the plan of it (no engine needed)",
		ArgsUsage: "[DIR]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "components-path", Usage: "the components directory inside DIR, e.g. src", DefaultText: "the folder whose folders hold the most Dockerfiles"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite files init writes that are already there and differ"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return class.BadInput.Errorf("init takes one directory, the tree to adopt: matrix init [DIR]")
			}
			dir := cmp.Or(c.Args().First(), ".")
			res, err := matrix.Init(os.DirFS(dir), dir, globalString(c, "components-path"), c.Bool("force"), func(p string, data []byte) error {
				return os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), data, 0o644)
			})
			if res != nil && res.Changes != nil {
				if rerr := res.Report(c.App.Writer); rerr != nil {
					return rerr
				}
			}
			return err
		},
	}
}
