package main

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
)

func publishCommand() *cli.Command {
	flags := append(append(buildFlags(), attestFlags()...), tagFlags()...)
	flags = append(flags, &cli.BoolFlag{Name: "arch-tags", Usage: "also tag each variant <tag>-<arch>"})
	return &cli.Command{
		Name:  "publish",
		Usage: "build and verify every cell, then publish one index per component; no final tag moves unless all succeed",
		Flags: flags,
		Action: func(c *cli.Context) error {
			push, err := pushOptions(c)
			if err != nil {
				return err
			}
			return runOn(c, func(r *matrix.Run, engines []matrix.Engine) (*matrix.Result, error) {
				return r.PublishOn(c.Context, engines)
			}, push, tagOptions(c), func(o *matrix.Options) { o.Push.ArchTags = c.Bool("arch-tags") })
		},
	}
}

// attestFlags are the flags of every command that writes what it pushes
// as its own: publish, build-all --push-by-digest and merge (--sign-key and
// --syft-image are run-wide).
func attestFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-attest", Usage: "write no SBOM, provenance or signature referrers"},
	}
}

// tagFlags are the flags of every command that moves final tags.
func tagFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "tags", Aliases: []string{"tag"}, Usage: "final tags, comma-separated or repeated (default: --version and latest)"},
		&cli.StringSliceFlag{Name: "floating", Value: cli.NewStringSlice(publish.DefaultFloating...),
			Usage: "tags that move forward only: only when the revision descends from the one the tag carries (git merge-base --is-ancestor)"},
		&cli.StringFlag{Name: "checkout", Usage: "the git checkout floating tags check descent in (default: --source)"},
	}
}

// pushOptions binds pushFlags and attestFlags, reading the password and
// the signing key.
func pushOptions(c *cli.Context) (func(*matrix.Options), error) {
	push, err := registryOptions(c)
	if err != nil {
		return nil, err
	}
	key, err := matrix.ReadSignKey(globalString(c, "sign-key"))
	if err != nil {
		return nil, err
	}
	return func(o *matrix.Options) {
		o.Push = push
		o.Attest = matrix.AttestOptions{SignKey: key, NoAttest: c.Bool("no-attest"), SyftImage: globalString(c, "syft-image")}
	}, nil
}

// registryOptions binds pushFlags: where to push, as whom.
func registryOptions(c *cli.Context) (matrix.PushOptions, error) {
	pw, err := matrix.ReadPassword(globalString(c, "password-env"), globalString(c, "password-file"))
	return matrix.PushOptions{Registry: globalString(c, "registry"), Username: globalString(c, "username"), Password: pw}, err
}

// tagOptions binds tagFlags, for a run that moves final tags.
func tagOptions(c *cli.Context) func(*matrix.Options) {
	return func(o *matrix.Options) {
		o.Push.Mode = matrix.PushTagged
		o.Push.Tags, o.Push.Floating, o.Push.Checkout = c.StringSlice("tags"), c.StringSlice("floating"), cmp.Or(c.String("checkout"), sourceDir(c))
	}
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "build and verify every cell, then write one multi-platform OCI archive per component and SHA256SUMS",
		Flags: append(buildFlags(), &cli.StringFlag{Name: "out", Value: "dist", Usage: "directory for the archives"},
			&cli.BoolFlag{Name: "no-third-party", Usage: "leave out the third-party images of components/third-party.yaml"}),
		Action: func(c *cli.Context) error {
			if err := matrix.OneEngine(len(globalSlice(c, "engine"))); err != nil {
				return err
			}
			return runOn(c, func(r *matrix.Run, engines []matrix.Engine) (*matrix.Result, error) {
				res, err := r.Export(c.Context, engines[0].Client, engines[0].Src, c.String("out"))
				if res != nil {
					for _, a := range res.Archives {
						fmt.Fprintf(c.App.ErrWriter, "wrote %s/%s (%s)\n", c.String("out"), a.Name, strings.Join(a.Platforms, ","))
					}
					for _, e := range res.ThirdParty {
						fmt.Fprintf(c.App.ErrWriter, "wrote %s/%s (third-party %s, %s)\n", c.String("out"), e.File, e.Source, strings.Join(e.Platforms, ","))
					}
				}
				return res, err
			}, func(o *matrix.Options) { o.Run.NoThirdParty = c.Bool("no-third-party") })
		},
	}
}
