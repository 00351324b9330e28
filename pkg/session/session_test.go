package session

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []string // nil: accepted
	}{
		{Version, nil},
		{"v0.19.0", []string{"engine is v0.19.0, matrix needs " + Version, "task setup"}},
		{"", []string{"matrix needs " + Version}},
	} {
		err := CheckVersion(tc.version)
		if tc.want == nil {
			assert.NoError(t, err, tc.version)
			continue
		}
		for _, w := range tc.want {
			assert.ErrorContains(t, err, w, tc.version)
		}
	}
}

// TestOpenNoEngine: a socket with no engine behind it is refused at once,
// unreachable, with the fix.
func TestOpenNoEngine(t *testing.T) {
	sock := "unix://" + filepath.Join(t.TempDir(), "engine.sock")
	for _, tc := range []struct{ name, env, host, want string }{
		{"default engine", sock, "", sock},
		{"named engine", "", sock, sock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST", tc.env)
			dc, err := Open(context.Background(), tc.host, io.Discard)
			require.Error(t, err)
			assert.Nil(t, dc)
			assert.Equal(t, class.Unreachable, class.Of(err))
			assert.ErrorContains(t, err, "engine at "+tc.want+" is not reachable")
			assert.ErrorContains(t, err, Fix)
		})
	}
}
