//go:build engine

package system_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// TestWorldCAsEngineRegistry: the world's bases carry this host's CA
// certificates (a TLS-inspecting egress proxy's, here), and the world's
// engine adds none per exec. An engine that sees custom CAs runs
// update-ca-certificates before and after every exec of a Debian container,
// which cost five times all the other execs of a CI run (docs/benchmarks.md).
func TestWorldCAsEngineRegistry(t *testing.T) {
	c := enginetest.Connect(t)
	enginetest.Registry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hostCAs, err := filepath.Glob("/usr/local/share/ca-certificates/*.crt")
	require.NoError(t, err)

	// A fresh exec each run: a cached one may come from an engine that
	// still installed CAs.
	bust := time.Now().String()
	run := func(image, script string) string {
		out, err := c.Container().From(image).WithEnvVariable("BUST", bust).
			WithExec([]string{"sh", "-c", script}).Stdout(ctx)
		require.NoError(t, err, "%s: %s", image, script)
		return out
	}
	slim := run("debian:bookworm-slim", "ls /usr/local/share/ca-certificates; test -e /etc/ssl/certs/ca-certificates.crt && echo bundle: yes || echo bundle: no")
	// bookworm-slim has no ca-certificates package, so no bundle; an engine
	// installing CAs writes one for the exec.
	assert.Contains(t, slim, "bundle: no", "the engine added no CA bundle to debian:bookworm-slim")
	golang := run("golang:1.26-bookworm", "cat /etc/ssl/certs/ca-certificates.crt")
	for _, ca := range hostCAs {
		assert.Contains(t, slim, filepath.Base(ca), "debian:bookworm-slim carries %s", ca)
		pem, err := os.ReadFile(ca)
		require.NoError(t, err)
		line := strings.Split(strings.TrimSpace(string(pem)), "\n")[1] // the first line of the certificate itself
		assert.Contains(t, golang, line, "golang:1.26-bookworm trusts %s (go mod download through the egress proxy)", ca)
	}
	t.Logf("figures: host CAs=%d", len(hostCAs))
}
