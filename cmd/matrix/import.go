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
		ArgsUsage: "[DIR]",
		Flags:     append(registryFlags(), &cli.StringFlag{Name: "bundle", Usage: "the bundle directory (export's --out), or give it as DIR"}),
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

// bundleDir is --bundle, or DIR, the one argument. Flags go before DIR:
// the flag parser stops at the first argument.
func bundleDir(c *cli.Context) (string, error) {
	args := c.Args().Slice()
	switch {
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return "", class.BadInput.Errorf("import: %s after DIR: give the flags before it, matrix import --registry HOST %s, or use --bundle %s", args[1], args[0], args[0])
	case len(args) > 1:
		return "", class.BadInput.Errorf("import takes one directory, not also %q", args[1])
	case len(args) == 1 && c.IsSet("bundle"):
		return "", class.BadInput.Errorf("import: --bundle %s and DIR %s: give the bundle directory once", c.String("bundle"), args[0])
	case len(args) == 1:
		return args[0], nil
	case c.IsSet("bundle"):
		return c.String("bundle"), nil
	}
	return "", class.BadInput.Errorf("import needs the bundle directory: matrix import --bundle DIR (or matrix import DIR), with --registry host[:port][/project]")
}

// printImport shows what the import wrote and what was already there.
func printImport(c *cli.Context, res *bundle.Result) error {
	if c.String("format") == "json" {
		return writeJSON(c.App.Writer, res)
	}
	return res.Table(c.App.Writer)
}
