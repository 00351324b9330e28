package reuse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ai-infra-matrix/matrix/pkg/cellkey"
)

// The annotations of a cache entry besides its key: the variant it points
// at and that variant's platform.
const (
	AnnotationRef      = "io.ai-infra-matrix.cell.ref"
	AnnotationPlatform = "io.ai-infra-matrix.cell.platform"
)

// Cache is a repository of small entries, one tag per key (the key's hex),
// each an empty OCI manifest whose annotations name the variant the key
// built. Writing a tag is atomic and an entry is pushed only after its
// variant, so two runs writing at once leave a valid entry, whichever wins.
type Cache struct {
	Repo   name.Repository
	Remote []remote.Option
}

// NewCache is the cache in repository repo, e.g. localhost:5000/ai-infra/matrix-cache.
func NewCache(repo string, opts ...remote.Option) (*Cache, error) {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return nil, err
	}
	return &Cache{Repo: r, Remote: opts}, nil
}

func (c *Cache) tag(key string) name.Tag { return c.Repo.Tag(strings.TrimPrefix(key, "sha256:")) }

// Lookup returns the repository@digest of the variant key built for
// platform, "" when the cache has no entry. An entry that names another key
// or platform, a variant that is gone, of another platform or without the
// key, is an error: the caller builds instead.
func (c *Cache) Lookup(ctx context.Context, key, platform string) (string, error) {
	opts := append([]remote.Option{remote.WithContext(ctx)}, c.Remote...)
	desc, err := remote.Get(c.tag(key), opts...)
	if notFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading cache entry %s: %w", c.tag(key), err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return "", bad("cache entry %s: %w", c.tag(key), err)
	}
	ref := m.Annotations[AnnotationRef]
	if m.Annotations[cellkey.Annotation] != key || m.Annotations[AnnotationPlatform] != platform {
		return "", bad("cache entry %s is of key %s %s, not this cell's", c.tag(key), m.Annotations[cellkey.Annotation], m.Annotations[AnnotationPlatform])
	}
	return ref, check(ref, key, platform, opts)
}

// check reads the variant ref's manifest and config: it must carry key
// and say platform in its own config.
func check(ref, key, platform string, opts []remote.Option) error {
	d, err := name.NewDigest(ref, name.StrictValidation)
	if err != nil {
		return bad("cache entry names %q, not repository@digest: %w", ref, err)
	}
	img, err := remote.Image(d, opts...)
	if err != nil {
		return fmt.Errorf("variant %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("variant %s: %w", ref, err)
	}
	if got := m.Annotations[cellkey.Annotation]; got != key {
		return bad("variant %s carries key %q, not %s", ref, got, key)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("variant %s: config: %w", ref, err)
	}
	if got := cf.Platform(); got == nil || !got.Satisfies(mustPlatform(platform)) {
		return bad("variant %s is for %v, not %s", ref, cf.Platform(), platform)
	}
	return nil
}

func mustPlatform(s string) v1.Platform {
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{OS: "invalid"}
	}
	return *p
}

// Record writes the entry of key: the variant ref (repository@digest) of platform.
func (c *Cache) Record(ctx context.Context, key, platform, ref string) error {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img = mutate.Annotations(img, map[string]string{cellkey.Annotation: key, AnnotationPlatform: platform, AnnotationRef: ref}).(v1.Image)
	opts := append([]remote.Option{remote.WithContext(ctx)}, c.Remote...)
	if err := remote.Write(c.tag(key), img, opts...); err != nil {
		return fmt.Errorf("writing cache entry %s: %w", c.tag(key), err)
	}
	return nil
}

// BadEntry is an entry the registry served that this cell cannot use: it
// names another key or platform, or a variant without this key or of
// another platform. The registry answered, so only this cell builds.
type BadEntry struct{ Err error }

func (e *BadEntry) Error() string { return e.Err.Error() }
func (e *BadEntry) Unwrap() error { return e.Err }

func bad(format string, a ...any) error { return &BadEntry{fmt.Errorf(format, a...)} }

func notFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}
