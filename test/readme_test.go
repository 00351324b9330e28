//go:build engine

package system_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/signature"
)

// readmeCommands returns the lines of the README's ```sh blocks.
func readmeCommands(t *testing.T) []string {
	f, err := os.Open(enginetest.Root() + "/README.md")
	require.NoError(t, err)
	defer f.Close()
	var out []string
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "```sh":
			in = true
		case line == "```":
			in = false
		case in && line != "" && !strings.HasPrefix(line, "#"):
			out = append(out, line)
		}
	}
	return out
}

var flagRE = regexp.MustCompile(`(?:^|\s)(--[a-z][a-z-]*)`)

// TestReadmeCommands exercises every command of the README: safe ones run
// here, the rest are checked against the real CLI's and module's --help (so
// a renamed flag or function fails), or are run by .ci/run and named tests.
func TestReadmeCommands(t *testing.T) {
	// It runs `matrix doctor` and asks the module for --help: without an
	// engine (a hosted runner's unit-test step) it skips, or fails in CI.
	enginetest.Engine(t)
	cmds := readmeCommands(t)
	require.NotEmpty(t, cmds)
	bin := buildCLI(t)
	keys := t.TempDir() // the README's openssl lines make a key pair here, in order
	ranElsewhere := map[string]string{
		"MATRIX_DAGGER_BUNDLE=../shared/dagger ci/world/up.sh": ".ci/run",
		"ci/test.sh":                         ".ci/run",
		"go test -count=1 ./...":             "ci/test.sh (the same tests, with -tags engine)",
		"export REGISTRY_PASSWORD=...":       "shell variable",
		"cd dist && sha256sum -c SHA256SUMS": "TestExportSkopeoImportEngine, TestDaggerCallPublishEngineRegistry",
	}
	for _, line := range cmds {
		t.Run(line, func(t *testing.T) {
			if where, ok := ranElsewhere[line]; ok {
				t.Logf("exercised by %s", where)
				return
			}
			f := strings.Fields(line)
			if len(f) > 3 && f[0] == "dagger" && f[1] == "-m" && f[3] == "call" {
				// The module called by reference: the same functions and flags
				// (TestRepoEngineRegistry calls it by its path from another checkout).
				line = "dagger " + strings.Join(f[3:], " ")
				f = strings.Fields(line)
			}
			switch {
			case strings.HasPrefix(line, "go run ./cmd/matrix "):
				sub := f[3]
				help := run(t, bin, sub, "--help")
				for _, fl := range flagRE.FindAllStringSubmatch(line, -1) {
					assert.Contains(t, help, fl[1], "matrix %s has flag %s", sub, fl[1])
				}
				if sub == "plan" || sub == "doctor" { // safe: run them for real
					out := run(t, bin, f[3:]...)
					assert.NotEmpty(t, out)
				}
			case strings.HasPrefix(line, "dagger call "):
				// Run-wide flags (the module's constructor) come before the
				// function, each with its value.
				i := 2
				for i+1 < len(f) && strings.HasPrefix(f[i], "--") {
					assert.Contains(t, daggerHelp(t, ""), f[i], "dagger call has run-wide flag %s", f[i])
					i += 2
				}
				fn := f[i]
				help := daggerHelp(t, fn)
				for _, fl := range flagRE.FindAllStringSubmatch(strings.SplitN(strings.Join(f[i:], " "), " export --path", 2)[0], -1) {
					assert.Contains(t, help, fl[1], "dagger call %s has flag %s", fn, fl[1])
				}
			case strings.HasPrefix(line, "openssl "):
				cmd := exec.Command("sh", "-c", line)
				cmd.Dir = keys
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, string(out))
				if strings.Contains(line, "-pubout") { // the pair is complete: --sign-key takes its private half
					priv, err := os.ReadFile(filepath.Join(keys, "sign.key"))
					require.NoError(t, err)
					_, err = signature.ParseKey(priv)
					assert.NoError(t, err, "--sign-key takes what openssl made")
				}
			case strings.HasPrefix(line, "cosign verify "), strings.HasPrefix(line, "oras discover "), strings.HasPrefix(line, `echo '{"mediaType":"application/vnd.dev.sigstore.trustedroot`):
				// TestAttestEngineRegistry runs the verification with these
				// flags (and lists referrers with oras-go).
				src, err := os.ReadFile(filepath.Join(enginetest.Root(), "test", "attest_engine_test.go"))
				require.NoError(t, err)
				switch f[0] {
				case "cosign":
					for _, fl := range flagRE.FindAllStringSubmatch(line, -1) {
						assert.Contains(t, string(src), `"`+fl[1]+`"`, "TestAttestEngineRegistry runs cosign %s", fl[1])
					}
				case "oras":
					assert.Contains(t, string(src), "o.Referrers(", "TestAttestEngineRegistry lists referrers with oras-go")
				default:
					assert.Contains(t, string(src), strings.Split(line, "'")[1], "the same trust root")
				}
			case line == "dagger functions":
				out, code := dagger(t, enginetest.Context(t), "functions")
				assert.Equal(t, 0, code, out)
			case line == "task --list":
				cmd := exec.Command("task", "--list")
				cmd.Dir = enginetest.Root()
				cmd.Env = append(os.Environ(), "NO_COLOR=1")
				raw, err := cmd.CombinedOutput()
				require.NoError(t, err, string(raw))
				out := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAll(raw, nil)
				for _, task := range []string{"setup", "build-all", "publish", "export", "test", "bench", "lint", "clean"} {
					assert.Regexp(t, `(?m)^\* `+regexp.QuoteMeta(task)+`:\s+\S`, string(out), "task %s listed with a description", task)
				}
			case line == "task runners":
				// TestRunners (build tag runners) is what it runs; here, that the task exists and runs it.
				cmd := exec.Command("task", "--summary", "runners")
				cmd.Dir = enginetest.Root()
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, string(out))
				assert.Contains(t, string(out), "-run '^TestRunners$'", "task runners runs TestRunners")
			case strings.HasPrefix(line, "sh ci/world/docker.sh "):
				// The set-up both CI files run (TestCIFiles); up runs in TestDockerRoadEngineRegistry.
				cmd := exec.Command("sh", "ci/world/docker.sh", "--help")
				cmd.Dir = enginetest.Root()
				help, err := cmd.CombinedOutput()
				require.NoError(t, err, string(help))
				assert.Contains(t, string(help), "ci/world/docker.sh "+f[2], "docker.sh has the %s command", f[2])
			case strings.HasPrefix(line, ". ~/.cache/matrix/docker.env"):
				b, err := os.ReadFile(enginetest.Root() + "/ci/world/docker.sh")
				require.NoError(t, err)
				assert.Contains(t, string(b), "/.cache/matrix/docker.env}", "docker.sh writes its env where the README sources it")
			case strings.HasPrefix(line, "docker run --privileged --rm tonistiigi/binfmt:"):
				b, err := os.ReadFile(enginetest.Root() + "/.gitlab-ci.yml")
				require.NoError(t, err)
				assert.Contains(t, string(b), "- "+line, "the same pinned binfmt line as the GitLab jobs")
			case strings.HasPrefix(line, "skopeo copy --all"):
				assert.Contains(t, line, "oci-archive:", "the import shape TestExportSkopeoImportEngine runs")
			default:
				t.Fatalf("README command not covered by a test: %s", line)
			}
		})
	}
}

func buildCLI(t *testing.T) string {
	bin := t.TempDir() + "/matrix"
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/matrix")
	cmd.Dir = enginetest.Root()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

func run(t *testing.T, bin string, args ...string) string {
	cmd := exec.Command(bin, args...)
	cmd.Dir = enginetest.Root()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}

var helpCache = map[string]string{}

func daggerHelp(t *testing.T, fn string) string {
	if h, ok := helpCache[fn]; ok {
		return h
	}
	args := []string{"call", fn, "--help"}
	if fn == "" {
		args = []string{"call", "--help"}
	}
	out, code := dagger(t, enginetest.Context(t), args...)
	require.Equal(t, 0, code, out)
	helpCache[fn] = out
	return out
}
