//go:build engine

package builder_test

import (
	"path/filepath"
	"testing"

	"dagger.io/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/verify"
)

// TestScratchEngine: DockerBuild's FROM scratch variants, in the engine.
// Each gets the platform it was built for when its program is an ELF file
// of that platform (from the smoke program, or else the entrypoint), and
// then verifies; the x86-64 binary in an arm64 variant fails at arch, and
// that variant's config is left as DockerBuild gave it.
func TestScratchEngine(t *testing.T) {
	c := enginetest.Connect(t)
	ctx := enginetest.Context(t)
	b, err := builder.New(ctx, c, 2)
	require.NoError(t, err)
	good, wrong := enginetest.ScratchFixtures(t), enginetest.WrongPlatformFixtures(t)
	build := func(dir, name string, p dagger.Platform) *dagger.Container {
		ctr, err := b.Container(builder.Request{Component: name, Dir: c.Host().Directory(filepath.Join(dir, name))}, p).Sync(ctx)
		require.NoError(t, err, "%s %s builds", name, p)
		got, err := ctr.Platform(ctx)
		require.NoError(t, err)
		t.Logf("DockerBuild %s %s: config says %s", name, p, got)
		return ctr
	}
	for _, p := range []dagger.Platform{"linux/amd64", "linux/arm64"} {
		for _, tc := range []struct {
			name  string
			smoke []string
		}{
			{"scratch", []string{"/hello"}},
			{"scratch", nil}, // the entrypoint, /hello
			{"distroless", []string{"hello"}},
			{"distroless", nil}, // the entrypoint, hello, through PATH
		} {
			ctr, err := b.Scratch(ctx, build(good, tc.name, p), p, tc.smoke)
			require.NoError(t, err, "%s %s %v", tc.name, p, tc.smoke)
			got, err := ctr.Platform(ctx)
			require.NoError(t, err)
			assert.Equal(t, p, got, "%s %s %v", tc.name, p, tc.smoke)
			assert.NoError(t, verify.Variant(ctx, ctr, p, tc.smoke), "%s %s %v verifies", tc.name, p, tc.smoke)
		}
	}

	orig := build(wrong, "wrongarch", "linux/arm64")
	before, err := orig.Platform(ctx)
	require.NoError(t, err)
	_, err = b.Scratch(ctx, orig, "linux/arm64", []string{"/hello"})
	var f *verify.Failure
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "arch", f.Step)
	assert.Equal(t, "/hello", f.Command)
	assert.EqualError(t, f, "arch: /hello is EM_X86_64, want EM_AARCH64 for linux/arm64")
	if before != "linux/arm64" {
		var vf *verify.Failure
		require.ErrorAs(t, verify.Variant(ctx, orig, "linux/arm64", []string{"/hello"}), &vf, "the config was not rewritten")
		assert.Equal(t, "platform", vf.Step)
	}
}
