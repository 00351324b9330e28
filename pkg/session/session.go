// Package session opens and closes the CLI's engine sessions: a bounded
// handshake, the version check, and a close that cannot hang a stopping
// engine.
package session

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// Version is the Dagger engine matrix is built and tested against: the CLI
// refuses any other (CLI, engine and SDK must be one version), and the
// provenance records it.
const Version = "v0.21.8"

// Timeout bounds one check of the engine: a client pointed at a socket
// with no engine behind it would hang for minutes.
const Timeout = 8 * time.Second

// Fix is what to do about an engine that does not answer.
const Fix = "start it with `task setup` (air-gapped mode) or install Docker and the Dagger CLI; then `matrix doctor`"

// handshake bounds the session's start, which may take long on a cold
// machine, by a generous limit.
const handshake = 2 * time.Minute

// CloseWait bounds the close of a session. An engine that is stopping waits
// for its clients' connections to go idle, while the SDK's `dagger session`
// child waits for the engine to confirm the shutdown: the two hold each other
// until the SDK kills the child after 5 minutes.
var CloseWait = 15 * time.Second

// reachable fails fast when the engine socket named by host (or, for the
// default engine, by _EXPERIMENTAL_DAGGER_RUNNER_HOST) does not answer.
func reachable(host string) error {
	if host == "" {
		host = os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST")
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return nil // Docker-provisioned or remote engine: the CLI handles it
	}
	conn, err := net.DialTimeout("unix", sock, Timeout)
	if err != nil {
		return fmt.Errorf("engine at %s is not reachable: %w; %s", host, err, Fix)
	}
	return conn.Close()
}

// Open starts a session on the engine at runner host host ("" the default)
// and checks its version; log hears the engine's progress. Every error is
// class.Unreachable.
func Open(ctx context.Context, host string, log io.Writer) (*dagger.Client, error) {
	if err := reachable(host); err != nil {
		return nil, class.Unreachable.Wrap(err)
	}
	opts := []dagger.ClientOpt{dagger.WithLogOutput(log)}
	if host != "" {
		opts = append(opts, dagger.WithRunnerHost(host))
	}
	type result struct {
		client *dagger.Client
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		cl, err := dagger.Connect(ctx, opts...)
		ch <- result{cl, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, class.Unreachable.Errorf("connecting to the engine%s: %v; %s", at(host), r.err, Fix)
		}
		vctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		v, err := r.client.Version(vctx)
		if err == nil {
			err = CheckVersion(v)
		}
		if err != nil {
			_ = r.client.Close() // the version is the error to report
			if host != "" {
				err = fmt.Errorf("engine at %s: %w", host, err)
			}
			return nil, class.Unreachable.Wrap(err)
		}
		return r.client, nil
	case <-time.After(handshake):
		return nil, class.Unreachable.Errorf("connecting to the engine%s: no answer in %s; %s", at(host), handshake, Fix)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// at names a runner host in a message; the default engine needs no name.
func at(host string) string {
	if host == "" {
		return ""
	}
	return " at " + host
}

// CheckVersion refuses an engine of another version than Version.
func CheckVersion(v string) error {
	if v != Version {
		return fmt.Errorf("engine is %s, matrix needs %s: run the Dagger engine %s (in air-gapped mode `task setup` installs it)", v, Version, Version)
	}
	return nil
}

// Close closes dc, and when that hangs past CloseWait, ends this process's
// `dagger session` children so a stopping engine can finish its graceful
// stop (and keep its cache) instead of being killed; errw hears when.
func Close(dc *dagger.Client, errw io.Writer) {
	done := make(chan struct{})
	go func() { _ = dc.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(CloseWait):
		n := endSessions()
		fmt.Fprintf(errw, "matrix: the engine did not close the session within %s; ended %d session process(es)\n", CloseWait, n)
	}
}
