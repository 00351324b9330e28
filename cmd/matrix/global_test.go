package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGlobalFlags: a run-wide flag goes before the verb, crane-style, and
// is still taken after it; both give the same run, and a verb's help lists
// only its own flags.
func TestGlobalFlags(t *testing.T) {
	dir := fixture(t, map[string]string{"backend": "", "gitea": "platforms: [linux/amd64]\n"})
	src := t.TempDir()
	t.Setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "unix:///nonexistent/engine.sock")
	for _, tc := range []struct {
		name   string
		before []string // global flags before the verb
		verb   []string
		after  []string // the same flags after the verb
		code   int
		want   string
	}{
		{"the tree", []string{"--components-dir", dir}, []string{"plan", "--format", "json"}, []string{"--components-dir", dir}, 0, `"component": "gitea"`},
		{"a bad global flag names itself", []string{"--components-dir", dir, "--secret", "nope"}, []string{"plan"}, []string{"--components-dir", dir, "--secret", "nope"},
			2, `--secret "nope=…": use id=env:VAR or id=file:PATH`},
		{"two flags of the tree", []string{"--source", src, "--components-dir", dir}, []string{"plan"}, []string{"--source", src, "--components-dir", dir},
			2, "is not inside --source " + src + "; name it inside --source with --components-path"},
		{"the registry of a verb that pushes", []string{"--components-dir", dir, "--registry", "https://harbor.example.com"}, []string{"publish"},
			[]string{"--components-dir", dir, "--registry", "https://harbor.example.com"}, 2, `registry "https://harbor.example.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errw := runCLI(append(append([]string{}, tc.before...), tc.verb...)...)
			assert.Equal(t, tc.code, code, errw)
			assert.Contains(t, out+errw, tc.want, "before the verb")
			code2, out2, errw2 := runCLI(append(append([]string{}, tc.verb...), tc.after...)...)
			assert.Equal(t, tc.code, code2, errw2)
			assert.Equal(t, out, out2, "the same output, the flags given after the verb")
			assert.Equal(t, errw, errw2)
		})
	}

	code, out, _ := runCLI("plan", "--help")
	require.Equal(t, 0, code)
	for _, own := range []string{"--platforms", "--components", "--version", "--rebuild", "--format"} {
		assert.Contains(t, out, own)
	}
	for _, global := range []string{"--components-dir", "--registry", "--secret", "--apt-mirror", "--jobs", "--sign-key"} {
		assert.NotContains(t, out, global, "plan --help lists its own flags only")
	}
	code, out, _ = runCLI("--help")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "GLOBAL OPTIONS:")
	assert.Contains(t, out, "--components-dir")
}
