//go:build engine

package verify_test

import (
	"debug/elf"
	"testing"

	"dagger.io/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/verify"
)

// TestMachineEngine reads programs of Debian images through the engine, no
// program of the image run: a bare name through PATH and symlinks (sh is
// /usr/bin/sh → dash, /bin → usr/bin), a script's interpreter, with and
// without env, arm64's machine 0xb7 intact; and names what it cannot find.
func TestMachineEngine(t *testing.T) {
	c := enginetest.Connect(t)
	ctx := enginetest.Context(t)
	for _, tc := range []struct {
		platform dagger.Platform
		want     elf.Machine
	}{
		{"linux/amd64", elf.EM_X86_64},
		{"linux/arm64", elf.EM_AARCH64},
	} {
		ctr := c.Container(dagger.ContainerOpts{Platform: tc.platform}).From("debian:bookworm-slim").
			WithNewFile("/usr/local/bin/greet", "#!/bin/sh\necho hi\n", dagger.ContainerWithNewFileOpts{Permissions: 0o755}).
			WithNewFile("/opt/greet-env", "#!/usr/bin/env -S sh -e\necho hi\n", dagger.ContainerWithNewFileOpts{Permissions: 0o755}).
			WithNewFile("/opt/data", "just text\n")
		for _, prog := range []struct{ name, path string }{
			{"sh", "/usr/bin/sh"},  // the first PATH entry holding it, through /usr/bin/sh → dash
			{"/bin/sh", "/bin/sh"}, // through /bin → usr/bin
			{"greet", "/bin/sh"},   // its #! interpreter
			{"/opt/greet-env", "/usr/bin/sh"},
		} {
			path, m, err := verify.Machine(ctx, ctr, prog.name)
			require.NoError(t, err, "%s %s", tc.platform, prog.name)
			assert.Equal(t, prog.path, path, "%s %s", tc.platform, prog.name)
			assert.Equal(t, tc.want, m, "%s %s", tc.platform, prog.name)
		}
		_, _, err := verify.Machine(ctx, ctr, "nosuchprogram")
		assert.ErrorIs(t, err, verify.ErrNotFound)
		assert.ErrorContains(t, err, "nosuchprogram in PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		_, _, err = verify.Machine(ctx, ctr, "/opt/data")
		assert.ErrorIs(t, err, verify.ErrNotELF)
		assert.NoError(t, verify.Arch(ctx, ctr, tc.platform, "greet"))
		other := dagger.Platform("linux/arm64")
		if tc.platform == other {
			other = "linux/amd64"
		}
		err = verify.Arch(ctx, ctr, other, "greet")
		var f *verify.Failure
		require.ErrorAs(t, err, &f)
		assert.Equal(t, "arch", f.Step)
		assert.Contains(t, f.Error(), "is "+tc.want.String()+", want ")
	}
}
