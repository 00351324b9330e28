package archive_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
)

// TestTar: entries in name order under the prefix, with the modes given and
// no time of their own, so a tree touched again writes the same bytes.
func TestTar(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "b", "c"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(src, "b", "c", "f"), []byte("hello"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte("run"), 0o600))
	require.NoError(t, os.Symlink("b/c", filepath.Join(src, "l")))
	write := func() []byte {
		var buf bytes.Buffer
		w := archive.NewTar(&buf)
		require.NoError(t, w.DirMode("tmp", 0o1777))
		require.NoError(t, w.Tree(src, "usr/x", func(rel string) int64 {
			if rel == "a" {
				return 0o755
			}
			return 0o644
		}))
		require.NoError(t, w.Close())
		return buf.Bytes()
	}
	first := write()
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(src, "a"), later, later))
	assert.Equal(t, first, write(), "a new modification time changes nothing")

	type entry struct {
		name string
		kind byte
		mode int64
		link string
	}
	want := []entry{
		{"tmp/", tar.TypeDir, 0o1777, ""},
		{"usr/x/", tar.TypeDir, 0o755, ""},
		{"usr/x/a", tar.TypeReg, 0o755, ""},
		{"usr/x/b/", tar.TypeDir, 0o755, ""},
		{"usr/x/b/c/", tar.TypeDir, 0o755, ""},
		{"usr/x/b/c/f", tar.TypeReg, 0o644, ""},
		{"usr/x/l", tar.TypeSymlink, 0o777, "b/c"},
	}
	var got []entry
	r := tar.NewReader(bytes.NewReader(first))
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		assert.True(t, h.ModTime.Equal(time.Unix(0, 0)), "%s has no time of its own", h.Name)
		got = append(got, entry{h.Name, h.Typeflag, h.Mode, h.Linkname})
	}
	assert.Equal(t, want, got)
}
