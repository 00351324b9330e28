package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
)

// registryFlags are the flags of the host-side commands (mirror, import)
// beside the run-wide registry and credentials.
func registryFlags() []cli.Flag {
	return append([]cli.Flag{},
		&cli.StringSliceFlag{Name: "tags", Aliases: []string{"tag"}, Usage: "extra final tags, comma-separated or repeated, beside each image's own"},
		&cli.IntFlag{Name: "jobs", Value: mirror.DefaultJobs, Usage: "images read and pushed at once"},
		&cli.StringFlag{Name: "format", Value: "table", Usage: "output: table or json"},
	)
}

// target binds the registry flags of mirror and import: the push options.
func target(c *cli.Context) (matrix.PushOptions, error) {
	p, err := registryOptions(c)
	if err != nil {
		return p, err
	}
	if f := c.String("format"); f != "table" && f != "json" {
		return p, class.BadInput.Errorf("--format %q: use table or json", f)
	}
	if c.Int("jobs") < 1 {
		return p, class.BadInput.Errorf("--jobs %d: must be at least 1", c.Int("jobs"))
	}
	p.Tags, p.Jobs = c.StringSlice("tags"), c.Int("jobs")
	return p, nil
}

func mirrorCommand() *cli.Command {
	flags := append(registryFlags(),
		&cli.StringFlag{Name: "list", Value: mirror.DefaultFile, Usage: "the third-party images to mirror"},
		&cli.StringFlag{Name: "platforms", Value: strings.Join(matrix.DefaultPlatforms, ","), Usage: "comma-separated os/arch list every image must hold"},
		&cli.StringFlag{Name: "report", Usage: "also write the report as JSON to this file"},
		&cli.StringFlag{Name: "junit", Usage: "also write the report as JUnit XML to this file (one test case per cell)"},
	)
	return &cli.Command{
		Name: "mirror",
		Usage: "copy the third-party images (postgres, redis, ...) into --registry, each upstream index unchanged; " +
			"no final tag moves unless every image holds every platform (no engine needed)",
		Flags: flags,
		Action: func(c *cli.Context) error {
			t, err := target(c)
			if err != nil {
				return err
			}
			r, err := matrix.Mirror(c.Context, c.String("list"), matrix.Split(c.String("platforms")), t, "", notify(c))
			if r != nil {
				if ferr := finish(c, r, nil); ferr != nil {
					return ferr
				}
			}
			return err
		},
	}
}
