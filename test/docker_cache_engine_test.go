//go:build engine

package system_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// checkCallCache: on the Docker road the engine reaches the registry
// itself, with no service argument in the call, so nothing but
// +cache="never" keeps Dagger from answering a repeated call from its cache
// without running it. Through `dagger call`, on the road TestDockerRoadEngineRegistry
// set up (name, its registry container's prefix; hostPort, its published
// registry): import a bundle, delete the registry's storage and restart it,
// import again: the second call pushes again and the index reads back; a
// third call finds it all there (a cached answer would repeat the first).
// The same for a leg of build-all --push-by-digest: its variant is in the
// registry again after the wipe. env holds the road's settings and the
// variables of its env file.
func checkCallCache(t *testing.T, ctx context.Context, dir string, env []string, world, name, hostPort string) {
	road := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, "sh", append([]string{"ci/world/docker.sh"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	call := func(args ...string) string {
		t.Helper()
		bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN")
		if bin == "" {
			bin = "dagger"
		}
		cmd := exec.CommandContext(ctx, bin, append([]string{"--progress", "plain", "call"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		code, out, errw := enginetest.Run(t, cmd)
		require.Equal(t, 0, code, "dagger call %s:\n%s\n%s", strings.Join(args, " "), out, errw)
		return out + errw
	}
	// wipe deletes the registry's storage (its volume) and restarts it, as
	// the road's own set-up starts it, then seeds the base image again (the
	// engine resolves FROM through it).
	wipe := func() {
		t.Helper()
		for _, args := range [][]string{{"rm", "-f", name + "-registry"}, {"volume", "rm", name + "-registry"}} {
			out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
			require.NoError(t, err, string(out))
		}
		road("up")
		seedRoad(t, ctx, world, hostPort)
	}
	registry := envValue(env, "MATRIX_REGISTRY") + "/cachetest" // the engine's address of the registry
	readback := hostPort + "/cachetest"                         // this host's
	platforms := []string{"linux/amd64", "linux/arm64"}

	dist := filepath.Join(t.TempDir(), "dist")
	call("--components-dir", "components", "export", "--components", "base", "--no-third-party", "export", "--path", dist)
	importArgs := []string{"--registry", registry, "import", "--bundle", dist}
	out := call(importArgs...)
	assert.Contains(t, out, "1 archive(s) imported")
	_, err := publish.ReadBack(ctx, enginetest.Ref(t, readback+"/fixture-base:dev"), platforms)
	require.NoError(t, err, "the first import pushed")

	wipe()
	_, err = remote.Head(enginetest.Ref(t, readback+"/fixture-base:dev"), remote.WithContext(ctx))
	require.Error(t, err, "the registry's storage is gone")
	call(importArgs...)
	_, err = publish.ReadBack(ctx, enginetest.Ref(t, readback+"/fixture-base:dev"), platforms)
	require.NoError(t, err, "the second import pushed again")
	out = call(importArgs...)
	assert.Contains(t, out, "0 reference(s) written", "the third import ran, and found everything there")

	results := filepath.Join(t.TempDir(), "amd64.json")
	leg := []string{"--components-dir", "components", "--registry", registry, "build-all", "--components", "base", "--platforms", "linux/amd64",
		"--push-by-digest", "--revision", gitRev(t, "HEAD"), "--no-attest", "-o", results}
	call(leg...)
	digest := legDigest(t, results)
	ref := readback + "/fixture-base@" + digest
	_, err = remote.Head(enginetest.Ref(t, ref), remote.WithContext(ctx))
	require.NoError(t, err, "the leg pushed %s", ref)
	wipe()
	_, err = remote.Head(enginetest.Ref(t, ref), remote.WithContext(ctx))
	require.Error(t, err, "the registry's storage is gone")
	call(leg...)
	assert.Equal(t, digest, legDigest(t, results), "the same variant")
	_, err = remote.Head(enginetest.Ref(t, ref), remote.WithContext(ctx))
	assert.NoError(t, err, "the second leg pushed %s again", ref)
}

// roadEnvFile reads the export lines of the env file docker.sh writes.
func roadEnvFile(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			out = append(out, kv)
		}
	}
	return out
}

// legDigest is the digest of the one variant a leg's results.json holds.
func legDigest(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var r report.Results
	require.NoError(t, json.Unmarshal(b, &r), string(b))
	require.Len(t, r.Components, 1, string(b))
	require.Len(t, r.Components[0].Platforms, 1, string(b))
	d := r.Components[0].Platforms[0].Digest
	require.NotEmpty(t, d, string(b))
	return d
}
