package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/cli.md from the CLI")

// cliReference is docs/cli.md: the CLI's own help, rendered by urfave/cli as
// Markdown, under a line saying so.
func cliReference(t *testing.T) string {
	md, err := newApp(nil, nil).ToMarkdown()
	require.NoError(t, err)
	return "<!-- Generated from cmd/matrix by `task docs:cli`; do not edit. -->\n\n" + md
}

// TestCLIReference: docs/cli.md is what the CLI renders. After a change to a
// command or flag, `task docs:cli` writes it again.
func TestCLIReference(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "cli.md")
	got := cliReference(t)
	if *updateDocs {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "docs/cli.md: run task docs:cli")
	assert.Equal(t, string(want), got, "docs/cli.md is not what the CLI renders: run task docs:cli")
}
