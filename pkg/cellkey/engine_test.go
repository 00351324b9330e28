//go:build engine

package cellkey_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/cellkey"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// pushBase pushes a random linux/amd64 image to ref: a base tag that moves.
func pushBase(t *testing.T, ref string) {
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	require.NoError(t, remote.Write(enginetest.Ref(t, ref).(name.Tag), img))
}

// TestResolveEngineRegistry: the key of a cell resolved on the real engine
// is the same for the same inputs, also when only a modification time or a
// .dockerignored file changed (the Dockerfile's own .dockerignore first, !
// exceptions kept, as DockerBuild reads them), and changes with each input alone,
// including a base tag moved in the registry.
func TestResolveEngineRegistry(t *testing.T) {
	registry := enginetest.Registry(t)
	ctx := enginetest.Context(t)
	baseRef := registry + "/" + enginetest.Unique("cellkey") + "/base:1"
	pushBase(t, baseRef)
	dir := enginetest.Components(t, map[string]map[string]string{"app": {
		"Dockerfile":    "FROM " + baseRef + "\nCOPY app.txt /\n",
		"app.txt":       "one\n",
		"notes.md":      "ignored\n",
		".dockerignore": "*.md\n",
	}})
	app := filepath.Join(dir, "app")
	write := func(file, content string) func() {
		return func() { require.NoError(t, os.WriteFile(filepath.Join(app, file), []byte(content), 0o644)) }
	}
	// A session per key, as each run has: one session reads a host
	// directory and resolves a tag once.
	key := func(s cellkey.Source) string {
		c := enginetest.Connect(t)
		s.Dir = c.Host().Directory(app)
		cell, err := cellkey.Resolve(ctx, c, "v0.21.8", s)
		require.NoError(t, err)
		return cell.Inputs().Key()
	}
	src := cellkey.Source{Platform: "linux/amd64", Args: []cellkey.Arg{{Name: "BUILDPLATFORM", Value: "linux/amd64"}}, Secrets: []string{"pip-token"}}

	for _, tc := range []struct {
		name    string
		change  func()                // on the files
		source  func(*cellkey.Source) // on the build
		changed bool
	}{
		{name: "same inputs"},
		{name: "modification time only", change: func() {
			later := time.Now().Add(time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(app, "app.txt"), later, later))
		}},
		{name: "a .dockerignored file", change: write("notes.md", "changed\n")},
		{name: "a ! exception", change: write(".dockerignore", "*.md\n!keep.md\n"), changed: true},
		{name: "a file a ! exception keeps", change: write("keep.md", "kept\n"), changed: true},
		{name: "the Dockerfile's own .dockerignore", change: write("Dockerfile.dockerignore", "*.md\n!keep.md\nlocal.txt\n"), changed: true},
		{name: "a file only the Dockerfile's .dockerignore drops", change: write("local.txt", "dropped\n")},
		{name: "a context file", change: write("app.txt", "two\n"), changed: true},
		{name: "the Dockerfile", change: write("Dockerfile", "FROM "+baseRef+"\nCOPY app.txt /app/\n"), changed: true},
		{name: "a build arg", source: func(s *cellkey.Source) { s.Args = append(s.Args, cellkey.Arg{Name: "APT_MIRROR", Value: "http://m"}) }, changed: true},
		{name: "BUILDPLATFORM", source: func(s *cellkey.Source) { s.Args = []cellkey.Arg{{Name: "BUILDPLATFORM", Value: "linux/arm64"}} }, changed: true},
		{name: "a secret id", source: func(s *cellkey.Source) { s.Secrets = []string{"npm-token"} }, changed: true},
		{name: "a dependency's key", source: func(s *cellkey.Source) { s.Deps = []cellkey.Arg{{Name: "base", Value: "sha256:1"}} }, changed: true},
		{name: "the platform", source: func(s *cellkey.Source) { s.Platform = "linux/arm64" }, changed: true},
		{name: "the base tag moved", change: func() { pushBase(t, baseRef) }, changed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := key(src)
			if tc.change != nil {
				tc.change()
			}
			s := src
			if tc.source != nil {
				tc.source(&s)
			}
			after := key(s)
			if tc.changed {
				assert.NotEqual(t, before, after)
			} else {
				assert.Equal(t, before, after)
			}
		})
	}
}
