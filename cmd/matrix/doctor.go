package main

import (
	"cmp"
	"context"
	"strings"

	"dagger.io/dagger"
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/doctor"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/session"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the engine, emulation for each platform, the registry and disk space, each with a fix",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "platforms", Value: strings.Join(matrix.DefaultPlatforms, ","), Usage: "comma-separated os/arch list, each checked for emulation"},
			&cli.StringFlag{Name: "disk", Value: "/", Usage: "path whose free space to check"},
		},
		Action: func(c *cli.Context) error {
			platforms, err := component.ParsePlatforms(c.String("platforms"))
			if err != nil {
				return class.BadInput.Errorf("--platforms: %w", err)
			}
			return doctor.Run(c.Context, c.App.Writer, doctor.Options{
				Platforms: platforms, Disk: c.String("disk"),
				Registry: cmp.Or(globalString(c, "registry"), matrix.DefaultStageRegistry), // the world's registry unless --registry names one
				Open:     func(ctx context.Context) (*dagger.Client, error) { return session.Open(ctx, "", engineLog(c)) },
			})
		},
	}
}
