package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// flagLine is a flag in help: its names, "value" where it takes one, then
// the usage. A word in backticks in a usage would stand where "value" is.
var flagLine = regexp.MustCompile(`^   --[a-z-]+( value)?(, --[a-z-]+( value)?)*( \[ [^]]+ \])? {2,}\S`)

// TestHelpRendersFlags: every flag of every command shows as name, value and
// usage, with at most one default.
func TestHelpRendersFlags(t *testing.T) {
	for _, cmd := range newApp(nil, nil).Commands {
		t.Run(cmd.Name, func(t *testing.T) {
			code, out, errw := runCLI(cmd.Name, "--help")
			assert.Equal(t, 0, code, errw)
			for _, line := range strings.Split(out, "\n") {
				if !strings.HasPrefix(line, "   --") || strings.HasPrefix(line, "   --help") {
					continue
				}
				assert.Regexp(t, flagLine, line)
				assert.LessOrEqual(t, strings.Count(line, "(default:"), 1, line)
			}
		})
	}
}
