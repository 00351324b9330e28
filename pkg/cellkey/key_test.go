package cellkey

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func cell() Cell {
	return Cell{Platform: "linux/amd64", Engine: "v0.21.8", Dockerfile: "Dockerfile",
		Digests: Digests{Dockerfile: "sha256:d1", Context: "sha256:c1"},
		Args:    []Arg{{Name: "BUILDPLATFORM", Value: "linux/amd64"}, {Name: "VERSION", Value: "v1"}},
		Secrets: []string{"pip-token"}, Bases: []Base{{Ref: "debian:bookworm-slim linux/amd64", Digest: "sha256:b1"}},
		Deps: []Arg{{Name: "jupyterhub", Value: "sha256:k1"}}}
}

// TestKeyChangesWithEachInput: the same inputs give the same key, and each
// input changed alone gives another.
func TestKeyChangesWithEachInput(t *testing.T) {
	base := cell().Inputs().Key()
	for _, tc := range []struct {
		name    string
		change  func(*Cell)
		changed bool
	}{
		{"same inputs", func(*Cell) {}, false},
		{"args in another order", func(c *Cell) { c.Args[0], c.Args[1] = c.Args[1], c.Args[0] }, false},
		{"platform", func(c *Cell) { c.Platform = "linux/arm64" }, true},
		{"engine version", func(c *Cell) { c.Engine = "v0.21.9" }, true},
		{"Dockerfile", func(c *Cell) { c.Digests.Dockerfile = "sha256:d2" }, true},
		{"Dockerfile path", func(c *Cell) { c.Dockerfile = "other.Dockerfile" }, true},
		{"target", func(c *Cell) { c.Target = "runtime" }, true},
		{"context", func(c *Cell) { c.Digests.Context = "sha256:c2" }, true},
		{"build arg value", func(c *Cell) { c.Args[1].Value = "v2" }, true},
		{"BUILDPLATFORM", func(c *Cell) { c.Args[0].Value = "linux/arm64" }, true},
		{"build arg added", func(c *Cell) { c.Args = append(c.Args, Arg{Name: "APT_MIRROR", Value: "http://m"}) }, true},
		{"secret id", func(c *Cell) { c.Secrets = []string{"npm-token"} }, true},
		{"base digest", func(c *Cell) { c.Bases[0].Digest = "sha256:b2" }, true},
		{"dependency key", func(c *Cell) { c.Deps[0].Value = "sha256:k2" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cell()
			tc.change(&c)
			if tc.changed {
				assert.NotEqual(t, base, c.Inputs().Key())
			} else {
				assert.Equal(t, base, c.Inputs().Key())
			}
		})
	}
}

// TestInputsHoldNoSecretValue: a secret is named by its id only, and a
// password in a mirror's URL is masked.
func TestInputsHoldNoSecretValue(t *testing.T) {
	c := cell()
	c.Args = append(c.Args, Arg{Name: "APT_MIRROR", Value: "http://ci:hunter2@mirror.example/debian"})
	lines := c.Inputs().Lines()
	assert.Contains(t, lines, "secret:pip-token=id")
	assert.Contains(t, lines, "arg:APT_MIRROR=http://ci:***@mirror.example/debian")
	assert.NotContains(t, strings.Join(lines, "\n"), "hunter2")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, c.Inputs().Key())
}
