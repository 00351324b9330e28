package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"dagger.io/dagger"
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

// engineTimeout bounds the engine check: a client pointed at a socket with
// no engine behind it would hang for minutes.
const engineTimeout = 8 * time.Second

const engineFix = "start it with `task setup` (air-gapped mode) or install Docker and the Dagger CLI; then `matrix doctor`"

// checkEngine fails fast when the engine socket named by host (or, for
// the default engine, by _EXPERIMENTAL_DAGGER_RUNNER_HOST) does not answer.
func checkEngine(host string) error {
	if host == "" {
		host = os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST")
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return nil // Docker-provisioned or remote engine: the CLI handles it
	}
	conn, err := net.DialTimeout("unix", sock, engineTimeout)
	if err != nil {
		return fmt.Errorf("engine at %s is not reachable: %w; %s", host, err, engineFix)
	}
	return conn.Close()
}

// connect opens a session on the default engine, or fails within engineTimeout.
func connect(c *cli.Context) (*dagger.Client, error) { return connectTo(c, "") }

// connectTo opens a session on the engine at runner host host ("" the
// default) and checks its version.
func connectTo(c *cli.Context, host string) (*dagger.Client, error) {
	if err := checkEngine(host); err != nil {
		return nil, class.Unreachable.Wrap(err)
	}
	logw := io.Discard
	if globalBool(c, "verbose") {
		logw = c.App.ErrWriter
	}
	opts := []dagger.ClientOpt{dagger.WithLogOutput(logw)}
	if host != "" {
		opts = append(opts, dagger.WithRunnerHost(host))
	}
	type result struct {
		client *dagger.Client
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		cl, err := dagger.Connect(c.Context, opts...)
		ch <- result{cl, err}
	}()
	// The session itself may take long on a cold machine; only the
	// handshake is bounded, by a generous limit.
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, class.Unreachable.Errorf("connecting to the engine%s: %v; %s", at(host), r.err, engineFix)
		}
		ctx, cancel := withTimeout(c.Context)
		defer cancel()
		v, err := r.client.Version(ctx)
		if err == nil {
			err = checkVersion(v)
		}
		if err != nil {
			_ = r.client.Close() // the version is the error to report
			if host != "" {
				err = fmt.Errorf("engine at %s: %w", host, err)
			}
			return nil, class.Unreachable.Wrap(err)
		}
		return r.client, nil
	case <-time.After(2 * time.Minute):
		return nil, class.Unreachable.Errorf("connecting to the engine%s: no answer in 2m; %s", at(host), engineFix)
	case <-c.Done():
		return nil, c.Err()
	}
}

// at names a runner host in a message; the default engine needs no name.
func at(host string) string {
	if host == "" {
		return ""
	}
	return " at " + host
}

// withTimeout is a context for one bounded check.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, engineTimeout)
}

// checkVersion refuses an engine of another version: CLI, engine and SDK
// must be one version.
func checkVersion(v string) error {
	if v != matrix.EngineVersion {
		return fmt.Errorf("engine is %s, matrix needs %s: run the Dagger engine %s (in air-gapped mode `task setup` installs it)", v, matrix.EngineVersion, matrix.EngineVersion)
	}
	return nil
}

// closeWait bounds the close of a session. An engine that is stopping waits
// for its clients' connections to go idle, while the SDK's `dagger session`
// child waits for the engine to confirm the shutdown: the two hold each other
// until the SDK kills the child after 5 minutes.
var closeWait = 15 * time.Second

// disconnect closes dc, and when that hangs past closeWait, ends this
// process's `dagger session` children so a stopping engine can finish its
// graceful stop (and keep its cache) instead of being killed.
func disconnect(dc *dagger.Client, errw io.Writer) {
	done := make(chan struct{})
	go func() { _ = dc.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		n := endSessions()
		fmt.Fprintf(errw, "matrix: the engine did not close the session within %s; ended %d session process(es)\n", closeWait, n)
	}
}
