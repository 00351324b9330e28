package reliability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// matrixBin builds the CLI once per test binary.
func matrixBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(os.TempDir(), "matrix-reliability-cli")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/matrix")
	cmd.Dir = enginetest.Root()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// cliRun runs the CLI with env additions and returns exit code, stdout, stderr.
func cliRun(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return enginetest.Run(t, cmd)
}

// TestBadInput: every malformed input exits 2 with a message naming the file
// and field (or flag), before any engine work: the engine socket points
// nowhere, so reaching for it would exit 3 instead.
func TestBadInput(t *testing.T) {
	bin := matrixBin(t)
	env := []string{"_EXPERIMENTAL_DAGGER_RUNNER_HOST=unix:///nonexistent/matrix-test.sock", "MATRIX_REGISTRY="}
	one := func(yaml string) string {
		return enginetest.Components(t, map[string]map[string]string{"web": {"Dockerfile": "FROM debian:bookworm-slim\n", "component.yaml": yaml}})
	}
	good := one("smoke: [true]\n")
	symlinkOut := one("dockerfile: evil\n")
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(symlinkOut, "web", "evil")))
	cases := []struct {
		name string
		args []string
		want []string // all must appear in stderr
	}{
		{"malformed yaml", []string{"build-all", "--components-dir", one("smoke: [true\n")}, []string{"web/component.yaml", "malformed YAML"}},
		{"yaml not a mapping", []string{"build-all", "--components-dir", one("- a\n")}, []string{"web/component.yaml", "not a mapping"}},
		{"unknown key", []string{"build-all", "--components-dir", one("smoke: [true]\nimgae: x\n")}, []string{"web/component.yaml", "field imgae", "unknown key"}},
		{"duplicate key", []string{"build-all", "--components-dir", one("smoke: [a]\nsmoke: [b]\n")}, []string{"field smoke", "given twice"}},
		{"image wrong type", []string{"build-all", "--components-dir", one("image: [a]\n")}, []string{"field image", "wrong type"}},
		{"platforms wrong type", []string{"build-all", "--components-dir", one("platforms: linux/amd64\n")}, []string{"field platforms", "wrong type"}},
		{"args wrong type", []string{"build-all", "--components-dir", one("args: [A]\n")}, []string{"field args", "wrong type"}},
		{"smoke wrong type", []string{"build-all", "--components-dir", one("smoke: {a: b}\n")}, []string{"field smoke", "wrong type"}},
		{"spec platform linux/amd65", []string{"build-all", "--components-dir", one("platforms: [linux/amd65]\n")}, []string{"field platforms[0]", "unknown architecture"}},
		{"spec platform without os", []string{"build-all", "--components-dir", one("platforms: [arm64]\n")}, []string{"field platforms[0]", "not os/arch"}},
		{"flag platform linux/amd65", []string{"build-all", "--components-dir", good, "--platforms", "linux/amd65"}, []string{"--platforms", "unknown architecture"}},
		{"flag platform without os", []string{"build-all", "--components-dir", good, "--platforms", "arm64"}, []string{"--platforms", "not os/arch"}},
		{"flag platform twice", []string{"build-all", "--components-dir", good, "--platforms", "linux/amd64,linux/amd64"}, []string{"--platforms", "listed twice"}},
		{"duplicate image names", []string{"build-all", "--components-dir", enginetest.Components(t, map[string]map[string]string{
			"a": {"Dockerfile": "FROM x\n", "component.yaml": "image: same\n"}, "b": {"Dockerfile": "FROM x\n", "component.yaml": "image: same\n"}})}, []string{"b/component.yaml", "field image", "also the image of component a"}},
		{"dependency cycle", []string{"build-all", "--components-dir", enginetest.Components(t, map[string]map[string]string{
			"a": {"Dockerfile": "FROM x\n", "component.yaml": "depends_on: [b]\n"}, "b": {"Dockerfile": "FROM x\n", "component.yaml": "depends_on: [a]\n"}})}, []string{"dependency cycle: a -> b -> a"}},
		{"depends_on unknown", []string{"build-all", "--components-dir", one("depends_on: [ghost]\n")}, []string{"web/component.yaml", "field depends_on", `unknown component "ghost"`}},
		{"dockerfile escapes", []string{"build-all", "--components-dir", one("dockerfile: ../../etc/passwd\n")}, []string{"web/component.yaml", "field dockerfile", "leaves the component directory"}},
		{"dockerfile symlink out", []string{"build-all", "--components-dir", symlinkOut}, []string{"field dockerfile", "outside the component directory"}},
		{"dockerfile absolute", []string{"build-all", "--components-dir", one("dockerfile: /etc/passwd\n")}, []string{"field dockerfile", "leaves the component directory"}},
		{"secret as build arg", []string{"build-all", "--components-dir", one("args: {DB_PASSWORD: x}\n")}, []string{"field args.DB_PASSWORD", "declare it under secrets"}},
		{"invalid tag", []string{"publish", "--components-dir", good, "--registry", "localhost:5000", "--tag", "v1 beta"}, []string{`tag "v1 beta" is not valid`}},
		{"tag too long", []string{"publish", "--components-dir", good, "--registry", "localhost:5000", "--tag", strings.Repeat("x", 200)}, []string{"is not valid"}},
		{"invalid registry", []string{"publish", "--components-dir", good, "--registry", "https://harbor.example.com"}, []string{`registry "https://harbor.example.com"`, "not host[:port][/project]"}},
		{"registry missing", []string{"publish", "--components-dir", good}, []string{"registry is empty"}},
		{"empty components directory", []string{"build-all", "--components-dir", t.TempDir()}, []string{"no components found"}},
		{"missing components directory", []string{"build-all", "--components-dir", "/nonexistent/components"}, []string{"/nonexistent/components"}},
		{"unknown component selected", []string{"build-all", "--components-dir", good, "--components", "ghost"}, []string{`unknown component "ghost"`}},
		{"jobs zero", []string{"build-all", "--components-dir", good, "--jobs", "0"}, []string{"--jobs 0"}},
		{"bad format", []string{"plan", "--components-dir", good, "--format", "xml"}, []string{"--format"}},
		{"secret flag malformed", []string{"build-all", "--components-dir", good, "--secret", "token=hunter2"}, []string{"--secret", "id=env:VAR"}},
		{"password file missing", []string{"publish", "--components-dir", good, "--registry", "localhost:5000", "--password-file", "/nonexistent/pw"}, []string{"--password-file"}},
		{"huge build context", []string{"build-all", "--components-dir", good, "--max-context", "10"}, []string{"web", "build context is", "over the", ".dockerignore"}},
	}
	require.GreaterOrEqual(t, len(cases), 25)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errw := cliRun(t, bin, env, tc.args...)
			assert.Equal(t, 2, code, errw)
			for _, w := range tc.want {
				assert.Contains(t, errw, w)
			}
			assert.NotContains(t, errw, "hunter2", "no secret echoed")
			assert.NotContains(t, errw, "engine", "no engine work was started")
		})
	}
	t.Logf("figures: bad_input_cases=%d", len(cases))
}
