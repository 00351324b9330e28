package main

import (
	"io"

	"github.com/urfave/cli/v2"
)

// engineLog is where the engine's progress goes: stderr with --verbose.
func engineLog(c *cli.Context) io.Writer {
	if globalBool(c, "verbose") {
		return c.App.ErrWriter
	}
	return io.Discard
}
