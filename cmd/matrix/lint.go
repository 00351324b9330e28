package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

func lintCommand() *cli.Command {
	return &cli.Command{
		Name:  "lint",
		Usage: "find the Dockerfile patterns that waste emulation or ship the wrong architecture, before any build (no engine needed)",
		// The module's lint takes the same: which components, or a directory.
		Flags: append(only(selectFlags(), "components", "format"), &cli.StringFlag{Name: "dir", Usage: "lint every Dockerfile under this directory instead of the components"}),
		Action: func(c *cli.Context) error {
			var findings []lint.Finding
			var err error
			if dir := c.String("dir"); dir != "" {
				findings, err = matrix.LintDir(os.DirFS(dir), dir, globalString(c, "severity"))
			} else {
				var r *matrix.Run
				if r, err = prepare(c, matrix.Inspect); err != nil {
					return err
				}
				findings, err = r.Lint()
			}
			if class.Of(err) == class.BadInput {
				return err
			}
			if werr := lint.Write(c.App.Writer, findings, c.String("format")); werr != nil {
				return werr
			}
			return err
		},
	}
}
