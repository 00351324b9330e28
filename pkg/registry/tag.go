package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !told && notify != nil {
			notify(fmt.Sprintf("waiting for another matrix run publishing to %s (lock %s)", registry, path))
			told = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PendingTag holds an index between its push and the final tags: it is never
// a tag users pull. ("Stage" is another idea: a dependency made available to
// the components built FROM it, see publish.Stager.)
const PendingTag = "matrix-pending"

// DigestOf is the digest of an index or image.
func DigestOf(what remote.Taggable) (v1.Hash, error) {
	if d, ok := what.(interface{ Digest() (v1.Hash, error) }); ok {
		return d.Digest()
	}
	return v1.Hash{}, fmt.Errorf("%T has no digest", what)
}

// Pending writes what (an index, or a single image) under repo's pending
// tag unless repo holds its digest already; wrote says whether it did.
func Pending(repo name.Repository, what remote.Taggable, opts []remote.Option) (wrote bool, err error) {
	digest, err := DigestOf(what)
	if err != nil {
		return false, err
	}
	if _, err := remote.Head(repo.Digest(digest.String()), opts...); err == nil {
		return false, nil
	}
	pending := repo.Tag(PendingTag)
	switch w := what.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(pending, w, opts...)
	case v1.Image:
		err = remote.Write(pending, w, opts...)
	default:
		err = fmt.Errorf("%T is neither an index nor an image", what)
	}
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", pending, err)
	}
	return true, nil
}

// MoveTag points tag at what, whose digest is digest, unless it already
// does; moved says whether it wrote the tag.
func MoveTag(tag name.Tag, what remote.Taggable, digest v1.Hash, opts []remote.Option) (moved bool, err error) {
	if d, err := remote.Head(tag, opts...); err == nil && d.Digest == digest {
		return false, nil
	}
	if err := remote.Tag(tag, what, opts...); err != nil {
		return false, fmt.Errorf("tagging %s: %w", tag, err)
	}
	return true, nil
}

// MoveTags points every tag of repo at what (whose digest is digest),
// leaving alone the ones that already name it: moved and present list them.
func MoveTags(repo name.Repository, what remote.Taggable, digest v1.Hash, tags []string, opts []remote.Option) (moved, present []string, err error) {
	for _, tag := range tags {
		wrote, err := MoveTag(repo.Tag(tag), what, digest, opts)
		if err != nil {
			return moved, present, err
		}
		if wrote {
			moved = append(moved, repo.Tag(tag).String())
		} else {
			present = append(present, repo.Tag(tag).String())
		}
	}
	return moved, present, nil
}
