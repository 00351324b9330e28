package adopt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// tree is a MapFS of path → content.
func tree(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, c := range files {
		m[p] = &fstest.MapFile{Data: []byte(c)}
	}
	return m
}

// TestScanConventions: each convention of a tree built with a build script
// becomes its piece of configuration.
func TestScanConventions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		comps string            // --components-path
		want  map[string]string // path → exact content ("" : must not be written)
		notes []string          // substrings, one per note, in order
		arg   string
	}{
		{
			name: "build-targets.conf becomes images:",
			files: map[string]string{
				"src/backend/Dockerfile":         "FROM debian AS base\nFROM base AS backend\nFROM base AS backend-init\n",
				"src/backend/build-targets.conf": "# target image\nbackend ai-infra-backend\n\nbackend-init ai-infra-backend-init\n",
				"src/frontend/Dockerfile":        "FROM debian\n",
			},
			want: map[string]string{
				"src/backend/component.yaml": "# Written by matrix init from build-targets.conf: one image per target of the\n" +
					"# Dockerfile, addressed backend/<name> (see docs/components.md).\n\n" +
					"images:\n  - name: backend\n    target: backend\n    image: ai-infra-backend\n" +
					"  - name: backend-init\n    target: backend-init\n    image: ai-infra-backend-init\n",
				"src/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in src/\n# (see docs/adoption.md).\n\n",
			},
		},
		{
			name: "a folder with only dependency.conf is a third-party image, and ignored",
			files: map[string]string{
				"src/web/Dockerfile":           "FROM debian\n",
				"src/kafka/dependency.conf":    "# pulled and re-tagged\nIMAGE=docker.io/confluentinc/cp-kafka:7.5.0\n",
				"src/postgres/dependency.conf": "postgres:15-alpine\n",
				"src/kafka-ui/dependency.conf": "provectuslabs/kafka-ui\n",
				"src/ldap/dependency.conf":     "osixia/openldap:latest\n",
			},
			want: map[string]string{
				"src/third-party.yaml": "# Written by matrix init from the folders holding a dependency.conf: the\n" +
					"# upstream images the stack runs with, which matrix mirror copies and\n# matrix export bundles (see docs/bundles.md).\n\n" +
					"images:\n  - name: kafka\n    source: docker.io/confluentinc/cp-kafka:7.5.0\n    target: confluentinc/cp-kafka\n" +
					"  - name: postgres\n    source: postgres:15-alpine\n    target: postgres\n",
				"src/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in src/\n# (see docs/adoption.md).\n\n" +
					"# Folders of src/ that are not components: no Dockerfile.\n" +
					"# Those holding a dependency.conf are upstream images, in third-party.yaml.\n" +
					"ignore: [kafka, kafka-ui, ldap, postgres]\n",
			},
			notes: []string{
				"t/src/kafka-ui/dependency.conf: names no image with a tag or digest, so it is not in t/src/third-party.yaml: add it there by hand, pinned to a version",
				"t/src/ldap/dependency.conf: source \"osixia/openldap:latest\" is not pinned: latest moves, so it is not in t/src/third-party.yaml",
			},
		},
		{
			name: "the context is the root when the COPY paths are found only from there",
			files: map[string]string{
				"src/a/Dockerfile": "FROM debian\nCOPY src/a/app.txt /app/\nCOPY third_party/tool /opt/tool\n",
				"src/a/app.txt":    "a",
				"src/b/Dockerfile": "FROM debian\nCOPY app.txt /app/\n",
				"src/b/app.txt":    "b",
				"src/shared/motd":  "shared",
				"third_party/tool": "tool",
				".env.example":     "APT_MIRROR=\n",
			},
			want: map[string]string{
				"src/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in src/\n# (see docs/adoption.md).\n\n" +
					"# The build context of every component is the root of the tree: these\n" +
					"# COPY and ADD paths are found from there, not in the component's folder.\n" +
					"#   src/a/Dockerfile:2: COPY src/a/app.txt\n" +
					"context: ..\n" +
					"# Folders of src/ that are not components: no Dockerfile.\n" +
					"ignore: [shared]\n",
			},
			notes: []string{"t/src/b/Dockerfile:2: COPY app.txt is in the component's folder, not at the root, the build context of every component: write it from the root"},
			arg:   ".env.example",
		},
		{
			name: "each folder is its context when the COPY paths are found there",
			files: map[string]string{
				"components/a/Dockerfile": "FROM debian\nCOPY app.txt /app/\nCOPY *.conf /etc/\n",
				"components/a/app.txt":    "a",
				"components/a/x.conf":     "x",
				"components/b/Dockerfile": "FROM debian\nCOPY src/ /src/\n",
				"components/b/src/main":   "b",
			},
			want: map[string]string{
				"components/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in components/\n# (see docs/adoption.md).\n\n",
			},
		},
		{
			name: "a fetch from another component's URL is served, or pointed out with its line when the port or arg is not known",
			files: map[string]string{
				"src/apphub/Dockerfile":       "FROM nginx\nEXPOSE 80\n",
				"src/slurm/Dockerfile":        "FROM debian\n",
				"src/slurm-master/Dockerfile": "FROM debian\nARG APPHUB_URL\nARG GITHUB_MIRROR\nRUN curl -fsSL ${GITHUB_MIRROR}/x.tgz && \\\n    curl -f \"$APPHUB_URL/pkgs/slurm-deb/Packages\" || exit 1\n",
				"src/slurmd/Dockerfile":       "FROM debian\nARG SLURM_MASTER_HOST\nRUN wget http://$SLURM_MASTER_HOST/ping\n",
				"src/slurm-web/Dockerfile":    "FROM debian\nENV APPHUB_URL=http://apphub\nRUN wget $APPHUB_URL/x\n",
			},
			want: map[string]string{
				"src/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in src/\n# (see docs/adoption.md).\n\n",
				"src/slurm-master/component.yaml": "# Written by matrix init from its fetches from another component's URL while it\n# builds: that component is served then (see docs/components.md).\n\n" +
					"services:\n  - component: apphub\n    port: 80\n    arg: APPHUB_URL\n",
			},
			notes: []string{
				"t/src/slurm-web/Dockerfile:3: a RUN fetches from ${APPHUB_URL} with wget while the image builds, so apphub must be serving: " +
					"a candidate for services: in t/src/slurm-web/component.yaml (the Dockerfile declares no ARG APPHUB_URL: declare it, then add {component: apphub, port: <its port>, arg: APPHUB_URL})",
				"t/src/slurmd/Dockerfile:3: a RUN fetches from ${SLURM_MASTER_HOST} with wget while the image builds, so slurm-master must be serving: " +
					"a candidate for services: in t/src/slurmd/component.yaml (slurm-master's Dockerfile EXPOSEs 0 ports: add {component: slurm-master, port: <the port it serves on>, arg: SLURM_MASTER_HOST})",
			},
		},
		{
			name: "the components directory holds the most component folders; the other Dockerfiles are named",
			files: map[string]string{
				"Dockerfile":                  "FROM debian\n",
				"src/a/Dockerfile":            "FROM debian\n",
				"src/b/Dockerfile":            "FROM debian\n",
				"test/docker/x/Dockerfile":    "FROM debian\n",
				".git/hooks/Dockerfile":       "FROM debian\n",
				"web/node_modules/Dockerfile": "FROM debian\n",
			},
			want:  map[string]string{"src/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in src/\n# (see docs/adoption.md).\n\n"},
			notes: []string{"not in a component folder of t/src, so left out: t/Dockerfile, t/test/docker/x/Dockerfile (--components-path chooses another directory)"},
		},
		{
			name:  "--components-path chooses",
			files: map[string]string{"src/a/Dockerfile": "FROM debian\n", "src/b/Dockerfile": "FROM debian\n", "tools/c/Dockerfile": "FROM debian\n"},
			comps: "tools",
			want:  map[string]string{"tools/matrix.yaml": "# Written by matrix init: the run-wide defaults of the components in tools/\n# (see docs/adoption.md).\n\n"},
			notes: []string{"not in a component folder of t/tools, so left out: t/src/a/Dockerfile, t/src/b/Dockerfile"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Scan(tree(tc.files), "t", tc.comps)
			require.NoError(t, err)
			got := map[string]string{}
			for _, f := range a.Files {
				got[f.Path] = string(f.Data)
			}
			for p, want := range tc.want {
				assert.Equal(t, want, got[p], p)
			}
			assert.Len(t, got, len(tc.want), "only the files needed")
			require.Len(t, a.Notes, len(tc.notes), "%q", a.Notes)
			for i, n := range tc.notes {
				assert.Contains(t, a.Notes[i], n)
			}
			assert.Equal(t, tc.arg, a.ArgFile)
		})
	}
}

// TestScanRefuses: a tree init cannot adopt is bad input naming the path
// and the fix.
func TestScanRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fsys  func(t *testing.T) (dir string)
		comps string
		want  []string
	}{
		{"DIR missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "",
			[]string{"/nope: no such file or directory (give the repository to adopt: matrix init DIR)"}},
		{"no Dockerfile anywhere", files(map[string]string{"README.md": "x", "src/a/app.txt": "a"}), "",
			[]string{": no Dockerfile in a folder of it (give the repository whose component folders hold a Dockerfile each, such as src/<name>/Dockerfile)"}},
		{"a Dockerfile at the root only", files(map[string]string{"Dockerfile": "FROM debian\n"}), "",
			[]string{"a Dockerfile at the root is one image, not a tree of components"}},
		{"as many folders in two directories", files(map[string]string{"a/x/Dockerfile": "FROM debian\n", "b/y/Dockerfile": "FROM debian\n"}), "",
			[]string{"as many component folders with a Dockerfile in", "/a (1) as in ", "/b (1)", "(name the components directory with --components-path, such as --components-path a)"}},
		{"--components-path missing", files(map[string]string{"src/a/Dockerfile": "FROM debian\n"}), "source",
			[]string{"/source: is not a directory of the tree (give --components-path as the folder inside DIR"}},
		{"--components-path without components", files(map[string]string{"src/a/Dockerfile": "FROM debian\n", "docs/x.md": "x"}), "docs",
			[]string{"/docs: no component folder in it holds a Dockerfile (add ", "/docs/<name>/Dockerfile, or name another directory with --components-path)"}},
		{"a build-targets.conf target the Dockerfile lacks", files(map[string]string{"src/a/Dockerfile": "FROM debian AS one\nFROM one AS two\n", "src/a/build-targets.conf": "one a-one\nthree a-three\n"}), "",
			[]string{"/src/a/build-targets.conf:2: target \"three\" is not a stage of", "(name one of its stages: one, two)"}},
		{"an empty build-targets.conf", files(map[string]string{"src/a/Dockerfile": "FROM debian AS one\n", "src/a/build-targets.conf": "# none\n"}), "",
			[]string{"/src/a/build-targets.conf: lists no image (write one <target> <image> per line, or remove it)"}},
		{"a build-targets.conf line that is not <target> <image>", files(map[string]string{"src/a/Dockerfile": "FROM debian AS one\n", "src/a/build-targets.conf": "one\n"}), "",
			[]string{"/src/a/build-targets.conf:1: \"one\" is not <target> <image> (write one image per line"}},
		{"a Dockerfile that does not parse", files(map[string]string{"src/a/Dockerfile": "FROM debian\nCOPY\n"}), "",
			[]string{"/src/a/Dockerfile: cannot be parsed", "(fix the Dockerfile syntax)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.fsys(t)
			_, err := Scan(os.DirFS(dir), dir, tc.comps)
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err), "%v", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), dir, "it names the path")
		})
	}
}

// files makes a directory of path → content.
func files(m map[string]string) func(t *testing.T) string {
	return func(t *testing.T) string {
		dir := t.TempDir()
		for p, c := range m {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644))
		}
		return dir
	}
}

// TestWrite: init writes what is missing, leaves what is the same, and
// overwrites what differs only with force; refused, it writes nothing.
func TestWrite(t *testing.T) {
	dir := files(map[string]string{
		"src/a/Dockerfile":         "FROM debian AS one\nFROM one AS two\n",
		"src/a/build-targets.conf": "one a-one\ntwo a-two\n",
		"src/b/Dockerfile":         "FROM debian\n",
		"src/b/component.yaml":     "smoke: [true]\n",
	})(t)
	write := func(p string, data []byte) error { return os.WriteFile(filepath.Join(dir, p), data, 0o644) }
	scan := func() *Adoption {
		a, err := Scan(os.DirFS(dir), dir, "")
		require.NoError(t, err)
		return a
	}
	statuses := func(cs []Change) string {
		var out []string
		for _, c := range cs {
			out = append(out, string(c.Status)+" "+c.Path)
		}
		return strings.Join(out, ", ")
	}

	changes, err := scan().Write(os.DirFS(dir), dir, false, write)
	require.NoError(t, err)
	assert.Equal(t, "created src/matrix.yaml, created src/a/component.yaml", statuses(changes), "b's component.yaml is not init's to write")
	first := snapshot(t, dir)
	assert.Equal(t, "smoke: [true]\n", first["src/b/component.yaml"])

	changes, err = scan().Write(os.DirFS(dir), dir, false, write)
	require.NoError(t, err)
	assert.Equal(t, "unchanged src/matrix.yaml, unchanged src/a/component.yaml", statuses(changes))
	assert.Equal(t, first, snapshot(t, dir), "a second init changes nothing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/a/component.yaml"), []byte("images: []\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "src/matrix.yaml"), []byte("ignore: []\n"), 0o644))
	edited := snapshot(t, dir)
	_, err = scan().Write(os.DirFS(dir), dir, false, write)
	assert.Equal(t, class.BadInput, class.Of(err))
	assert.EqualError(t, err, dir+"/src/matrix.yaml, "+dir+"/src/a/component.yaml: already there and not what init writes; "+
		"nothing written (pass --force to overwrite, or move them away first)")
	assert.Equal(t, edited, snapshot(t, dir), "nothing written")

	changes, err = scan().Write(os.DirFS(dir), dir, true, write)
	require.NoError(t, err)
	assert.Equal(t, "overwritten src/matrix.yaml, overwritten src/a/component.yaml", statuses(changes))
	assert.Equal(t, first, snapshot(t, dir))
}

// snapshot is every file under dir, path → content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	return out
}

// TestOverlay: the tree as init leaves it, before it is written.
func TestOverlay(t *testing.T) {
	base := tree(map[string]string{"src/a/Dockerfile": "FROM debian\n", "src/matrix.yaml": "old"})
	o := Overlay(base, []File{{Path: "src/matrix.yaml", Data: []byte("new")}, {Path: "src/a/component.yaml", Data: []byte("x")}})
	require.NoError(t, fstest.TestFS(o, "src/matrix.yaml", "src/a/component.yaml", "src/a/Dockerfile"))
}
