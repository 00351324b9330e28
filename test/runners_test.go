//go:build engine && runners

package system_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
)

// The runners test (task runners; docs/ci.md: the CI files, run here) runs
// .github/workflows/ci.yml with act and .gitlab-ci.yml with gitlab-ci-local,
// job by job, on this machine: the pull/merge request and the v* tag, each
// once on the 12 components and once on a fixture whose cell fails only on
// arm64 (COMPONENTS_DIR, which both files honour). It stands in only for the
// steps that install tools from the internet (runnerStandIns below, and
// ci/runners/actions/); everything else runs as written. The engine is the
// Docker road's (ci/world/docker.sh), started by the jobs themselves in the
// real Docker daemon of `ci/world/up.sh --docker`.
//
// When every run passed, it records the CI files' checksums in
// ci/runners/last-run.sha256, which ci/lint.sh checks.
const runnersStamp = "ci/runners/last-run.sha256"

// runnersRoad is the Docker road of the runs: its own names, network and
// port. Its engine mirrors docker.io to its own registry, seeded with the
// components' bases from the world's, as nothing can be pulled here.
var runnersRoad = map[string]string{
	"MATRIX_DOCKER_NAME":   "matrix-runners",
	"MATRIX_DOCKER_SUBNET": "172.30.59.0/24",
	"MATRIX_DOCKER_IP":     "172.30.59.2",
	"MATRIX_DOCKER_MIRROR": "localhost:5000",
	// Not 5000: the world's registry has this host's port 5000.
	"MATRIX_DOCKER_PUBLISH": runnersPublish,
}

const (
	runnersPublish  = "127.0.0.1:5030"   // the road registry's port on this host
	runnersRegistry = "172.30.59.2:5000" // the same registry, as the engine and the jobs reach it
)

// runnerStandIns are the GitLab before_script lines that install tools from
// the internet, each with the offline line that does the same here. Every
// other line runs as written.
var runnerStandIns = []struct {
	line, standIn, why string
}{
	{`^apk add --no-cache curl$`, `command -v curl`,
		"apk has no mirror here; this machine has curl"},
	{`^curl -fsSL https://dl\.dagger\.io/dagger/install\.sh \| BIN_DIR=(\S+) DAGGER_VERSION=(\S+) sh$`,
		// A regexp template: $$ is one $, ${2} the pinned version.
		`mkdir -p "$$CI_PROJECT_DIR/.runners-bin" && ln -sf "$${MATRIX_DAGGER_CLI:-/var/lib/matrix/bin/dagger}" "$$CI_PROJECT_DIR/.runners-bin/dagger" && export PATH="$$CI_PROJECT_DIR/.runners-bin:$$PATH" && dagger version | grep -q "^dagger v${2} "`,
		"dl.dagger.io is not reachable; the CLI built from ../shared/dagger, checked to be the pinned version"},
	{`^docker run --privileged --rm tonistiigi/binfmt:\S+ --install arm64$`,
		`grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64`,
		"the binfmt image cannot be pulled; ci/world/up.sh registered qemu-aarch64 (flag F) already"},
}

// runnerDind stands in for the docker:dind service: the jobs talk to this
// machine's Docker daemon, so the registry port is published and read back
// on loopback, not on the service's host name.
var runnerDind = map[string]string{
	"DOCKER_HOST":            "unix:///var/run/docker.sock",
	"DOCKER_TLS_VERIFY":      "",
	"DOCKER_CERT_PATH":       "",
	"DOCKER_TLS_CERTDIR":     "",
	"MATRIX_DOCKER_PUBLISH":  runnersPublish,
	"MATRIX_DOCKER_READBACK": runnersPublish,
}

// runnerActions are the GitHub actions the workflow may use: the stand-ins
// kept in ci/runners/actions/, and actions/checkout, which act itself
// replaces by a copy of the local checkout.
var runnerActions = map[string]string{
	"actions/setup-go":          "ci/runners/actions/setup-go",
	"docker/setup-qemu-action":  "ci/runners/actions/setup-qemu-action",
	"dagger/dagger-for-github":  "ci/runners/actions/dagger-for-github",
	"actions/upload-artifact":   "ci/runners/actions/upload-artifact",
	"actions/download-artifact": "ci/runners/actions/download-artifact",
	"actions/checkout":          "",
}

// runnerRun is one run of a CI file by its runner.
type runnerRun struct {
	name  string
	args  []string
	fails bool   // the fixture whose cell fails on arm64
	repo  string // the repository published under, for a release
	kept  string // where the upload-artifact stand-in keeps this run's artifacts
}

func TestRunners(t *testing.T) {
	enginetest.Docker(t)
	world := enginetest.Registry(t)
	bin := os.Getenv("MATRIX_RUNNERS_BIN")
	if bin == "" {
		bin = "/var/lib/matrix/runners/bin"
	}
	for _, tool := range []string{"act", "gitlab-ci-local"} {
		_, err := os.Stat(filepath.Join(bin, tool))
		require.NoError(t, err, "%s: install the runners with ci/runners/tools.sh", tool)
	}
	logs := filepath.Join(filepath.Dir(bin), "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))

	fixture := enginetest.Fixtures(t, true)
	dir := runnersCheckout(t)
	runnersRoadUp(t, dir, world)
	secret := runnersSecret(t)
	version := "v0.0." + fmt.Sprint(time.Now().Unix())

	var results []string
	record := func(r runnerRun, code int, wall time.Duration, steps []string) {
		results = append(results, fmt.Sprintf("%s: exit %d in %s", r.name, code, wall.Round(time.Second)))
		for _, s := range steps {
			results = append(results, "    "+s)
		}
	}
	run := func(t *testing.T, r runnerRun, tool string, env []string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
		defer cancel()
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, tool), r.args...)
		cmd.Dir, cmd.Env = dir, env
		out, _ := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		require.NoError(t, os.WriteFile(filepath.Join(logs, r.name+".log"), out, 0o644))
		steps := runnerSteps(string(out))
		record(r, code, time.Since(t0), steps)
		t.Logf("%s: exit %d in %s (log %s)\n%s", r.name, code, time.Since(t0).Round(time.Second),
			filepath.Join(logs, r.name+".log"), strings.Join(steps, "\n"))
		assert.NotContains(t, string(out), secret, "%s: the registry password never reaches the log", r.name)
		if r.fails {
			assert.NotEqual(t, 0, code, "%s: a cell failing on arm64 fails the job", r.name)
			assert.Regexp(t, `armfails\s+linux/arm64\s+failed`, string(out), r.name)
		} else {
			assert.Equal(t, 0, code, "%s", r.name)
			assert.Contains(t, string(out), "24/24 cells verified", r.name)
		}
		if r.repo != "" {
			runnersPublished(t, r, version)
		}
		return string(out)
	}

	t.Run("github", func(t *testing.T) {
		env := runnerEnv()
		events := runnersEvents(t, version)
		// Both runner labels are this machine: the arm64 leg runs emulated.
		base := []string{"-W", ".github/workflows/ci.yml", "-P", "ubuntu-24.04=-self-hosted", "-P", "ubuntu-24.04-arm=-self-hosted", "--no-cache-server"}
		base = append(base, runnersLocalActions(t, dir)...)
		for _, k := range ciSortedKeys(runnersRoad) {
			base = append(base, "--env", k+"="+runnersRoad[k])
		}
		// The unit-test step runs with CI="" and must see no world, as on
		// a hosted runner: hide the world's registry (docker.sh sets the
		// road's for the steps after it).
		base = append(base, "--env", "MATRIX_DOCKER_ENV="+filepath.Join(t.TempDir(), "docker.env"), "--env", "MATRIX_REGISTRY=127.0.0.1:9")
		// The password as a secret, from a file: never on a command line.
		secrets := filepath.Join(t.TempDir(), "secrets")
		require.NoError(t, os.WriteFile(secrets, []byte("REGISTRY_PASSWORD="+secret+"\n"), 0o600))
		release := []string{"--var", "REGISTRY_USERNAME=robot", "--secret-file", secrets}
		artifacts := func() []string { // each run's own, for the upload/download-artifact stand-ins
			return []string{"--env", "MATRIX_RUNNERS_ARTIFACTS=" + t.TempDir()}
		}
		release = append(release, artifacts()...)
		pr, prFails := t.TempDir(), t.TempDir()
		for _, r := range []runnerRun{
			{name: "github-pull-request", kept: pr,
				args: append(slices.Clone(base), "pull_request", "-e", events["pull_request"], "--env", "MATRIX_RUNNERS_ARTIFACTS="+pr)},
			{name: "github-pull-request-armfails", fails: true, kept: prFails,
				args: append(slices.Clone(base), "pull_request", "-e", events["pull_request"], "--var", "COMPONENTS_DIR="+fixture, "--env", "MATRIX_RUNNERS_ARTIFACTS="+prFails)},
			{name: "github-release", repo: "runners-gh",
				args: append(append(slices.Clone(base), "push", "-e", events["push"], "--var", "REGISTRY="+runnersRegistry+"/runners-gh"), release...)},
			{name: "github-release-armfails", fails: true, repo: "runners-gh-armfails",
				args: append(append(append(slices.Clone(base), "push", "-e", events["push"], "--var", "REGISTRY="+runnersRegistry+"/runners-gh-armfails",
					"--var", "COMPONENTS_DIR="+fixture), release...), artifacts()...)},
		} {
			out := run(t, r, "act", env)
			job := "pull-request"
			if r.repo != "" {
				job = "release"
			}
			assert.Contains(t, out, "🏁  Job ", "%s: act ran the %s job", r.name, job)
			if r.repo != "" {
				runnersFannedOut(t, r, out)
			}
			if r.kept != "" {
				runnersTimelineKept(t, r, filepath.Join(r.kept, "reports"))
			}
		}
	})

	t.Run("gitlab", func(t *testing.T) {
		runnersGitLabOverride(t, dir)
		// The shell executor is this machine: its Go stands in for the
		// golang image of the test job.
		env := append(runnerEnv(), "GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE,CI_COMMIT_TAG",
			"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		base := []string{"--force-shell-executor"}
		for _, k := range ciSortedKeys(runnersRoad) {
			base = append(base, "--variable", k+"="+runnersRoad[k])
		}
		mr := append(slices.Clone(base), "--variable", "CI_PIPELINE_SOURCE=merge_request_event", "--variable", "CI_MERGE_REQUEST_IID=1",
			"--variable", "MATRIX_REGISTRY=127.0.0.1:9") // the test job sees no world, as on GitLab.com
		// The password as a project variable, from a file: never on a command line.
		vars := filepath.Join(t.TempDir(), "variables.yml")
		require.NoError(t, os.WriteFile(vars, []byte("REGISTRY_PASSWORD: "+secret+"\n"), 0o600))
		tag := append(slices.Clone(base), "--variable", "CI_PIPELINE_SOURCE=push", "--variable", "CI_COMMIT_TAG="+version,
			"--variable", "REGISTRY_USERNAME=robot", "--variables-file", vars)
		for _, r := range []runnerRun{
			{name: "gitlab-merge-request", args: mr},
			{name: "gitlab-merge-request-armfails", fails: true, args: append(slices.Clone(mr), "--variable", "COMPONENTS_DIR="+fixture, "build-all")},
			{name: "gitlab-release", repo: "runners-gl", args: append(slices.Clone(tag), "--variable", "REGISTRY="+runnersRegistry+"/runners-gl")},
			{name: "gitlab-release-armfails", fails: true, repo: "runners-gl-armfails",
				args: append(slices.Clone(tag), "--variable", "REGISTRY="+runnersRegistry+"/runners-gl-armfails", "--variable", "COMPONENTS_DIR="+fixture)},
		} {
			out := run(t, r, "gitlab-ci-local", env)
			if r.repo == "" {
				// The report artifacts, kept when the job fails too.
				junit, err := os.ReadFile(filepath.Join(dir, ".gitlab-ci-local/artifacts/build-all/reports/junit.xml"))
				if assert.NoError(t, err, "%s: build-all keeps reports/junit.xml as an artifact", r.name) {
					assert.Equal(t, r.fails, strings.Contains(string(junit), "<failure"), "%s: junit.xml has a failure exactly when a cell failed", r.name)
				}
				_, err = os.Stat(filepath.Join(dir, ".gitlab-ci-local/artifacts/build-all/reports/report.html"))
				assert.NoError(t, err, "%s: build-all keeps reports/report.html (exposed in the merge request)", r.name)
				require.NoError(t, os.RemoveAll(filepath.Join(dir, ".gitlab-ci-local/artifacts")))
			}
			if r.repo != "" {
				runnersFannedOut(t, r, out)
			}
		}
	})

	t.Logf("runs:\n%s", strings.Join(results, "\n"))
	if !t.Failed() {
		require.NoError(t, os.WriteFile(filepath.Join(enginetest.Root(), runnersStamp), []byte(runnersStampText(t, enginetest.Root(), results)), 0o644))
		t.Logf("recorded %s", runnersStamp)
	}
}

// runnersTimelineKept checks what a pull-request job keeps, when it fails
// too: the timeline page as an artifact, and the step summary's Mermaid
// gantt (the job appends summary.md to $GITHUB_STEP_SUMMARY, which act
// keeps inside the job's container).
func runnersTimelineKept(t *testing.T, r runnerRun, dir string) {
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if assert.NoError(t, err, "%s: the job keeps reports/report.html as an artifact", r.name) {
		assert.Contains(t, string(page), "<svg", "%s: report.html draws the timeline", r.name)
		if r.fails {
			assert.Contains(t, string(page), "armfails", "%s: report.html names the failed cell", r.name)
		}
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if assert.NoError(t, err, "%s: the job keeps reports/summary.md", r.name) {
		assert.Regexp(t, "(?s)```mermaid\\s+gantt.*```", string(summary), "%s: the step summary opens with a Mermaid gantt", r.name)
	}
}

// runnersCheckout is a git repository of the work tree's tracked files,
// with the prospective stamp in place (lint runs inside the jobs).
func runnersCheckout(t *testing.T) string {
	dir := checkoutCopy(t, true)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(runnersStamp)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, runnersStamp), []byte(runnersStampText(t, dir, nil)), 0o644))
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", "https://gitlab.example.com/ai-infra/matrix.git"}, // a name only: gitlab-ci-local reads the project path from it
		{"add", "-A"},
		{"-c", "user.email=runners@matrix.invalid", "-c", "user.name=runners", "commit", "-q", "-m", "runners"},
		{"update-ref", "refs/remotes/origin/main", "HEAD"}, // the remote's default branch, which gitlab-ci-local asks for
		{"symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return dir
}

// runnersRoadUp starts the road as the jobs will (they keep it) and seeds
// its registry with every base the components and fixtures build FROM.
func runnersRoadUp(t *testing.T, dir, world string) {
	env := os.Environ()
	for k, v := range runnersRoad {
		env = append(env, k+"="+v)
	}
	env = append(env, "MATRIX_DOCKER_ENV="+filepath.Join(t.TempDir(), "docker.env"))
	cmd := exec.Command("sh", "ci/world/docker.sh", "up")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "docker.sh up: %s", out)
	t.Cleanup(func() { // keep the volumes: the next run starts warm
		cmd := exec.Command("sh", "ci/world/docker.sh", "down")
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "docker.sh down: %s", out)
	})
	from := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?([^\s$]+)`)
	files, err := filepath.Glob(filepath.Join(dir, "components", "*", "Dockerfile"))
	require.NoError(t, err)
	bases := map[string]bool{"library/debian:bookworm-slim": true} // the fixtures'
	// The SBOM scanner the release jobs' attestations run (ci/world/up.sh seeds it in the world's).
	bases[strings.TrimPrefix(sbom.DefaultImage, "docker.io/")] = true
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range from.FindAllStringSubmatch(string(b), -1) {
			if !strings.Contains(m[1], "/") {
				m[1] = "library/" + m[1]
			}
			bases[m[1]] = true
		}
	}
	for _, img := range ciSortedKeys(bases) {
		require.NoError(t, crane.Copy(world+"/"+img, runnersPublish+"/"+img, crane.Insecure), "seeding %s", img)
	}
}

// runnersLocalActions maps every action the workflow uses to its stand-in,
// by the exact ref it pins; an action with no stand-in fails the test.
func runnersLocalActions(t *testing.T, dir string) []string {
	var wf ciWorkflowDoc
	ciReadYAML(t, ciWorkflow, &wf)
	var out []string
	seen := map[string]bool{}
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			if st.Uses == "" || seen[st.Uses] {
				continue
			}
			seen[st.Uses] = true
			action, _, _ := strings.Cut(st.Uses, "@")
			standIn, ok := runnerActions[action]
			require.True(t, ok, "%s uses %s, which has no offline stand-in in ci/runners/actions", ciWorkflow, st.Uses)
			if standIn != "" {
				out = append(out, "--local-repository", st.Uses+"="+filepath.Join(dir, standIn))
			}
		}
	}
	return out
}

// runnersGitLabOverride writes .gitlab-ci-local.yml, which gitlab-ci-local
// merges over .gitlab-ci.yml: the .dagger template without the dind
// service, with runnerDind's variables, and its before_script with each
// install line replaced by its stand-in. A line no stand-in matches stays;
// a stand-in that matches no line fails (the CI file changed).
func runnersGitLabOverride(t *testing.T, dir string) {
	var gl map[string]any
	ciReadYAML(t, ciGitLab, &gl)
	tmpl, _ := gl[".dagger"].(map[string]any)
	before := ciStrings(tmpl["before_script"])
	used := make([]bool, len(runnerStandIns))
	for i, line := range before {
		for j, s := range runnerStandIns {
			re := regexp.MustCompile(s.line)
			if re.MatchString(line) {
				before[i] = re.ReplaceAllString(line, s.standIn)
				used[j] = true
			}
		}
	}
	for j, ok := range used {
		require.True(t, ok, "%s: no .dagger before_script line matches the stand-in for %q", ciGitLab, runnerStandIns[j].line)
	}
	override := map[string]any{".dagger": map[string]any{"services": []any{}, "variables": runnerDind, "before_script": before}}
	b, err := yaml.Marshal(override)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitlab-ci-local.yml"), b, 0o644))
	t.Logf(".gitlab-ci-local.yml:\n%s", b)
}

// runnersEvents writes act's event payloads: a pull request, and the push
// of the tag version.
func runnersEvents(t *testing.T, version string) map[string]string {
	dir := t.TempDir()
	events := map[string]any{
		"pull_request": map[string]any{"number": 1, "pull_request": map[string]any{"number": 1,
			"head": map[string]any{"ref": "runners"}, "base": map[string]any{"ref": "main"}}},
		"push": map[string]any{"ref": "refs/tags/" + version, "ref_type": "tag"},
	}
	out := map[string]string{}
	for name, e := range events {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		out[name] = filepath.Join(dir, name+".json")
		require.NoError(t, os.WriteFile(out[name], b, 0o644))
	}
	return out
}

// runnerEnv is the runners' own environment: this machine's, without the
// world's engine and registry settings, which a hosted runner does not have.
func runnerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "_EXPERIMENTAL_DAGGER") || strings.HasPrefix(k, "MATRIX_") || k == "CI" || k == "GITHUB_ENV" {
			continue
		}
		if k == "PATH" { // no /var/lib/matrix/bin: the jobs install their dagger CLI
			kv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		}
		env = append(env, kv)
	}
	return append(env, "ACT_DISABLE_VERSION_CHECK=1")
}

// runnersPublished checks a release run's registry: all 12 indexes with
// both platforms under the version tag after a good run, nothing after a
// failed one.
func runnersPublished(t *testing.T, r runnerRun, version string) {
	repos, err := crane.Catalog(runnersPublish, crane.Insecure)
	require.NoError(t, err)
	var mine []string
	for _, repo := range repos {
		if strings.HasPrefix(repo, r.repo+"/") {
			mine = append(mine, repo)
		}
	}
	if r.fails {
		// The good leg pushed its variants by digest, under leg tags only,
		// and their attestations: a registry without the referrers API
		// keeps those under the OCI tag schema, sha256-<the variant's
		// digest>, which names a manifest the leg pushed, not a release.
		for _, repo := range mine {
			tags, err := crane.ListTags(runnersPublish+"/"+repo, crane.Insecure)
			require.NoError(t, err)
			for _, tag := range tags {
				if subject, ok := strings.CutPrefix(tag, "sha256-"); ok && len(subject) == 64 {
					_, err := crane.Head(runnersPublish+"/"+repo+"@sha256:"+subject, crane.Insecure)
					assert.NoError(t, err, "%s: the referrers tag %s:%s names a variant the good leg pushed", r.name, repo, tag)
					continue
				}
				assert.True(t, strings.HasPrefix(tag, "matrix-leg-"), "%s: a release whose leg failed moves no tag: %s:%s", r.name, repo, tag)
			}
		}
		return
	}
	comps, err := filepath.Glob(filepath.Join(enginetest.Root(), "components", "*", "component.yaml"))
	require.NoError(t, err)
	assert.Len(t, mine, len(comps), "%s: one index per component under %s", r.name, r.repo)
	for _, repo := range mine {
		for _, tag := range []string{version, "latest"} {
			_, err := publish.ReadBack(context.Background(), enginetest.Ref(t, runnersPublish+"/"+repo+":"+tag), []string{"linux/amd64", "linux/arm64"})
			assert.NoError(t, err, "%s: %s:%s holds both platforms", r.name, repo, tag)
		}
	}
}

// runnersFannedOut checks a release run's log (act names the steps,
// gitlab-ci-local prints each job's script lines and its PASS/FAIL): both
// legs ran, and the merge ran after them and succeeded, or, when a leg
// failed, never ran.
func runnersFannedOut(t *testing.T, r runnerRun, out string) {
	for _, arch := range []string{"amd64", "arm64"} {
		leg := regexp.MustCompile(`(?m)Run Main Build, verify and push by digest \(linux/` + arch + `\)|^release-` + arch + ` +\$ dagger call .*--push-by-digest`)
		assert.True(t, leg.MatchString(out), "%s: the %s leg ran", r.name, arch)
	}
	ran := regexp.MustCompile(`(?m)Run Main Merge|^release +\$ dagger call .* merge `)
	passed := regexp.MustCompile(`(?m)✅  Success - Main Merge|^ PASS  release *$`)
	if r.fails {
		assert.False(t, ran.MatchString(out), "%s: no merge after a failed leg", r.name)
		assert.Contains(t, out, `"digest": "sha256:`, "%s: the good leg still pushed by digest (its results)", r.name)
		return
	}
	assert.True(t, ran.MatchString(out) && passed.MatchString(out), "%s: the merge ran and succeeded", r.name)
	assert.Contains(t, out, "by digest: ", "%s: the merge assembled the legs' digests", r.name)
}

// runnerSteps are the step and job results in a runner's log.
func runnerSteps(out string) []string {
	re := regexp.MustCompile(`(?m)(✅  Success - .*|❌  Failure - .*|🏁  Job .*|^\s*(PASS|FAIL|WARN)\s+\S+.*$)`)
	var steps []string
	for _, m := range re.FindAllString(out, -1) {
		steps = append(steps, strings.TrimSpace(m))
	}
	return steps
}

// runnersSecret is a password no log may show.
func runnersSecret(t *testing.T) string {
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "runners-" + hex.EncodeToString(b)
}

// runnersStampText is the stamp of the CI files in root: sha256sum lines,
// after a comment with the runs.
func runnersStampText(t *testing.T, root string, results []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The CI files as `task runners` last ran them (act, gitlab-ci-local); ci/lint.sh checks.\n")
	if results != nil {
		fmt.Fprintf(&b, "# %s\n", time.Now().UTC().Format(time.RFC3339))
		for _, r := range results {
			if !strings.HasPrefix(r, " ") {
				fmt.Fprintf(&b, "# %s\n", r)
			}
		}
	}
	for _, f := range []string{ciWorkflow, ciGitLab} {
		data, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), f)
	}
	return b.String()
}
