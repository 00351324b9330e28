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

// docFiles are the files whose commands TestReadmeCommands checks: the
// README and every page of docs/.
func docFiles(t *testing.T) []string {
	pages, err := filepath.Glob(filepath.Join(enginetest.Root(), "docs", "*.md"))
	require.NoError(t, err)
	return append([]string{filepath.Join(enginetest.Root(), "README.md")}, pages...)
}

// docCommand is one line of a ```sh block, and the file it is in.
type docCommand struct{ file, line string }

// docCommands returns the lines of the ```sh blocks of the README and docs/.
func docCommands(t *testing.T) []docCommand {
	var out []docCommand
	for _, path := range docFiles(t) {
		f, err := os.Open(path)
		require.NoError(t, err)
		name, _ := filepath.Rel(enginetest.Root(), path)
		in := false
		s := bufio.NewScanner(f)
		for s.Scan() {
			line := strings.TrimSpace(s.Text())
			switch {
			case line == "```sh":
				in = true
			case strings.HasPrefix(line, "```"):
				in = false
			case in && line != "" && !strings.HasPrefix(line, "#"):
				out = append(out, docCommand{name, line})
			}
		}
		require.NoError(t, s.Err())
		require.NoError(t, f.Close())
	}
	return out
}

var flagRE = regexp.MustCompile(`(?:^|\s)(--[a-z][a-z-]*)`)

// TestReadmeCommands exercises every command of the README and of docs/:
// safe ones run here, the rest are checked against the real CLI's and
// module's --help (so a renamed flag or function fails), or are run by
// .ci/run and named tests.
func TestReadmeCommands(t *testing.T) {
	// It runs `matrix doctor` and asks the module for --help: without an
	// engine (a hosted runner's unit-test step) it skips, or fails in CI.
	enginetest.Engine(t)
	cmds := docCommands(t)
	require.NotEmpty(t, cmds)
	bin := buildCLI(t)
	keys := t.TempDir() // docs/publishing.md's openssl lines make a key pair here, in order
	ranElsewhere := map[string]string{
		"MATRIX_DAGGER_BUNDLE=../shared/dagger ci/world/up.sh": ".ci/run",
		"go test -count=1 ./...":                               "ci/test.sh (the same tests, with -tags engine)",
		"export REGISTRY_PASSWORD=...":                         "shell variable",
		"cd dist && sha256sum -c SHA256SUMS":                   "TestExportSkopeoImportEngine, TestDaggerCallPublishEngineRegistry",
	}
	for _, c := range cmds {
		line := c.line
		t.Run(filepath.Base(c.file)+": "+line, func(t *testing.T) {
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
				// Run-wide flags (global, each with a value) come before the verb;
				// a trailing # comment is not part of the command.
				cmdline, _, _ := strings.Cut(line, " #")
				args, i := strings.Fields(cmdline)[3:], 0
				for i < len(args) && strings.HasPrefix(args[i], "--") {
					if !strings.Contains(args[i], "=") {
						i++
					}
					i++
				}
				require.Less(t, i, len(args), "no verb in %q", line)
				sub := args[i]
				global, help := run(t, bin, "--help"), run(t, bin, sub, "--help")
				for _, fl := range flagRE.FindAllStringSubmatch(strings.Join(args[:i], " "), -1) {
					assert.Contains(t, global, fl[1], "matrix has global flag %s", fl[1])
				}
				for _, fl := range flagRE.FindAllStringSubmatch(strings.Join(args[i+1:], " "), -1) {
					assert.Contains(t, help, fl[1], "matrix %s has flag %s", sub, fl[1])
				}
				if sub == "plan" || sub == "doctor" { // safe: run them for real
					out := run(t, bin, args...)
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
			case line == "ci/test.sh":
				// .ci/run runs it after setting up the same world; alone, it sets the world up itself.
				script := readRoot(t, "ci/test.sh")
				up := "ci/world/up.sh --docker --second-engine --test-tools"
				assert.Contains(t, script, "\n  "+up+"\n", "ci/test.sh sets up the world the tests use")
				ciRun := readRoot(t, ".ci/run")
				assert.Contains(t, ciRun, "timed up.sh "+up+"\n", ".ci/run sets up the same world")
				assert.Regexp(t, `(?m)^timed test ci/test\.sh$`, ciRun, ".ci/run runs the test command the README names")
			case line == "ci/build-all.sh":
				// The set-up runs in .ci/run; the 24 cells in TestAllComponentsEngineRegistry. Here: that the
				// script sets up the world, points dagger at it and runs the README's main job.
				script := readRoot(t, "ci/build-all.sh")
				assert.Regexp(t, `(?m)^ci/world/up\.sh$`, script, "ci/build-all.sh sets up the world")
				assert.Contains(t, script, `. "${MATRIX_STATE:-/var/lib/matrix}/env"`, "ci/build-all.sh points dagger at the world's engine")
				main := "dagger call build-all --platforms linux/amd64,linux/arm64"
				assert.Regexp(t, `(?m)^exec `+regexp.QuoteMeta(main)+` "\$@"$`, script, "ci/build-all.sh runs the main job")
				help := daggerHelp(t, "build-all")
				assert.Contains(t, help, "--platforms", "dagger call build-all has flag --platforms")
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
				t.Fatalf("%s: command not covered by a test: %s", c.file, line)
			}
		})
	}
}

// readRoot returns a file of the checkout.
func readRoot(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(enginetest.Root(), name))
	require.NoError(t, err)
	return string(b)
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
