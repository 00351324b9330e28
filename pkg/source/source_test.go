package source

import (
	"context"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repo makes a git repository with a line of history and a side branch:
// base <- mid <- tip, and base <- side.
func repo(t *testing.T) (dir string, revs map[string]string) {
	t.Helper()
	dir = t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return string(out)
	}
	run("init", "-q", "-b", "main")
	revs = map[string]string{}
	c := Checkout{Dir: dir}
	for _, n := range []string{"base", "mid", "tip"} {
		run("commit", "-q", "--allow-empty", "-m", n)
		r, err := c.Revision(context.Background())
		require.NoError(t, err)
		revs[n] = r
	}
	run("checkout", "-q", "-b", "side", revs["base"])
	run("commit", "-q", "--allow-empty", "-m", "side")
	r, err := c.Revision(context.Background())
	require.NoError(t, err)
	revs["side"] = r
	return dir, revs
}

func TestDescends(t *testing.T) {
	dir, revs := repo(t)
	c := Checkout{Dir: dir}
	for _, tc := range []struct {
		prev, next string
		want       bool
	}{
		{"base", "tip", true},
		{"mid", "tip", true},
		{"tip", "tip", true},
		{"tip", "mid", false}, // an older pipeline finishing late
		{"side", "tip", false},
		{"tip", "side", false},
	} {
		got, err := c.Descends(context.Background(), revs[tc.prev], revs[tc.next])
		require.NoError(t, err, "%s -> %s", tc.prev, tc.next)
		assert.Equal(t, tc.want, got, "%s -> %s", tc.prev, tc.next)
	}
	assert.Regexp(t, RevisionRE, revs["tip"])
}

func TestDescendsUnknownRevision(t *testing.T) {
	dir, revs := repo(t)
	_, err := Checkout{Dir: dir}.Descends(context.Background(), "0123456789abcdef0123456789abcdef01234567", revs["tip"])
	require.Error(t, err)
	assert.Contains(t, err.Error(), "0123456789ab is not in the checkout")
	assert.Contains(t, err.Error(), "fetch-depth: 0")
}

func TestRevisionNotACheckout(t *testing.T) {
	_, err := Checkout{Dir: t.TempDir()}.Revision(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pass --revision")
}

func TestEpochAndCreated(t *testing.T) {
	got, err := Epoch("1764583200")
	require.NoError(t, err)
	assert.Equal(t, "2025-12-01T10:00:00Z", got)
	for _, bad := range []string{"", "yesterday", "-1", "1.5"} {
		_, err := Epoch(bad)
		assert.Error(t, err, bad)
	}
}
