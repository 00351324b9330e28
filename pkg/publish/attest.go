package publish

import (
	"context"
	"fmt"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// Subject is an image a referrer is about: a variant's manifest or an index.
type Subject struct {
	Repo       name.Repository
	Descriptor v1.Descriptor
	Platforms  []string          // the variant's one, or the index's
	Args       map[string]string // what the variant was built with (none for an index)
}

// Attester makes the referrers of what a publish writes (package attest).
// Target.Attest nil writes none (--no-attest).
type Attester interface {
	// Variant makes the referrers of one variant's manifest, which c (the
	// engine that built it) can still read.
	Variant(ctx context.Context, c *dagger.Client, t Target, comp component.Spec, v builder.Variant, s Subject) ([]Referrer, error)
	// Index makes the referrers of an index.
	Index(ctx context.Context, t Target, comp component.Spec, s Subject) ([]Referrer, error)
}

// attestVariant writes the referrers of the variant v, pushed as repo@digest.
func (t Target) attestVariant(ctx context.Context, c *dagger.Client, comp component.Spec, repo name.Repository, v builder.Variant, d v1.Descriptor) error {
	if t.Attest == nil {
		return nil
	}
	args := map[string]string{}
	for _, a := range v.Args {
		args[a.Name] = a.Value
	}
	s := Subject{Repo: repo, Descriptor: d, Platforms: []string{string(v.Platform)}, Args: args}
	refs, err := t.Attest.Variant(ctx, c, t, comp, v, s)
	if err == nil {
		_, err = t.Refer(ctx, repo, d, refs)
	}
	if err != nil {
		return fmt.Errorf("%s %s: attesting %s: %w", comp.Name, v.Platform, d.Digest, err)
	}
	return nil
}

// attest writes the referrers of a pending index and, when vs are given
// (in its platform order), of each of its variants: before any final tag
// moves, so that a release is complete or not there at all.
func (t Target) attest(ctx context.Context, c *dagger.Client, s *pending, platforms []string, vs []builder.Variant) error {
	if t.Attest == nil {
		return nil
	}
	m, err := s.index.IndexManifest()
	if err != nil {
		return err
	}
	for i, v := range vs {
		if err := t.attestVariant(ctx, c, s.c, s.repo, v, m.Manifests[i]); err != nil {
			return err
		}
	}
	d, err := partial.Descriptor(s.index)
	if err != nil {
		return fmt.Errorf("%s: %w", s.c.Name, err)
	}
	refs, err := t.Attest.Index(ctx, t, s.c, Subject{Repo: s.repo, Descriptor: *d, Platforms: platforms})
	if err == nil {
		_, err = t.Refer(ctx, s.repo, *d, refs)
	}
	if err != nil {
		return fmt.Errorf("%s: attesting the index %s: %w", s.c.Name, d.Digest, err)
	}
	return nil
}
