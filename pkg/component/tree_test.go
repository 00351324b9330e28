package component

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repo copies the fixture repository (test/testdata/repo: components in
// src/, the context the repository root) into a new directory, changes it
// with edits (path → content; "" removes the file) and returns its path.
func repo(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../test/testdata/repo")))
	for p, content := range edits {
		p = filepath.Join(dir, p)
		if content == "" {
			require.NoError(t, os.Remove(p))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func loadRepo(t *testing.T, dir string) (*Set, error) {
	return Load(Tree{FS: os.DirFS(dir), Where: dir, Components: "src"})
}

// named is the image of set named name.
func named(t *testing.T, set *Set, name string) Spec {
	t.Helper()
	for _, c := range set.Specs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no image %s", name)
	return Spec{}
}

// TestLoadRepo: the fixture repository reads as three components sharing
// the repository root as their context, each Dockerfile named inside it,
// one of them (api) giving two images by target; the folders that are not
// components are notes (a dependency.conf one names its image), and the
// ignored one is not even that.
func TestLoadRepo(t *testing.T) {
	dir := repo(t, nil)
	set, err := loadRepo(t, dir)
	require.NoError(t, err)
	assert.True(t, set.Shared())
	assert.Equal(t, ".", set.Upload, "the context is the tree's root")
	require.Len(t, set.Specs, 6)
	for i, want := range []struct{ name, folder, image, target string }{
		{"api/api", "api", "fixture-repo-api", "api"},
		{"api/api-init", "api", "fixture-repo-api-init", "api-init"},
		{"backend", "backend", "fixture-repo-backend", ""},
		{"consumer", "consumer", "fixture-repo-consumer", ""},
		{"frontend", "frontend", "fixture-repo-frontend", ""},
		{"hub", "hub", "fixture-repo-hub", ""},
	} {
		c := set.Specs[i]
		assert.Equal(t, want.name, c.Name)
		assert.Equal(t, want.image, c.Image)
		assert.Equal(t, want.target, c.Target)
		assert.Equal(t, filepath.Join(dir, "src", want.folder), c.Dir)
		assert.Equal(t, ".", c.Context)
		assert.Equal(t, "src/"+want.folder+"/Dockerfile", c.ContextDockerfile)
		assert.Empty(t, c.Lint, "%s lints clean", want.name)
	}
	require.Len(t, set.Notes, 2)
	assert.Contains(t, set.Notes[0], filepath.Join(dir, "src/kafka")+": not a component: it holds only dependency.conf")
	assert.Contains(t, set.Notes[0], "docker.io/confluentinc/cp-kafka:7.5.0")
	assert.Contains(t, set.Notes[0], "third-party.yaml")
	assert.Contains(t, set.Notes[1], filepath.Join(dir, "src/safeline")+": not a component")
	assert.Contains(t, set.Notes[1], "ignore:")
}

// TestContextDockerignore: each cell's context after the .dockerignore
// BuildKit and Dagger would apply: the frontend's Dockerfile.dockerignore
// instead of the root one; for the backend, **/*.tmp drops cache.tmp, and
// its ! exception keeps keep.tmp.
func TestContextDockerignore(t *testing.T) {
	dir := repo(t, map[string]string{"src/backend/deep/er/x.tmp": "x", ".git/HEAD": "ref: refs/heads/main\n"})
	set, err := loadRepo(t, dir)
	require.NoError(t, err)
	kept := func(ctx *Context) []string {
		var out []string
		for _, e := range ctx.kept {
			if !e.dir {
				out = append(out, e.path)
			}
		}
		return out
	}
	back, err := set.Context(named(t, set, "backend"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, ".dockerignore"), back.Ignore)
	files := kept(back)
	assert.Contains(t, files, "src/backend/keep.tmp", "! exception")
	assert.NotContains(t, files, "src/backend/cache.tmp", "**/*.tmp")
	assert.NotContains(t, files, "src/backend/deep/er/x.tmp", "** spans directories")
	assert.NotContains(t, files, ".env", "the passwords never reach the engine's context")
	assert.NotContains(t, files, ".git/HEAD")
	assert.Contains(t, files, "third_party/tool/tool.bin")

	front, err := set.Context(named(t, set, "frontend"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "src/frontend/Dockerfile.dockerignore"), front.Ignore, "the Dockerfile's own first")
	assert.NotContains(t, kept(front), "third_party/tool/tool.bin")
	assert.Contains(t, kept(front), "src/backend/cache.tmp", "the root .dockerignore does not apply to it")
	assert.Less(t, front.Bytes, back.Bytes)
}

// TestCheckSources: a COPY or ADD source must be in the context after the
// .dockerignore, checked before any build, naming Dockerfile:line, the
// path and the fix; globs need one match; variables with a value are
// expanded, those without are left to the build.
func TestCheckSources(t *testing.T) {
	const base = "FROM debian:bookworm-slim\n"
	for _, tc := range []struct {
		name, dockerfile string
		edits            map[string]string
		args             map[string]string
		want             []string // empty: no error
	}{
		{"present", base + "COPY src/backend/app.txt third_party/ /x/\n", nil, nil, nil},
		{"missing file", base + "COPY src/backend/ssl/ /etc/ssl/\n", nil, nil,
			[]string{"src/backend/Dockerfile:2", "COPY src/backend/ssl/", "no such file or directory in the build context", "create it before the build"}},
		{"missing after removal", base + "COPY third_party/tool/tool.bin /x\n", map[string]string{"third_party/tool/tool.bin": ""}, nil,
			[]string{"Dockerfile:2", "third_party/tool/tool.bin"}},
		{"dropped by .dockerignore", base + "COPY src/backend/cache.tmp /x\n", nil, nil,
			[]string{"Dockerfile:2", "excluded from the build context", ".dockerignore", "!src/backend/cache.tmp"}},
		{"glob matches", base + "COPY third_party/tool/*.bin /x/\n", nil, nil, nil},
		{"glob matches nothing", base + "COPY third_party/*.deb /x/\n", nil, nil, []string{"COPY third_party/*.deb: matches no file"}},
		{"ADD missing", base + "ADD src/backend/pkg.tar.gz /x/\n", nil, nil, []string{"ADD src/backend/pkg.tar.gz"}},
		{"ADD URL not checked", base + "ADD https://example.com/a.tgz /x/\n", nil, nil, nil},
		{"COPY --from not checked", "FROM debian:bookworm-slim AS b\nFROM b\nCOPY --from=b /nope /x\n", nil, nil, nil},
		{"unused stage not checked", "FROM debian:bookworm-slim AS other\nCOPY nope /x\nFROM debian:bookworm-slim\n", nil, nil, nil},
		{"stage built FROM is checked", "FROM debian:bookworm-slim AS b\nCOPY nope /x\nFROM b\n", nil, nil, []string{"Dockerfile:2", "COPY nope"}},
		{"arg default expanded", base + "ARG DIR=ssl\nCOPY src/backend/${DIR} /x\n", nil, nil, []string{"Dockerfile:3", "COPY src/backend/ssl"}},
		{"arg given expanded", base + "ARG DIR=ssl\nCOPY src/backend/${DIR} /x\n", nil, map[string]string{"DIR": "app.txt"}, nil},
		{"arg without value left to the build", base + "ARG DIR\nCOPY src/${DIR}/x /x\n", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edits := map[string]string{"src/backend/Dockerfile": tc.dockerfile}
			for k, v := range tc.edits {
				edits[k] = v
			}
			set, err := loadRepo(t, repo(t, edits))
			require.NoError(t, err)
			_, err = set.Check(named(t, set, "backend"), 0, tc.args)
			if len(tc.want) == 0 {
				assert.NoError(t, err)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestConfigRejects: matrix.yaml is decoded strictly, and its context must
// hold the components directory inside the tree given to matrix.
func TestConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, field, problem string
	}{
		{"unknown key", "contxt: ..\n", "contxt", "unknown key"},
		{"context wrong type", "context: [..]\n", "context", "wrong type"},
		{"context outside the tree", "context: ../..\n", "context", "leaves"},
		{"context absolute", "context: /\n", "context", "not a relative path"},
		{"context beside the components", "context: ../third_party\n", "context", "does not hold the components directory"},
		{"ignore wrong type", "ignore: shared\n", "ignore", "wrong type"},
		{"ignore a path", "ignore: [a/b]\n", "ignore[0]", "not a folder name"},
		{"ignore nothing there", "ignore: [shared, nope]\n", "ignore[1]", "no folder nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := repo(t, map[string]string{"src/matrix.yaml": tc.yaml})
			_, err := loadRepo(t, dir)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, filepath.Join(dir, "src", ConfigFile), e.File)
			assert.Equal(t, tc.field, e.Field)
			assert.Contains(t, e.Problem, tc.problem)
			assert.NotEmpty(t, e.Fix)
		})
	}
}

// TestNotComponents: a folder without Dockerfile or component.yaml is a
// note, never fatal (the real tree's kafka/ once stopped the plan with a
// message naming a component.yaml that does not exist); a component.yaml
// without its Dockerfile is still bad input, and without a component.yaml
// a missing Dockerfile is not blamed on one.
func TestNotComponents(t *testing.T) {
	set, err := loadRepo(t, repo(t, map[string]string{"src/matrix.yaml": "context: ..\n"}))
	require.NoError(t, err, "kafka/, safeline/ and shared/ are notes")
	assert.Len(t, set.Notes, 3)

	dir := repo(t, map[string]string{"src/kafka/component.yaml": "smoke: [true]\n"})
	_, err = loadRepo(t, dir)
	assert.ErrorContains(t, err, filepath.Join(dir, "src/kafka/Dockerfile")+": no such file or directory")
	assert.ErrorContains(t, err, "name another with dockerfile: in")

	dir = repo(t, map[string]string{"src/kafka/component.yaml": "dockerfile: Dockerfile.kafka\n"})
	_, err = loadRepo(t, dir)
	assert.ErrorContains(t, err, filepath.Join(dir, "src/kafka/component.yaml")+": field dockerfile: Dockerfile.kafka")
}

// TestExcluded: what every cell's .dockerignore drops is left out of the
// upload, as literal patterns, a directory as a whole; the Dockerfiles and
// their .dockerignore files stay even when dropped, for Dagger reads them
// from the uploaded directory.
func TestExcluded(t *testing.T) {
	dir := repo(t, map[string]string{
		".git/HEAD": "ref: refs/heads/main\n", ".git/objects/ab/cd": "x", "[odd]*.tmp": "x",
		".dockerignore":                        "**/Dockerfile*\n.git\n.env\n*.tmp\n",
		"src/frontend/Dockerfile.dockerignore": "**/Dockerfile*\n.git\n.env\n*.tmp\nthird_party\n",
	})
	set, err := loadRepo(t, dir)
	require.NoError(t, err)
	excluded, n, err := set.Excluded(set.Specs)
	require.NoError(t, err)
	assert.Equal(t, []string{".env", ".git", `\[odd]\*.tmp`}, excluded)
	pm, err := patternmatcher.New(excluded)
	require.NoError(t, err)
	for p, want := range map[string]bool{"[odd]*.tmp": true, "[odd]x.tmp": false, "o.tmp": false, ".git/objects/ab/cd": true, "src/frontend/Dockerfile": false} {
		got, err := pm.MatchesOrParentMatches(p)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s left out", p)
	}
	all, err := set.UploadBytes()
	require.NoError(t, err)
	assert.Less(t, n, all)
	assert.Positive(t, n)
}
