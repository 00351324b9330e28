package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

func renderCommand() *cli.Command {
	return &cli.Command{
		Name:      "render",
		Usage:     "draw the HTML page of an earlier JSON report (--report); with --previous, mark what changed since that run",
		ArgsUsage: "REPORT.json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "html", Usage: "the page to write"},
			&cli.StringFlag{Name: "previous", Usage: "an earlier JSON report: cells that got slower, or were rebuilt where they were reused"},
		},
		Action: func(c *cli.Context) error {
			out := c.String("html")
			if c.NArg() != 1 || out == "" {
				return class.BadInput.Errorf("render needs --html FILE and one report: matrix render --html report.html reports/build-all.json")
			}
			data, err := os.ReadFile(c.Args().First())
			if err != nil {
				return class.BadInput.Errorf("reading the report: %w; give the JSON a run wrote with --report", err)
			}
			var prev []byte
			if path := c.String("previous"); path != "" {
				if prev, err = os.ReadFile(path); err != nil {
					return class.BadInput.Errorf("--previous: %w; give the JSON an earlier run wrote with --report", err)
				}
			}
			// Drawn in memory first: input that is not a report leaves --html as it was.
			var page bytes.Buffer
			if err := matrix.Render(&page, data, c.Args().First(), prev, "--previous "+c.String("previous")); err != nil {
				return err
			}
			if err := os.WriteFile(out, page.Bytes(), 0o644); err != nil {
				return fmt.Errorf("--html: %w", err)
			}
			fmt.Fprintf(c.App.ErrWriter, "matrix: wrote %s (%d bytes)\n", out, page.Len())
			return nil
		},
	}
}
