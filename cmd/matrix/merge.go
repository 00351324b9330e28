package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "assemble one index per component from the results of build-all --push-by-digest legs, then move the final tags (no engine needed)",
		ArgsUsage: "RESULTS.json|DIR ...",
		Flags:     append(append(runFlags(), pushFlags()...), tagFlags()...),
		Action: func(c *cli.Context) error {
			pw, err := password(c)
			if err != nil {
				return err
			}
			legs, err := readLegs(c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := prepare(c, matrix.VerbMerge, registryOptions(c, pw), tagOptions(c), func(o *matrix.Options) {
				o.Notify = func(msg string) { fmt.Fprintln(c.App.ErrWriter, "matrix:", msg) }
			})
			if err != nil {
				return err
			}
			res, err := r.Merge(c.Context, legs)
			if res != nil {
				if ferr := finish(c, res.Report); ferr != nil {
					return ferr
				}
			}
			return err
		},
	}
}

// readLegs reads each results file named, or every *.json in a directory
// named, keyed by path.
func readLegs(args []string) (map[string]report.Results, error) {
	if len(args) == 0 {
		return nil, &matrix.BadInput{Err: fmt.Errorf("merge: give the results files of the legs, e.g. matrix merge results/*.json --registry ... --tags ...")}
	}
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, &matrix.BadInput{Err: fmt.Errorf("merge: %v", err)}
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, "*.json"))
		if len(found) == 0 {
			return nil, &matrix.BadInput{Err: fmt.Errorf("merge: %s holds no *.json results file", a)}
		}
		paths = append(paths, found...)
	}
	sort.Strings(paths)
	out := map[string]report.Results{}
	for _, p := range paths {
		res, err := report.ReadResults(p)
		if err != nil {
			return nil, &matrix.BadInput{Err: fmt.Errorf("merge: %w", err)}
		}
		out[p] = res
	}
	return out, nil
}
