//go:build engine

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// TestScratchCLIEngineRegistry: images without a shell, through the CLI.
// A FROM scratch image and a distroless-like one (no /bin/sh, no coreutils)
// publish for linux/amd64 and linux/arm64; read back with
// go-containerregistry, each index entry and each config says its platform,
// the binary's ELF machine matches, and the scratch image kept its config.
// Then a scratch image with an x86-64 binary in its arm64 variant fails at
// arch, naming the file and both machines, a base pinned to amd64 still
// fails at platform, and nothing of theirs is published.
func TestScratchCLIEngineRegistry(t *testing.T) {
	enginetest.Engine(t)
	registry := enginetest.Registry(t)
	ctx := enginetest.Context(t)
	repo := registry + "/matrix-test-" + enginetest.Unique("scratch-cli")
	platforms := []string{"linux/amd64", "linux/arm64"}

	code, out, errw := runCLI("publish", "--components-dir", enginetest.ScratchFixtures(t), "--platforms", "linux/amd64,linux/arm64",
		"--registry", repo, "--tags", "v1", "--no-attest", "--progress", "plain")
	require.Equal(t, 0, code, out+errw)
	assert.Contains(t, out, "4/4 cells verified")
	for _, v := range enginetest.CheckPlatforms(t, ctx, repo+"/fixture-scratch:v1", "hello", platforms) {
		enginetest.CheckScratchConfig(t, v)
	}
	enginetest.CheckPlatforms(t, ctx, repo+"/fixture-distroless:v1", "usr/local/bin/hello", platforms)

	rep := filepath.Join(t.TempDir(), "report.json")
	code, out, errw = runCLI("publish", "--components-dir", enginetest.WrongPlatformFixtures(t), "--platforms", "linux/amd64,linux/arm64",
		"--registry", repo, "--tags", "v1", "--no-attest", "--progress", "plain", "--report", rep)
	assert.Equal(t, 1, code, out+errw)
	all := out + errw
	assert.Contains(t, all, "wrongarch linux/arm64 failed at arch")
	assert.Contains(t, all, "/hello is EM_X86_64, want EM_AARCH64 for linux/arm64", "names the file and both machines")
	assert.Contains(t, all, "pinned linux/arm64 failed at platform")
	assert.Contains(t, all, "image config says linux/amd64, want linux/arm64")
	assert.Contains(t, all, "2/4 cells verified, 2 not")
	steps := cellSteps(t, rep)
	assert.Equal(t, map[string]string{
		"wrongarch linux/amd64": "verified", "wrongarch linux/arm64": "failed at arch",
		"pinned linux/amd64": "verified", "pinned linux/arm64": "failed at platform",
	}, steps)
	for _, img := range []string{"fixture-wrongarch", "fixture-pinned"} {
		_, err := remote.Head(enginetest.Ref(t, repo+"/"+img+":v1"), remote.WithContext(ctx))
		assert.Error(t, err, "%s:v1 is not published", img)
	}
}

// cellSteps reads a JSON report: per cell, its status, and where it failed.
func cellSteps(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var r struct {
		Cells []report.Cell `json:"cells"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	out := map[string]string{}
	for _, c := range r.Cells {
		s := c.Status
		if c.Status == report.Failed {
			s += " at " + c.Step
		}
		out[c.Component+" "+c.Platform] = s
	}
	return out
}
