package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sourcegraph/conc/pool"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Target is where a run publishes: the registry, and what each index
// carries. Auth.Password reaches the engine that pushes as a secret.
type Target struct {
	registry.Client
	ArchTags bool // also <tag>-<arch> per variant, the old build.sh names
	// Revision is the source revision published, recorded on every index
	// as AnnotationRevision; Annotations are the index's other annotations.
	Revision    string
	Annotations map[string]string
	// Attest makes the referrers (SBOM, provenance, signature) of every
	// manifest and index published; nil: none (--no-attest).
	Attest Attester
	// Created is the time the source was made (RFC 3339: SOURCE_DATE_EPOCH
	// or the commit's), the created annotation: never the wall clock, so
	// that the same tree gives the same digests.
	Created string
	// Floating are the tags that move forward only: such a tag moves when
	// Revision descends from the revision its index carries now, so a late
	// older pipeline cannot roll it back (see floating). Version tags are
	// always written.
	Floating []string
	// Descends reports whether next descends from prev (source.Checkout).
	Descends func(ctx context.Context, prev, next string) (bool, error)
}

// The index annotations of the source revision and the version.
const (
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationVersion  = "org.opencontainers.image.version"
)

// DefaultFloating are the tags that move forward only unless --floating says otherwise.
var DefaultFloating = []string{"latest"}

// pending is one component's index, pushed and read back, before its final tags.
type pending struct {
	c     component.Spec
	repo  name.Repository
	index v1.ImageIndex
}

// Run publishes each planned component's variants as one index (one Publish
// call each), reads every index back complete, and only then writes the final
// tags. When any component fails before that, no final tag has moved.
func Run(ctx context.Context, c *dagger.Client, t Target, p *plan.Plan, variants map[string][]builder.Variant, r *report.Report) error {
	if !r.OK() {
		return fmt.Errorf("not publishing: %s", r.Summary())
	}
	out := make([]*pending, len(p.Components))
	jobs := max(t.Jobs, 1)
	wg := pool.New().WithErrors().WithMaxGoroutines(jobs)
	for i, comp := range p.Components {
		wg.Go(func() error {
			s, err := t.push(ctx, c, comp, wantPlatforms(p, comp), variants[comp.Name])
			out[i] = s
			return err
		})
	}
	if err := wg.Wait(); err != nil {
		return fmt.Errorf("no final tag was changed: %w", err)
	}
	return t.release(ctx, out, r)
}

// release moves the final tags of every pending index, once all of them are
// in the registry and complete: all of this run's tags together.
func (t Target) release(ctx context.Context, out []*pending, r *report.Report) error {
	unlock, err := registry.LockTags(ctx, t.Registry, t.Notify)
	if err != nil {
		return err
	}
	defer unlock()
	for _, s := range out {
		if err := t.tag(ctx, s, r); err != nil {
			return err
		}
	}
	return nil
}

func wantPlatforms(p *plan.Plan, c component.Spec) []string {
	var out []string
	for _, pl := range p.Platforms {
		if c.Supports(pl) {
			out = append(out, pl)
		}
	}
	return out
}

// push pushes one index under the pending tag and reads it back.
func (t Target) push(ctx context.Context, c *dagger.Client, comp component.Spec, platforms []string, vs []builder.Variant) (*pending, error) {
	if len(vs) != len(platforms) {
		return nil, fmt.Errorf("%s: %d of %d variants built", comp.Name, len(vs), len(platforms))
	}
	repo, err := name.NewRepository(t.Repo(comp.Image))
	if err != nil {
		return nil, fmt.Errorf("%s: repository %q: %w", comp.Name, t.Repo(comp.Image), err)
	}
	var digest string
	err = t.Retry.Do(ctx, func() error {
		var err error
		digest, err = Index(ctx, c, repo.Tag(registry.PendingTag).String(), t.annotate(ctx, c, comp, vs), t.Auth)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", comp.Name, err)
	}
	if digest, err = t.asIndex(ctx, repo, digest, platforms); err != nil {
		return nil, fmt.Errorf("%s: %w", comp.Name, err)
	}
	idx, err := remote.Index(repo.Digest(digest), t.Remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: reading back %s@%s: %w", comp.Name, repo, digest, err)
	}
	s, err := t.pend(ctx, comp, repo, idx, platforms, true)
	if err != nil {
		return nil, err
	}
	return s, t.attest(ctx, c, s, platforms, vs)
}

// pend writes idx, with the target's annotations, under the pending tag
// (unless it is there already, as written) and reads it back complete: the
// state every index reaches before the tags move.
func (t Target) pend(ctx context.Context, comp component.Spec, repo name.Repository, idx v1.ImageIndex, platforms []string, written bool) (*pending, error) {
	if ann := t.AnnotationsOf(comp); len(ann) > 0 {
		idx, written = mutate.Annotations(idx, ann).(v1.ImageIndex), false
	}
	if !written {
		if err := t.Retry.Do(ctx, func() error { return remote.WriteIndex(repo.Tag(registry.PendingTag), idx, t.Remote(ctx)...) }); err != nil {
			return nil, fmt.Errorf("%s: writing index %s: %w", comp.Name, repo.Tag(registry.PendingTag), err)
		}
	}
	digest, err := idx.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", comp.Name, err)
	}
	back, err := ReadBack(ctx, repo.Digest(digest.String()), platforms, t.Remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", comp.Name, err)
	}
	return &pending{c: comp, repo: repo, index: back}, nil
}

// annotations are the index annotations of every published index.
func (t Target) annotations() map[string]string {
	out := map[string]string{}
	for k, v := range t.Annotations {
		if v != "" {
			out[k] = v
		}
	}
	if t.Revision != "" {
		out[AnnotationRevision] = t.Revision
	}
	return out
}

// asIndex makes sure digest names an index: the engine publishes a single
// variant as a plain image manifest, and every component gets an index.
func (t Target) asIndex(ctx context.Context, repo name.Repository, digest string, platforms []string) (string, error) {
	desc, err := remote.Get(repo.Digest(digest), t.Remote(ctx)...)
	if err != nil {
		return "", fmt.Errorf("reading back %s@%s: %w", repo, digest, err)
	}
	if desc.MediaType.IsIndex() {
		return digest, nil
	}
	if len(platforms) != 1 {
		return "", fmt.Errorf("%s@%s is a single image, want an index of %s", repo, digest, strings.Join(platforms, ","))
	}
	img, err := desc.Image()
	if err != nil {
		return "", err
	}
	p, err := v1.ParsePlatform(platforms[0])
	if err != nil {
		return "", err
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	if err := remote.WriteIndex(repo.Tag(registry.PendingTag), idx, t.Remote(ctx)...); err != nil {
		return "", fmt.Errorf("writing index %s: %w", repo.Tag(registry.PendingTag), err)
	}
	d, err := idx.Digest()
	return d.String(), err
}

// ReadBack fetches the index at ref and checks it holds exactly platforms, in
// that order, each child's image config matching its entry.
func ReadBack(ctx context.Context, ref name.Reference, platforms []string, opts ...remote.Option) (v1.ImageIndex, error) {
	idx, err := remote.Index(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading back %s: %w", ref, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading back %s: %w", ref, err)
	}
	if len(m.Manifests) != len(platforms) {
		return nil, fmt.Errorf("reading back %s: %d entries, want %d (%s)", ref, len(m.Manifests), len(platforms), strings.Join(platforms, ","))
	}
	for i, d := range m.Manifests {
		want, err := v1.ParsePlatform(platforms[i])
		if err != nil {
			return nil, err
		}
		if d.Platform == nil || d.Platform.OS != want.OS || d.Platform.Architecture != want.Architecture {
			return nil, fmt.Errorf("reading back %s: entry %d is %v, want %s", ref, i, d.Platform, platforms[i])
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading back %s entry %s: %w", ref, platforms[i], err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading back %s entry %s config: %w", ref, platforms[i], err)
		}
		if cf.OS != want.OS || cf.Architecture != want.Architecture {
			return nil, fmt.Errorf("reading back %s: entry %s has config %s/%s", ref, platforms[i], cf.OS, cf.Architecture)
		}
	}
	return idx, nil
}

// tag writes the final tags of one pending index; a tag that already names
// the same manifest is left alone, so a no-op publish moves no tag.
func (t Target) tag(ctx context.Context, s *pending, r *report.Report) error {
	opts := t.Remote(ctx)
	digest, err := s.index.Digest()
	if err != nil {
		return err
	}
	var tags []string
	var kept []report.KeptTag
	reused := true // every final tag already names this index
	for _, tag := range t.Tags {
		if slices.Contains(t.Floating, tag) {
			if why, err := t.floating(ctx, s.repo.Tag(tag)); err != nil {
				return fmt.Errorf("%s: %w", s.c.Name, err)
			} else if why != "" {
				kept = append(kept, report.KeptTag{Tag: tag, Reason: why})
				continue
			}
		}
		moved, err := registry.MoveTag(s.repo.Tag(tag), s.index, digest, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", s.c.Name, err)
		}
		reused = reused && !moved
		tags = append(tags, tag)
	}
	m, err := s.index.IndexManifest()
	if err != nil {
		return err
	}
	var platforms []report.PlatformDigest
	for _, d := range m.Manifests {
		platforms = append(platforms, report.PlatformDigest{Platform: d.Platform.String(), Digest: d.Digest.String()})
	}
	if t.ArchTags {
		for _, d := range m.Manifests {
			img, err := s.index.Image(d.Digest)
			if err != nil {
				return err
			}
			for _, tag := range t.Tags {
				at := tag + "-" + d.Platform.Architecture + d.Platform.Variant // v0.3.8-amd64, v0.3.8-armv7
				if _, err := registry.MoveTag(s.repo.Tag(at), img, d.Digest, opts); err != nil {
					return fmt.Errorf("%s: %w", s.c.Name, err)
				}
				tags = append(tags, at)
			}
		}
	}
	r.AddIndex(report.Index{Component: s.c.Name, Ref: s.repo.String(), Digest: digest.String(), Tags: tags, Platforms: platforms, Kept: kept,
		Reused: reused && len(tags) > 0})
	return nil
}

// floating says why the floating tag must stay where it is, or "" when it
// may move: it names nothing yet, carries no revision, or carries one that
// this run's revision descends from.
func (t Target) floating(ctx context.Context, tag name.Tag) (string, error) {
	idx, err := remote.Index(tag, t.Remote(ctx)...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s before moving it: %w", tag, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return "", fmt.Errorf("reading %s before moving it: %w", tag, err)
	}
	prev := m.Annotations[AnnotationRevision]
	switch {
	case prev == "" || prev == t.Revision:
		return "", nil
	case t.Revision == "":
		return fmt.Sprintf("it carries revision %s and this run has none to compare; pass --revision", prev), nil
	case t.Descends == nil:
		return fmt.Sprintf("it carries revision %s and no checkout was given to check descent", prev), nil
	}
	ok, err := t.Descends(ctx, prev, t.Revision)
	if err != nil {
		return fmt.Sprintf("it carries revision %s, and descent from it cannot be checked: %v", prev, err), nil
	}
	if !ok {
		return fmt.Sprintf("revision %s does not descend from %s, which it carries (an older or parallel pipeline)", t.Revision, prev), nil
	}
	return "", nil
}
