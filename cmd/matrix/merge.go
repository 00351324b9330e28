package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "assemble one index per component from the results of build-all --push-by-digest legs, then move the final tags (no engine needed)",
		ArgsUsage: "RESULTS.json|DIR ...",
		Flags:     append(append(buildFlags(), attestFlags()...), tagFlags()...),
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
