// Package source reads the git checkout a run builds: its revision, and
// whether one revision descends from another (floating tags move forward
// only, see publish.Target.Floating).
package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RevisionRE is a full git object name (SHA-1 or SHA-256).
var RevisionRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Checkout is a git work tree (or any directory inside one).
type Checkout struct{ Dir string }

// Revision is the commit checked out, in full.
func (c Checkout) Revision(ctx context.Context) (string, error) {
	out, err := c.git(ctx, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return "", fmt.Errorf("%s is not a git checkout with a commit (%w): pass --revision", c.Dir, err)
	}
	return out, nil
}

// Descends reports whether revision next descends from (or is) prev, by
// `git merge-base --is-ancestor`. A prev this checkout does not hold (a
// shallow clone, another repository) is an error, never a yes.
func (c Checkout) Descends(ctx context.Context, prev, next string) (bool, error) {
	for _, r := range []string{prev, next} {
		if _, err := c.git(ctx, "cat-file", "-e", r+"^{commit}"); err != nil {
			return false, fmt.Errorf("revision %s is not in the checkout %s; fetch the whole history (fetch-depth: 0, GIT_DEPTH: 0)", short(r), c.Dir)
		}
	}
	_, err := c.git(ctx, "merge-base", "--is-ancestor", prev, next)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return false, nil
	}
	return false, err
}

func (c Checkout) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", c.Dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return "", fmt.Errorf("git %s: %s: %w", args[0], msg, err)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(out.String()), nil
}

// short is the 12-character form of a revision, for messages.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// Created is the commit time of revision, RFC 3339 in UTC: what an image
// built from it says it was created, whatever the wall clock.
func (c Checkout) Created(ctx context.Context, revision string) (string, error) {
	out, err := c.git(ctx, "show", "-s", "--format=%ct", revision+"^{commit}")
	if err != nil {
		return "", err
	}
	return Epoch(out)
}

// Epoch is a SOURCE_DATE_EPOCH value (seconds since 1970) as RFC 3339 in UTC.
func Epoch(seconds string) (string, error) {
	s, err := strconv.ParseInt(strings.TrimSpace(seconds), 10, 64)
	if err != nil || s < 0 {
		return "", fmt.Errorf("%q is not a number of seconds since 1970", seconds)
	}
	return time.Unix(s, 0).UTC().Format(time.RFC3339), nil
}
