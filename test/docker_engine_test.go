//go:build engine

package system_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
)

// The Docker road under test: its own names, network and port, so a
// developer's Docker-road engine and the world's registry on 5000 stay as
// they are. The engine mirrors docker.io to its own stage registry, seeded
// from the world's, since nothing can be pulled here.
var roadEnv = []string{
	"MATRIX_DOCKER_NAME=matrix-roadtest",
	"MATRIX_DOCKER_PUBLISH=127.0.0.1:5010",
	"MATRIX_DOCKER_SUBNET=172.30.58.0/24",
	"MATRIX_DOCKER_IP=172.30.58.2",
	"MATRIX_DOCKER_MIRROR=localhost:5000",
}

// TestDockerRoadEngineRegistry runs the GitHub release jobs' own `run:`
// steps, in order, against a real Docker daemon (Debian's docker.io) with
// the engine in a container: the Docker-road set-up, each leg (build-all
// --push-by-digest of one platform) and the merge, over base and child
// (FROM base). GITHUB_ENV carries the
// set-up's environment to the later steps, as on a runner. The published
// indexes are read back with go-containerregistry. Then, on the same road,
// checkCallCache.
func TestDockerRoadEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository (and engine); see ci/test.sh
	enginetest.Docker(t)
	world := enginetest.Registry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()

	dir := roadCheckout(t)
	ghEnv := filepath.Join(t.TempDir(), "github-env")
	require.NoError(t, os.WriteFile(ghEnv, nil, 0o600))
	env := append(os.Environ(), roadEnv...)
	env = append(env, "GITHUB_ENV="+ghEnv, "MATRIX_DOCKER_ENV="+filepath.Join(t.TempDir(), "docker.env"))
	// down, not clean: the road's engine keeps its volume, so the next run
	// loads the module and builds the fixtures warm, as a developer's road
	// does. A fresh machine (ci/world/down.sh --clean) starts it cold.
	t.Cleanup(func() {
		cmd := exec.Command("sh", "ci/world/docker.sh", "down")
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, string(out))
	})

	// A set-up killed earlier left its lock behind: the first set-up takes
	// it over instead of waiting and failing.
	lock := staleRoadLock(t, "matrix-roadtest")
	tookOver := false

	var wf ciWorkflowDoc
	ciReadYAML(t, ciWorkflow, &wf)
	version := enginetest.Unique("v0")
	seeded := false
	var figures []string
	// The release fans out: the leg job once per platform (its matrix), each
	// leaving results/ARCH.json in the checkout, as upload-artifact and
	// download-artifact would carry them; then the merge job.
	runs := []struct{ job, arch string }{{"release-leg", "amd64"}, {"release-leg", "arm64"}, {"release", ""}}
	for _, run := range runs {
		job, ok := wf.Jobs[run.job]
		require.True(t, ok, "%s has a %s job", ciWorkflow, run.job)
		for i, st := range job.Steps {
			if st.Run == "" {
				continue // actions: checkout, the CLI install and the artifacts are this machine's own
			}
			if strings.Contains(st.Run, "dagger call") && !seeded {
				seedRoad(t, ctx, world, "127.0.0.1:5010")
				seeded = true
			}
			stepEnv := append(append([]string(nil), env...), githubEnv(t, ghEnv)...)
			registry := envValue(stepEnv, "MATRIX_REGISTRY") + "/roadtest"
			// The workflow's env: COMPONENTS_DIR, no repository variable set.
			stepEnv = append(stepEnv, "COMPONENTS_DIR=components", "VERSION="+version, "REGISTRY="+registry,
				"REGISTRY_USERNAME=robot", "REGISTRY_PASSWORD=road-secret", "ARCH="+run.arch, "REVISION="+gitRev(t, "HEAD"))
			t0 := time.Now()
			cmd := exec.CommandContext(ctx, "bash", "-e", "-c", st.Run)
			cmd.Dir, cmd.Env = dir, stepEnv
			code, out, errw := enginetest.Run(t, cmd)
			require.Equal(t, 0, code, "%s %s step %d %q:\n%s\n%s", run.job, run.arch, i+1, st.Run, out, errw)
			figures = append(figures, fmt.Sprintf("%s%s-step%d=%s", run.job, run.arch, i+1, time.Since(t0).Round(time.Second)))
			assert.NotContains(t, out+errw, "road-secret", "the password never reaches the output")
			tookOver = tookOver || strings.Contains(errw, "taking over "+lock)
			if strings.Contains(st.Run, "dagger call") && strings.Contains(st.Run, " merge ") {
				assert.Contains(t, out, "4/4 cells verified")
			}
		}
	}
	require.True(t, seeded, "the release jobs ran dagger call")
	assert.True(t, tookOver, "a set-up took over the stale lock %s", lock)

	// Read back through the published port, as the host does.
	for _, img := range []string{"fixture-base", "fixture-child"} {
		idx, err := publish.ReadBack(ctx, enginetest.Ref(t, "127.0.0.1:5010/roadtest/"+img+":"+version), []string{"linux/amd64", "linux/arm64"})
		require.NoError(t, err, "%s:%s holds both platforms", img, version)
		assert.NotNil(t, idx)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		base, child := layers(t, "127.0.0.1:5010/roadtest/fixture-base:"+version, arch), layers(t, "127.0.0.1:5010/roadtest/fixture-child:"+version, arch)
		require.Greater(t, len(child), len(base))
		assert.Equal(t, base, child[:len(base)], "child linux/%s is built FROM this run's base linux/%s", arch, arch)
	}
	t.Logf("figures: docker road wall=%s steps=%s", time.Since(start).Round(time.Second), strings.Join(figures, " "))

	// The same road, its module loaded: the functions that write are never
	// answered from Dagger's call cache.
	t.Run("call cache", func(t *testing.T) {
		checkCallCache(t, ctx, dir, append(env, roadEnvFile(t, envValue(env, "MATRIX_DOCKER_ENV"))...), world, "matrix-roadtest", "127.0.0.1:5010")
	})
}

// staleRoadLock leaves the lock of road name as a set-up killed mid-way
// leaves it: held by a process of this host that is gone. It returns the
// lock's path, as docker.sh names it.
func staleRoadLock(t *testing.T, name string) string {
	t.Helper()
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	host, err := os.Hostname()
	require.NoError(t, err)
	lock := filepath.Join(os.TempDir(), "matrix-docker-"+name+".lock")
	require.NoError(t, os.MkdirAll(lock, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(lock, "holder"), fmt.Appendf(nil, "%s %d\n", host, gone.Process.Pid), 0o644))
	return lock
}

// roadCheckout is a copy of the repository's tracked files whose components/
// holds only base and child: the module loads from it as from a checkout.
func roadCheckout(t *testing.T) string {
	t.Helper()
	dir := checkoutCopy(t, false)
	require.NoError(t, os.Rename(enginetest.DependencyFixtures(t), filepath.Join(dir, "components")))
	return dir
}

// checkoutCopy copies the repository's files, as the work tree has them
// (tracked, and new ones not ignored), into a new directory; withComponents
// false leaves components/ out.
func checkoutCopy(t *testing.T, withComponents bool) string {
	t.Helper()
	dir := t.TempDir()
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = enginetest.Root()
	out, err := ls.Output()
	require.NoError(t, err)
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if !withComponents && strings.HasPrefix(f, "components/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(enginetest.Root(), f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		require.NoError(t, err)
		info, err := os.Stat(filepath.Join(enginetest.Root(), f))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, info.Mode().Perm()))
	}
	return dir
}

// seedRoad copies the base image of the fixtures, all platforms, from the
// world's registry into the Docker road's, and the syft image of the SBOMs
// (the engine's platform only: it runs there).
func seedRoad(t *testing.T, ctx context.Context, from, to string) {
	t.Helper()
	const img = "library/debian:bookworm-slim"
	tool := strings.TrimPrefix(sbom.DefaultImage, "docker.io/")
	for _, c := range []struct {
		ref  string
		opts []crane.Option
	}{
		{img, nil},
		{tool, []crane.Option{crane.WithPlatform(&v1.Platform{OS: "linux", Architecture: runtime.GOARCH})}},
	} {
		opts := append([]crane.Option{crane.WithContext(ctx), crane.Insecure}, c.opts...)
		// A registry container just (re)started may drop the first
		// connections through Docker's port proxy (EOF), though /v2/ answered.
		var err error
		for try := 0; try < 3; try++ {
			if err = crane.Copy(from+"/"+c.ref, to+"/"+c.ref, opts...); err == nil {
				break
			}
			time.Sleep(2 * time.Second)
		}
		require.NoError(t, err, "seeding %s", c.ref)
	}
}

// githubEnv reads the KEY=VALUE lines steps appended to GITHUB_ENV.
func githubEnv(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.Contains(s.Text(), "=") {
			out = append(out, s.Text())
		}
	}
	return out
}

// envValue is the last value of key in env.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
