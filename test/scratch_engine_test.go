//go:build engine

package system_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// TestDaggerCallScratchEngineRegistry: images without a shell, through
// `dagger call` of the module. A FROM scratch image and a distroless-like
// one (no /bin/sh, no coreutils) publish for linux/amd64 and linux/arm64;
// read back with go-containerregistry, each index entry and each config says
// its platform, the binary's ELF machine matches, and the scratch image kept
// its config. A scratch image with an x86-64 binary in its arm64 variant
// fails at arch, naming the file and both machines; a base pinned to amd64
// still fails at platform; nothing of theirs is published.
func TestDaggerCallScratchEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository (and engine); see ci/test.sh
	ctx := enginetest.Context(t)
	registry := enginetest.Registry(t)
	repo := registry + "/matrix-test-" + enginetest.Unique("scratch-module")
	platforms := []string{"linux/amd64", "linux/arm64"}

	out, code := dagger(t, ctx, "call", "--components-dir", enginetest.ScratchFixtures(t), "--registry", repo, "--registry-service", "tcp://"+registry, "publish", "--platforms", "linux/amd64,linux/arm64", "--tags", "v1", "--no-attest")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "4/4 cells verified")
	for _, v := range enginetest.CheckPlatforms(t, ctx, repo+"/fixture-scratch:v1", "hello", platforms) {
		enginetest.CheckScratchConfig(t, v)
	}
	enginetest.CheckPlatforms(t, ctx, repo+"/fixture-distroless:v1", "usr/local/bin/hello", platforms)

	out, code = dagger(t, ctx, "call", "--components-dir", enginetest.WrongPlatformFixtures(t), "--registry", repo, "--registry-service", "tcp://"+registry, "publish", "--platforms", "linux/amd64,linux/arm64", "--tags", "v1", "--no-attest")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "wrongarch linux/arm64 failed at arch")
	assert.Contains(t, out, "/hello is EM_X86_64, want EM_AARCH64 for linux/arm64", "names the file and both machines")
	assert.Contains(t, out, "pinned linux/arm64 failed at platform")
	assert.Contains(t, out, "image config says linux/amd64, want linux/arm64")
	assert.Contains(t, out, "2/4 cells verified, 2 not")
	for _, img := range []string{"fixture-wrongarch", "fixture-pinned"} {
		_, err := remote.Head(enginetest.Ref(t, repo+"/"+img+":v1"), remote.WithContext(ctx))
		assert.Error(t, err, "%s:v1 is not published", img)
	}
}
