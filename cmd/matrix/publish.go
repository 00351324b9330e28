package main

import (
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
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
	key, err := signKey(c)
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
	pw, err := password(c)
	return matrix.PushOptions{Registry: globalString(c, "registry"), Username: globalString(c, "username"), Password: pw}, err
}

// signKey reads --sign-key: a file, or env:VAR.
func signKey(c *cli.Context) (string, error) {
	v := globalString(c, "sign-key")
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		k, set := os.LookupEnv(name)
		if !set || k == "" {
			return "", class.BadInput.Errorf("--sign-key env:%s: %s is not set; export the PEM private key in it, or give a file", name, name)
		}
		return k, nil
	}
	if v == "" {
		return "", nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", class.BadInput.Errorf("--sign-key: %v; give the path of a PEM private key, or env:VAR", err)
	}
	return string(b), nil
}

// tagOptions binds tagFlags, for a run that moves final tags.
func tagOptions(c *cli.Context) func(*matrix.Options) {
	return func(o *matrix.Options) {
		o.Push.Mode = matrix.PushTagged
		o.Push.Tags, o.Push.Floating, o.Push.Checkout = c.StringSlice("tags"), c.StringSlice("floating"), cmp.Or(c.String("checkout"), sourceDir(c))
	}
}

func password(c *cli.Context) (string, error) {
	env, file := globalString(c, "password-env"), globalString(c, "password-file")
	switch {
	case env != "" && file != "":
		return "", class.BadInput.Errorf("--password-env and --password-file exclude each other")
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", class.BadInput.Errorf("--password-env: %s is not set", env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", class.BadInput.Errorf("--password-file: %v", err)
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	return "", nil
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
