package system_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeLines is how long the README may grow: a newcomer reads it whole,
// and the rest lives in docs/.
const readmeLines = 170

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
)

// anchor is the id GitHub gives a heading: lower case, spaces as hyphens,
// other punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinks: the README is short, links every page of docs/, and every
// link of the README and of docs/ to a file of the checkout (and a heading
// in it) resolves.
func TestDocsLinks(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.LessOrEqual(t, strings.Count(string(readme), "\n"), readmeLines, "README.md stays short: move detail to docs/")
	for _, page := range pages {
		assert.Contains(t, string(readme), "]("+page+")", "README.md links %s", page)
	}
	for _, file := range append([]string{"README.md"}, pages...) {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			if path == "" {
				path = file
			} else {
				path = filepath.Join(filepath.Dir(file), path)
			}
			assert.False(t, strings.HasPrefix(path, ".."), "%s: %s is outside the checkout", file, target)
			dest, err := os.ReadFile(path)
			if !assert.NoError(t, err, "%s links %s", file, target) || frag == "" {
				continue
			}
			var ids []string
			for _, h := range mdHeading.FindAllStringSubmatch(string(dest), -1) {
				ids = append(ids, anchor(h[1]))
			}
			assert.Contains(t, ids, frag, "%s links %s: %s has no such heading", file, target, path)
		}
	}
}
