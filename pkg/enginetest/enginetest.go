// Package enginetest connects integration tests to the real Dagger engine and
// registry that ci/world/up.sh starts. Under CI=true a missing engine or
// registry fails the test; elsewhere it skips with the command that fixes it.
package enginetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

const fix = "start the world with `MATRIX_DAGGER_BUNDLE=../shared/dagger ci/world/up.sh` and `. /var/lib/matrix/env`"

// unavailable fails under CI and skips elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + ": " + fix
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Reachable checks that the engine socket accepts connections: a client
// pointed at a dead socket hangs instead of failing.
func Reachable() error { return reachable("_EXPERIMENTAL_DAGGER_RUNNER_HOST") }

// reachable checks the engine whose runner host the variable env holds.
func reachable(env string) error {
	host := os.Getenv(env)
	if host == "" {
		return fmt.Errorf("%s is not set", env)
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return nil // not a unix socket: let the client try
	}
	conn, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return fmt.Errorf("engine socket %s: %w", sock, err)
	}
	return conn.Close()
}

// Engine fails (in CI) or skips unless the engine answers, and holds no
// session: a test that restarts the engine must not, for the engine waits
// for every session before a graceful stop.
func Engine(t testing.TB) {
	t.Helper()
	if err := Reachable(); err != nil {
		unavailable(t, "no Dagger engine: %v", err)
	}
}

// Connect returns a client of the real engine, closed when t ends.
func Connect(t testing.TB) *dagger.Client {
	t.Helper()
	if err := Reachable(); err != nil {
		unavailable(t, "no Dagger engine: %v", err)
	}
	return connect(t)
}

// SecondEngine returns the runner host of the world's second engine
// (MATRIX_ENGINE2, from `ci/world/up.sh --second-engine`) once it answers;
// ConnectTo opens a client of it.
func SecondEngine(t testing.TB) string {
	t.Helper()
	if err := reachable("MATRIX_ENGINE2"); err != nil {
		msg := fmt.Sprintf("no second Dagger engine: %v: start it with `ci/world/up.sh --second-engine`", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return os.Getenv("MATRIX_ENGINE2")
}

// ConnectTo returns a client of the engine at runner host, closed when t ends.
func ConnectTo(t testing.TB, host string) *dagger.Client {
	t.Helper()
	return connect(t, dagger.WithRunnerHost(host))
}

func connect(t testing.TB, opts ...dagger.ClientOpt) *dagger.Client {
	t.Helper()
	// The session lives as long as the context given to Connect: cancel it
	// only when the test ends.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logw := io.Discard
	if os.Getenv("MATRIX_TEST_ENGINE_LOG") != "" {
		logw = os.Stderr
	}
	c, err := dagger.Connect(ctx, append([]dagger.ClientOpt{dagger.WithLogOutput(logw)}, opts...)...)
	if err != nil {
		unavailable(t, "connecting to the Dagger engine: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Registry returns the address of the local registry (MATRIX_REGISTRY,
// default localhost:5000) after checking that it answers.
func Registry(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("MATRIX_REGISTRY")
	if addr == "" {
		addr = "localhost:5000"
	}
	cl := http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get("http://" + addr + "/v2/")
	if err != nil {
		unavailable(t, "no registry at %s: %v", addr, err)
		return ""
	}
	_ = resp.Body.Close() // the status is the answer
	return addr
}

// Root is the repository root, found from this source file.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Unique is a tag no earlier run used.
func Unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// Components writes a components directory: name → file name → content.
func Components(t testing.TB, comps map[string]map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, files := range comps {
		for file, content := range files {
			p := filepath.Join(root, name, file)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// Fixture components, small enough to build in seconds on both platforms:
// base (with ${VERSION}), child (FROM base), x86 (amd64 only) and, when
// asked, armfails (its RUN fails only on arm64).
const (
	baseDockerfile = `FROM debian:bookworm-slim
ARG VERSION
ARG APT_MIRROR
RUN echo "base $VERSION $(uname -m)" > /etc/fixture-base
`
	childDockerfile = `ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN cat /etc/fixture-base > /etc/fixture-child
`
	armFailsDockerfile = `FROM debian:bookworm-slim
RUN if [ "$(uname -m)" = aarch64 ]; then echo "no arm64 support in this step" >&2; exit 42; fi; echo ok > /ok
`
	amd64OnlyDockerfile = `FROM debian:bookworm-slim
RUN uname -m > /arch
`
)

// Fixtures writes the fixture components directory.
func Fixtures(t testing.TB, withArmFailure bool) string {
	comps := map[string]map[string]string{
		"base":  {"Dockerfile": baseDockerfile, "component.yaml": "image: fixture-base\nargs: {VERSION: \"${VERSION}\"}\nsmoke: [cat, /etc/fixture-base]\n"},
		"child": {"Dockerfile": childDockerfile, "component.yaml": "image: fixture-child\ndepends_on: [base]\nsmoke: [cat, /etc/fixture-child]\n"},
		"x86":   {"Dockerfile": amd64OnlyDockerfile, "component.yaml": "image: fixture-x86\nplatforms: [linux/amd64]\nsmoke: [cat, /arch]\n"},
	}
	if withArmFailure {
		comps["armfails"] = map[string]string{"Dockerfile": armFailsDockerfile, "component.yaml": "image: fixture-armfails\nsmoke: [cat, /ok]\n"}
	}
	return Components(t, comps)
}

// DependencyFixtures writes a components directory with base and child
// (FROM base) only: the smallest run with a dependency.
func DependencyFixtures(t testing.TB) string {
	return Components(t, map[string]map[string]string{
		"base":  {"Dockerfile": baseDockerfile, "component.yaml": "image: fixture-base\nargs: {VERSION: \"${VERSION}\"}\nsmoke: [cat, /etc/fixture-base]\n"},
		"child": {"Dockerfile": childDockerfile, "component.yaml": "image: fixture-child\ndepends_on: [base]\nsmoke: [cat, /etc/fixture-child]\n"},
	})
}

// TimelineFixtures writes the fixture components of a run with every kind
// of cell: base and child (FROM base) verify, armfails fails on arm64,
// armchild (FROM armfails) is skipped, and x86 is not requested on arm64.
func TimelineFixtures(t testing.TB) string {
	dir := Fixtures(t, true)
	comp := Components(t, map[string]map[string]string{"armchild": {"Dockerfile": "ARG ARMFAILS_IMAGE\nFROM ${ARMFAILS_IMAGE}\nRUN cat /ok\n",
		"component.yaml": "image: fixture-armchild\ndepends_on: [armfails]\nsmoke: [cat, /ok]\n"}})
	if err := os.Rename(filepath.Join(comp, "armchild"), filepath.Join(dir, "armchild")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Docker checks that a Docker daemon answers (ci/world/up.sh --docker starts
// one here); under CI=true a missing daemon fails the test.
func Docker(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("no Docker daemon: %v: %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + ": start it with `ci/world/up.sh --docker`")
		}
		t.Skip(msg + ": start it with `ci/world/up.sh --docker`")
	}
}

// Dagger runs `dagger --progress plain ARGS` in the repository root against
// the real engine and returns its exit code and combined output.
func Dagger(t testing.TB, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	return DaggerIn(t, ctx, Root(), args...)
}

// DaggerIn is Dagger run in dir: with `-m` + Root() among args, a caller's
// checkout calling this module by its path.
func DaggerIn(t testing.TB, ctx context.Context, dir string, args ...string) (int, string) {
	t.Helper()
	if err := Reachable(); err != nil {
		Connect(t) // fails (CI) or skips with the fix
	}
	bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN")
	if bin == "" {
		bin = "dagger"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--progress", "plain"}, args...)...)
	cmd.Dir = dir
	code, out, errw := Run(t, cmd)
	return code, out + errw
}

// Run runs cmd and returns its exit code, stdout and stderr; a command that
// could not start fails the test.
func Run(t testing.TB, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errw
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errw.String()
	case err != nil:
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	return 0, out.String(), errw.String()
}

// Ref parses an image reference or fails the test.
func Ref(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatalf("reference %q: %v", s, err)
	}
	return r
}

// Context is a test's context, cancelled after 20 minutes or at cleanup.
func Context(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)
	return c
}

// Local is a checked run of opts over the components directory dir of this
// machine, as the CLI makes it; run a verb with Src(c, dir).
func Local(t testing.TB, opts matrix.Options, dir string) *matrix.Run {
	t.Helper()
	r, err := matrix.New(opts, component.Tree{FS: os.DirFS(dir), Where: dir})
	if err != nil {
		t.Fatalf("run over %s: %v", dir, err)
	}
	return r
}

// SigningKey is a new ECDSA P-256 key pair as PEM: the private key
// (PKCS #8, unencrypted, as --sign-key takes it) and the public key (as
// `cosign verify --key` takes it).
func SigningKey(t testing.TB) (priv, pub []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pder, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
}

// Referrer is the manifest and the one layer of the referrer repo@digest
// (an SBOM, a provenance statement, a signature).
func Referrer(t testing.TB, ctx context.Context, repo name.Repository, digest string, opts ...remote.Option) (manifest, layer []byte) {
	t.Helper()
	img, err := remote.Image(repo.Digest(digest), append([]remote.Option{remote.WithContext(ctx)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("referrer %s@%s: %d layers (%v), want 1", repo, digest, len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return raw, data
}

// Repo copies the fixture repository test/testdata/repo (components in
// src/, the build context the repository root) into a new directory, applies
// edits (path → content), and commits it all as a git repository of its own.
// It returns the directory and the commit.
func Repo(t testing.TB, edits map[string]string) (dir, revision string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(Root(), "test", "testdata", "repo"))); err != nil {
		t.Fatal(err)
	}
	for p, content := range edits {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=matrix-test", "-c", "user.email=test@matrix.invalid"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "fixture repository")
	return dir, git("rev-parse", "HEAD")
}
