package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// LockTags serializes the tag phase of runs on this machine that publish to
// the same registry, so two concurrent runs never interleave their final
// tags: each run's tags land all together. notify hears about a wait.
func LockTags(ctx context.Context, registry string, notify func(string)) (func(), error) {
	path := filepath.Join(os.TempDir(), "matrix-publish-"+unsafeChars.ReplaceAllString(registry, "_")+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening publish lock %s: %w", path, err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !told && notify != nil {
			notify(fmt.Sprintf("waiting for another matrix run publishing to %s (lock %s)", registry, path))
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
