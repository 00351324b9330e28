package system_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// designCard is the root the user's design card shows.
var designCard = []string{"README.md", "Taskfile.yml", "ci", "components", "dagger.json", "go.mod", "go.sum"}

// TestLayout: the root shows the design card plus at most four entries
// (dotfiles and git-ignored generated files aside), dagger.json includes the
// core with one pattern, and there is no root build/.
func TestLayout(t *testing.T) {
	root := enginetest.Root()
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var extra []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || slices.Contains(designCard, n) || slices.Contains([]string{"bin", "dist", "reports"}, n) {
			continue
		}
		extra = append(extra, n)
	}
	assert.LessOrEqual(t, len(extra), 4, "entries beside the design card: %v", extra)
	for _, n := range designCard {
		_, err := os.Stat(filepath.Join(root, n))
		assert.NoError(t, err, "the design card's %s is at the root", n)
	}
	assert.NoDirExists(t, filepath.Join(root, "build"), "common .gitignore templates ignore build/")

	b, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	require.NoError(t, err)
	var mod struct {
		Include []string `json:"include"`
	}
	require.NoError(t, json.Unmarshal(b, &mod))
	// The core is included with one pattern. What only tests and the
	// world's scripts read is left out: a change to them would otherwise
	// make every engine compile the module again (39 s to minutes).
	require.GreaterOrEqual(t, len(mod.Include), 3)
	assert.Equal(t, []string{"go.mod", "go.sum", "pkg/**"}, mod.Include[:3], "the core is included with one pattern")
	for _, p := range mod.Include[3:] {
		assert.True(t, strings.HasPrefix(p, "!"), "beyond the core, dagger.json only leaves things out: %s", p)
	}
	// Every package the module imports from the root module is under pkg/.
	src, err := os.ReadFile(filepath.Join(root, "ci", "main.go"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(src), "\n") {
		if i := strings.Index(line, `"github.com/ai-infra-matrix/matrix`); i >= 0 {
			assert.Contains(t, line, `"github.com/ai-infra-matrix/matrix/pkg/`, "the module imports the core from pkg/: %s", strings.TrimSpace(line))
		}
	}
}
