//go:build engine

package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// badInput is one malformed input: the command, the run-wide flags (the
// module's constructor arguments), the command's own flags, and what the
// message must say. only names the one entry point a case applies to.
type badInput struct {
	name       string
	verb       string
	dir        string   // --components-dir
	source     string   // or --source with --components-path src (a copy of the fixture repository)
	ctor, args []string // run-wide flags, command flags
	want       []string
	only       string // "matrix" or "dagger call"; "" both
}

// tree is the flags that name what the case reads.
func (b badInput) tree() []string {
	if b.source != "" {
		return []string{"--source", b.source, "--components-path", "src"}
	}
	return []string{"--components-dir", b.dir}
}

// cli is the case as `matrix --components-dir DIR RUN-WIDE VERB FLAGS...`.
func (b badInput) cli() []string {
	return append(append(append(b.tree(), b.ctor...), b.verb), b.args...)
}

// dagger is the case as `dagger call --components-dir DIR RUN-WIDE VERB FLAGS...`.
func (b badInput) dagger() []string {
	verb := b.verb
	if verb == "build" {
		verb = "build-component"
	}
	return append(append(append(b.tree(), b.ctor...), verb), b.args...)
}

// named is out with the paths inside --source named relative to it, as the
// module names them.
func (b badInput) named(out string) string {
	if b.source == "" {
		return out
	}
	return strings.ReplaceAll(out, b.source+"/", "")
}

// message is the error line of either entry point, with the components
// directory named as the module names it: "components" for a
// --components-dir, and paths inside --source relative to it (the module's
// --build-arg-file is named by its base name, so the case's lives there).
func (b badInput) message(out string) string {
	for _, line := range strings.Split(out, "\n") {
		for _, p := range []string{"matrix: ", "Error: "} {
			if m, ok := strings.CutPrefix(line, p); ok {
				m, _, _ = strings.Cut(m, " [traceparent:")
				if b.source != "" {
					return b.named(m)
				}
				return strings.ReplaceAll(m, b.dir, "components")
			}
		}
	}
	return ""
}

// TestBadInput: every malformed input exits 2 with the same message naming
// the file and field (or flag), before any build, through both entry points
// (matrix, dagger call). The CLI's engine socket points nowhere, so reaching
// for the engine would exit 3 instead.
func TestBadInput(t *testing.T) {
	bin := matrixBin(t)
	env := []string{"_EXPERIMENTAL_DAGGER_RUNNER_HOST=unix:///nonexistent/matrix-test.sock", "MATRIX_REGISTRY="}
	one := func(yaml string) string {
		return enginetest.Components(t, map[string]map[string]string{"web": {"Dockerfile": "FROM debian:bookworm-slim\n", "component.yaml": yaml}})
	}
	good := one("smoke: [true]\n")
	badKey := filepath.Join(t.TempDir(), "key.pem") // no key, and a would-be secret that must not be echoed
	require.NoError(t, os.WriteFile(badKey, []byte("hunter2\n"), 0o600))
	symlinkOut := one("dockerfile: evil\n")
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(symlinkOut, "web", "evil")))
	two := func(a, b string) string {
		return enginetest.Components(t, map[string]map[string]string{
			"a": {"Dockerfile": "FROM x\n", "component.yaml": a}, "b": {"Dockerfile": "FROM x\n", "component.yaml": b}})
	}
	// Copies of the fixture repository (components in src/, the context
	// the repository root), each with one mistake.
	repo := func(edits map[string]string) string {
		dir, _ := enginetest.Repo(t, edits)
		return dir
	}
	badEnv := repo(map[string]string{"bad.env": "APP_GREETING=hello\nDB_PASSWORD \"hunter2\n"})
	declared := repo(map[string]string{"src/frontend/Dockerfile": "FROM debian:bookworm-slim\nARG DB_PASSWORD\nCOPY src/frontend/index.html /srv/\n"})
	cases := []badInput{
		{name: "context outside the tree", verb: "build-all", source: repo(map[string]string{"src/matrix.yaml": "context: ../..\n"}),
			want: []string{"src/matrix.yaml: field context", `"../.." leaves`, "inside the tree given to matrix (--source)"}},
		{name: "matrix.yaml unknown key", verb: "plan", source: repo(map[string]string{"src/matrix.yaml": "contxt: ..\n"}),
			want: []string{"src/matrix.yaml: field contxt", "unknown key", "known keys: context, ignore"}},
		{name: "matrix.yaml ignores a folder not there", verb: "build-all", source: repo(map[string]string{"src/matrix.yaml": "context: ..\nignore: [shared, nope]\n"}),
			want: []string{"src/matrix.yaml: field ignore[1]", "no folder nope"}},
		{name: "missing COPY source", verb: "build-all", source: repo(map[string]string{"src/backend/Dockerfile": "FROM debian:bookworm-slim\nCOPY src/backend/ssl/ /etc/ssl/\n"}),
			want: []string{"src/backend/Dockerfile:2", "COPY src/backend/ssl/: no such file or directory in the build context", "create it before the build"}},
		{name: "COPY source the .dockerignore drops", verb: "publish", source: repo(map[string]string{"src/frontend/Dockerfile": "FROM debian:bookworm-slim\nCOPY third_party/tool/tool.bin /x\n"}),
			ctor: []string{"--registry", "localhost:5000/x"}, want: []string{"src/frontend/Dockerfile:2", "excluded from the build context", "src/frontend/Dockerfile.dockerignore"}},
		{name: "images: one repository for two images", verb: "build-all", source: repo(map[string]string{"src/backend/component.yaml": "image: fixture-repo-api\n"}),
			want: []string{"src/backend/component.yaml: field image", `"fixture-repo-api" is also the image of component api/api`, "give each image its own repository name"}},
		{name: "images: a name given twice", verb: "plan", source: repo(map[string]string{"src/api/component.yaml": "images:\n  - {name: api, target: api}\n  - {name: api, target: api-init}\n"}),
			want: []string{"src/api/component.yaml: field images[1].name", "api is also the name of images[0]"}},
		{name: "images: a target the Dockerfile lacks", verb: "build-all", source: repo(map[string]string{"src/api/component.yaml": "images:\n  - {name: api, target: api}\n  - {name: api-migrate, target: migrate}\n"}),
			want: []string{"src/api/component.yaml: field images[1].target", `"migrate" is not a stage of`, "src/api/Dockerfile (name one of its stages: base, api, api-init)"}},
		{name: "services: an unknown component", verb: "build-all", source: repo(map[string]string{"src/consumer/component.yaml": "services:\n  - {component: nohub, port: 8080, arg: HUB_URL}\n"}),
			want: []string{"src/consumer/component.yaml: field services[0].component", `unknown component "nohub"`, "known: api/api, api/api-init"}},
		{name: "services: on itself", verb: "plan", source: repo(map[string]string{"src/consumer/component.yaml": "services:\n  - {component: consumer, port: 8080, arg: HUB_URL}\n"}),
			want: []string{"src/consumer/component.yaml: field services[0].component", "a component cannot be served to itself", "name another component of the run"}},
		{name: "services: in a cycle", verb: "build-all", source: repo(map[string]string{"src/hub/component.yaml": "depends_on: [consumer]\n"}),
			want: []string{"dependency cycle: consumer -> hub -> consumer", "through depends_on or services:; remove one of these"}},
		{name: "arg file that does not parse", verb: "build-all", source: badEnv, ctor: []string{"--build-arg-file", filepath.Join(badEnv, "bad.env")},
			want: []string{"--build-arg-file bad.env: line 2: no '='", "write KEY=value lines"}},
		{name: "declared credential key", verb: "build-all", source: declared, ctor: []string{"--build-arg-file", filepath.Join(declared, ".env")},
			want: []string{"--build-arg-file .env: line 7: DB_PASSWORD is declared by src/frontend/Dockerfile (ARG DB_PASSWORD)", "make it a secret", "secrets: in src/frontend/component.yaml"}},
		{name: "arg file missing", verb: "plan", source: badEnv, ctor: []string{"--build-arg-file", "/nonexistent/.env"}, want: []string{"--build-arg-file /nonexistent/.env", "no such file"}, only: "matrix"},
		{name: "components dir and path", verb: "plan", dir: good, args: []string{"--components-path", "src"}, want: []string{"--components-dir and --components-path exclude each other"}, only: "matrix"},
		{name: "components path without source", verb: "plan", dir: good, ctor: []string{"--components-path", "src"}, want: []string{"--components-path names a folder inside --source"}, only: "dagger call"},
		{name: "source and components dir", verb: "plan", source: badEnv, ctor: []string{"--components-dir", good}, want: []string{"--components-dir and --source exclude each other"}, only: "dagger call"},

		{name: "malformed yaml", verb: "build-all", dir: one("smoke: [true\n"), want: []string{"web/component.yaml", "malformed YAML"}},
		{name: "yaml not a mapping", verb: "build-all", dir: one("- a\n"), want: []string{"web/component.yaml", "not a mapping"}},
		{name: "unknown key", verb: "build-all", dir: one("smoke: [true]\nimgae: x\n"), want: []string{"web/component.yaml", "field imgae", "unknown key"}},
		{name: "duplicate key", verb: "build-all", dir: one("smoke: [a]\nsmoke: [b]\n"), want: []string{"field smoke", "given twice"}},
		{name: "image wrong type", verb: "build-all", dir: one("image: [a]\n"), want: []string{"field image", "wrong type"}},
		{name: "platforms wrong type", verb: "build-all", dir: one("platforms: linux/amd64\n"), want: []string{"field platforms", "wrong type"}},
		{name: "args wrong type", verb: "build-all", dir: one("args: [A]\n"), want: []string{"field args", "wrong type"}},
		{name: "smoke wrong type", verb: "build-all", dir: one("smoke: {a: b}\n"), want: []string{"field smoke", "wrong type"}},
		{name: "spec platform linux/amd65", verb: "build-all", dir: one("platforms: [linux/amd65]\n"), want: []string{"field platforms[0]", "unknown architecture"}},
		{name: "spec platform without os", verb: "build-all", dir: one("platforms: [arm64]\n"), want: []string{"field platforms[0]", "not os/arch"}},
		{name: "flag platform linux/amd65", verb: "build-all", dir: good, args: []string{"--platforms", "linux/amd65"}, want: []string{"--platforms", "unknown architecture"}},
		{name: "flag platform without os", verb: "build-all", dir: good, args: []string{"--platforms", "arm64"}, want: []string{"--platforms", "not os/arch"}},
		{name: "flag platform twice", verb: "build-all", dir: good, args: []string{"--platforms", "linux/amd64,linux/amd64"}, want: []string{"--platforms", "listed twice"}},
		{name: "plan platform twice", verb: "plan", dir: good, args: []string{"--platforms", "linux/amd64,linux/amd64"}, want: []string{"--platforms", "listed twice"}},
		{name: "publish platform twice", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000/x"}, args: []string{"--platforms", "linux/amd64,linux/amd64"}, want: []string{"--platforms", "listed twice"}},
		{name: "duplicate image names", verb: "build-all", dir: two("image: same\n", "image: same\n"), want: []string{"b/component.yaml", "field image", "also the image of component a"}},
		{name: "dependency cycle", verb: "build-all", dir: two("depends_on: [b]\n", "depends_on: [a]\n"), want: []string{"dependency cycle: a -> b -> a"}},
		{name: "depends_on unknown", verb: "build-all", dir: one("depends_on: [ghost]\n"), want: []string{"web/component.yaml", "field depends_on", `unknown component "ghost"`}},
		{name: "dockerfile escapes", verb: "build-all", dir: one("dockerfile: ../../etc/passwd\n"), want: []string{"web/component.yaml", "field dockerfile", "leaves the component directory"}},
		{name: "dockerfile symlink out", verb: "build-all", dir: symlinkOut, want: []string{"field dockerfile", "symlink", "outside the component directory"}},
		{name: "dockerfile absolute", verb: "build-all", dir: one("dockerfile: /etc/passwd\n"), want: []string{"field dockerfile", "leaves the component directory"}},
		{name: "secret as build arg", verb: "build-all", dir: one("args: {DB_PASSWORD: x}\n"), want: []string{"field args.DB_PASSWORD", "declare it under secrets"}},
		{name: "invalid tag", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000"}, args: []string{"--tags", "v1 beta"}, want: []string{`tag "v1 beta" is not valid`}},
		{name: "tag too long", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000"}, args: []string{"--tags", strings.Repeat("x", 200)}, want: []string{"is not valid"}},
		{name: "invalid registry", verb: "publish", dir: good, ctor: []string{"--registry", "https://harbor.example.com"}, want: []string{`registry "https://harbor.example.com"`, "not host[:port][/project]"}},
		{name: "registry missing", verb: "publish", dir: good, want: []string{"registry is empty"}},
		{name: "empty components directory", verb: "build-all", dir: t.TempDir(), want: []string{"no components found"}},
		{name: "unknown component selected", verb: "build-all", dir: good, args: []string{"--components", "ghost"}, want: []string{`unknown component "ghost"`}},
		{name: "component name malformed", verb: "build-all", dir: good, args: []string{"--components", "Web UI"}, want: []string{"--components", "not a component name"}},
		{name: "jobs negative", verb: "build-all", dir: good, args: []string{"--jobs", "-1"}, want: []string{"--jobs -1"}},
		{name: "cache repo with a scheme", verb: "build-all", dir: good, args: []string{"--cache-repo", "https://localhost:5000/matrix-cache"}, want: []string{`--cache-repo "https://localhost:5000/matrix-cache": not a repository`, "localhost:5000/ai-infra/matrix-cache"}},
		{name: "rebuild not a component name", verb: "build-all", dir: good, args: []string{"--rebuild", "Web UI"}, want: []string{"--rebuild", "not a component name", "give all"}},
		{name: "rebuild unknown component", verb: "build-all", dir: good, args: []string{"--rebuild", "ghost"}, want: []string{"--rebuild", `"ghost" is not a planned component`}},
		{name: "cache repo with a tag", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000"}, args: []string{"--cache-repo", "localhost:5000/matrix-cache:v1"}, want: []string{"--cache-repo", "not a repository", "no scheme, tag or digest"}},
		{name: "bad format", verb: "plan", dir: good, args: []string{"--format", "xml"}, want: []string{"--format"}},
		{name: "huge build context", verb: "build-all", dir: good, ctor: []string{"--max-context", "10"}, want: []string{"web", "build context is", "over the", ".dockerignore"}},
		{name: "stage registry with a path", verb: "build-all", dir: good, args: []string{"--stage-registry", "localhost:5000/x"}, want: []string{"--stage-registry", "host:port only"}},
		{name: "licence not SPDX", verb: "build-all", dir: one("annotations: {licenses: Apache 2}\n"), want: []string{"web/component.yaml", "field annotations.licenses", "not a valid SPDX expression"}},
		{name: "annotation set by matrix", verb: "build-all", dir: one("annotations: {created: yesterday}\n"), want: []string{"field annotations.created", "is set by matrix"}},
		{name: "syft image not a reference", verb: "publish", dir: good, ctor: []string{"--syft-image", "anchore/syft:NOT-A-TAG!", "--registry", "localhost:5000"}, want: []string{`--syft-image "anchore/syft:NOT-A-TAG!"`, "give an image reference"}},
		{name: "sign key and no attest", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000", "--sign-key", "env:HOME"}, args: []string{"--no-attest"}, want: []string{"--sign-key and --no-attest exclude each other"}},
		// Flags of one entry point only: the CLI reads secrets and passwords
		// from env or files itself; the module gets them as dagger secrets.
		{name: "secret flag malformed", verb: "build-all", dir: good, ctor: []string{"--secret", "token=hunter2"}, want: []string{"--secret", "id=env:VAR"}, only: "matrix"},
		{name: "password file missing", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000", "--password-file", "/nonexistent/pw"}, want: []string{"--password-file"}, only: "matrix"},
		{name: "missing components directory", verb: "build-all", dir: "/nonexistent/components", want: []string{"/nonexistent/components"}, only: "matrix"},
		{name: "sign key not a key", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000", "--sign-key", badKey}, want: []string{"--sign-key: not a PEM private key"}, only: "matrix"},
		{name: "sign key file missing", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000", "--sign-key", "/nonexistent/key.pem"}, want: []string{"--sign-key", "give the path of a PEM private key"}, only: "matrix"},
		{name: "source date epoch not a number", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000"}, args: []string{"--source-date-epoch", "yesterday"}, want: []string{"--source-date-epoch", "not a number of seconds"}, only: "matrix"},
		{name: "sign key secret not a key", verb: "publish", dir: good, ctor: []string{"--registry", "localhost:5000", "--sign-key", "file:" + badKey}, want: []string{"--sign-key: not a PEM private key"}, only: "dagger call"},
		{name: "secret without its id", verb: "build-all", dir: good, ctor: []string{"--secret", "env://HOME"}, want: []string{"--secret-id: 0 ids for 1 secrets"}, only: "dagger call"},
	}
	require.GreaterOrEqual(t, len(cases), 54)
	var both atomic.Int32
	t.Cleanup(func() { t.Logf("figures: bad_input_cases=%d both_entry_points=%d", len(cases), both.Load()) })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each dagger call waits seconds for the module, not for the CPU
			var cliMsg string
			if tc.only != "dagger call" {
				code, _, errw := cliRun(t, bin, env, tc.cli()...)
				assert.Equal(t, 2, code, errw)
				for _, w := range tc.want {
					assert.Contains(t, tc.named(errw), w, "matrix")
				}
				assert.NotContains(t, errw, "hunter2", "no secret echoed")
				assert.NotContains(t, errw, "fixture-password-never-shown", "no secret echoed")
				assert.NotContains(t, errw, "engine", "no engine work was started")
				cliMsg = tc.message(errw)
			}
			if tc.only == "matrix" {
				return
			}
			code, out := daggerCall(t, tc.dagger()...)
			assert.Equal(t, 2, code, out)
			for _, w := range tc.want {
				assert.Contains(t, tc.named(out), w, "dagger call")
			}
			assert.NotContains(t, out, "cells verified", "nothing was built")
			assert.NotContains(t, out, "hunter2", "no secret echoed")
			assert.NotContains(t, out, "fixture-password-never-shown", "no secret echoed")
			if cliMsg != "" {
				both.Add(1)
				assert.Equal(t, cliMsg, tc.message(out), "the same message through both entry points")
			}
		})
	}
}
