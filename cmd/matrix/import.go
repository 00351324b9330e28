package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "check an offline bundle (SHA256SUMS, bundle.json) and push every archive into --registry; no final tag moves unless all are in (no engine needed)",
		ArgsUsage: "DIR",
		Flags:     registryFlags(),
		Action: func(c *cli.Context) error {
			dir, err := bundleDir(c)
			if err != nil {
				return err
			}
			t, err := target(c)
			if err != nil {
				return err
			}
			res, err := matrix.Import(c.Context, bundle.Dir{Path: dir}, t, notify(c))
			if res != nil {
				if werr := printImport(c, res); werr != nil {
					return werr
				}
			}
			return err
		},
	}
}

// bundleDir is the one argument, DIR. Flags may follow it (matrix import
// dist --registry ...): the flag parser stops at DIR, so they are read here.
func bundleDir(c *cli.Context) (string, error) {
	args := c.Args().Slice()
	if len(args) == 0 {
		return "", class.BadInput.Errorf("import needs the bundle directory: matrix import DIR --registry host[:port][/project]")
	}
	for i := 1; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") {
			return "", class.BadInput.Errorf("import takes one directory, not also %q", args[i])
		}
		name, value, ok := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !ok && i+1 < len(args) {
			i++
			value, ok = args[i], true
		}
		if !ok {
			return "", class.BadInput.Errorf("flag needs an argument: -%s", name)
		}
		if err := c.Set(name, value); err != nil {
			return "", class.BadInput.Errorf("flag provided but not defined: -%s", name)
		}
	}
	return args[0], nil
}

// printImport shows what the import wrote and what was already there.
func printImport(c *cli.Context, res *bundle.Result) error {
	if c.String("format") == "json" {
		return writeJSON(c.App.Writer, res)
	}
	return res.Table(c.App.Writer)
}
