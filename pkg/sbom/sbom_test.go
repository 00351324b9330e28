package sbom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOneSyftEverywhere: the syft release the world seeds, the third-party
// list mirrors and the module defaults to is SyftVersion, named once.
func TestOneSyftEverywhere(t *testing.T) {
	root := filepath.Join("..", "..")
	read := func(path string) string {
		b, err := os.ReadFile(filepath.Join(root, path))
		require.NoError(t, err)
		return string(b)
	}
	for _, tc := range []struct{ file, want string }{
		{"ci/world/lib.sh", "\nSYFT_VERSION=" + SyftVersion + "\n"},
		{"components/third-party.yaml", "source: " + DefaultImage + "\n"},
		{"ci/main.go", `+default="` + DefaultImage + `"`},
	} {
		assert.Contains(t, read(tc.file), tc.want, "%s names syft %s", tc.file, SyftVersion)
	}
	assert.True(t, strings.HasSuffix(DefaultImage, ":"+SyftVersion))
}

func TestDocumentImage(t *testing.T) {
	for _, tc := range []struct{ given, want string }{
		{"", DefaultImage},
		{"mirror.example.com/anchore/syft:v1.57.2@sha256:" + strings.Repeat("a", 64), "mirror.example.com/anchore/syft:v1.57.2@sha256:" + strings.Repeat("a", 64)},
		{FromSource, FromSource},
	} {
		assert.Equal(t, tc.want, Document{Image: tc.given}.image())
	}
}
