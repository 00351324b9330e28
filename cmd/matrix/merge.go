package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

// mergeUses are the build flags merge reads: it plans the cells and writes
// the report, but builds nothing.
var mergeUses = []string{"platforms", "components", "version", "format", "report", "junit", "results", "revision"}

func mergeCommand() *cli.Command {
	flags := only(buildFlags(), mergeUses...)
	for i, f := range flags {
		if f.Names()[0] == "revision" { // merge builds nothing: no checkout's HEAD
			flags[i] = &cli.StringFlag{Name: "revision", Usage: "the revision the legs must be of (default: theirs)"}
		}
	}
	return &cli.Command{
		Name:      "merge",
		Usage:     "assemble one index per component from the results of build-all --push-by-digest legs, then move the final tags (no engine needed)",
		ArgsUsage: "RESULTS.json|DIR ...",
		Flags:     append(append(flags, attestFlags()...), tagFlags()...),
		Action: func(c *cli.Context) error {
			push, err := pushOptions(c)
			if err != nil {
				return err
			}
			legs, err := matrix.ReadLegs(c.Args().Slice()...)
			if err != nil {
				return err
			}
			r, err := prepare(c, matrix.New, push, tagOptions(c))
			if err != nil {
				return err
			}
			res, err := r.Merge(c.Context, legs)
			if res != nil {
				if ferr := finish(c, res.Report, nil); ferr != nil {
					return ferr
				}
			}
			return err
		},
	}
}
