package publish

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sourcegraph/conc/pool"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// LegTag is the tag a variant pushed by digest is written under: the engine
// needs a tag to push, and one per platform and revision keeps two legs, or
// two pipelines, from writing the same one. Nobody pulls it; the merge
// reads the variant by digest.
func LegTag(platform, revision string) string {
	tag := "matrix-leg-" + strings.ReplaceAll(platform, "/", "-")
	if revision != "" {
		tag += "-" + revision[:min(len(revision), 12)]
	}
	return tag
}

// ByDigest pushes every verified variant of the plan as its own image
// manifest, from the engine that built it (c), with its annotations and no
// final tag, and records in each cell of r its repository and digest: one leg of a fan-out, which Merge assembles.
func ByDigest(ctx context.Context, c *dagger.Client, t Target, p *plan.Plan, variants map[string][]builder.Variant, r *report.Report) error {
	if !r.OK() {
		return fmt.Errorf("not pushing: %s", r.Summary())
	}
	wg := pool.New().WithErrors().WithMaxGoroutines(max(t.Jobs, 1))
	for _, comp := range p.Components {
		for _, v := range variants[comp.Name] {
			wg.Go(func() error { return t.leg(ctx, c, comp, v, r) })
		}
	}
	return wg.Wait()
}

// leg pushes one variant by digest and reads it back.
func (t Target) leg(ctx context.Context, c *dagger.Client, comp component.Spec, v builder.Variant, r *report.Report) error {
	pl, t0 := string(v.Platform), time.Now()
	repo, err := name.NewRepository(t.Repo(comp.Image))
	if err != nil {
		return fmt.Errorf("%s %s: repository %q: %w", comp.Name, pl, t.Repo(comp.Image), err)
	}
	ref := repo.Tag(LegTag(pl, t.Revision)).String()
	v = t.annotate(ctx, c, comp, []builder.Variant{v})[0]
	var digest string
	err = t.Retry.Do(ctx, func() error {
		var err error
		digest, err = push(ctx, c, v.Container, ref, dagger.ContainerPublishOpts{}, t.Auth) // one image manifest
		return err
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", comp.Name, pl, err)
	}
	img, err := t.variant(ctx, repo, digest, pl)
	if err != nil {
		return fmt.Errorf("%s %s: %w", comp.Name, pl, err)
	}
	d, err := partial.Descriptor(img)
	if err != nil {
		return fmt.Errorf("%s %s: %w", comp.Name, pl, err)
	}
	if err := t.attestVariant(ctx, c, comp, repo, v, *d); err != nil {
		return err
	}
	cell, _ := r.Get(comp.Name, pl)
	cell.Ref, cell.Digest = repo.String(), digest
	cell.Steps = append(cell.Steps, report.Step{Name: report.StepPush, Seconds: time.Since(t0).Seconds()})
	r.Set(cell)
	return nil
}

// variant reads the image manifest repo@digest and checks that its config
// is for platform: a digest the registry lacks, or of another platform, is
// refused by name.
func (t Target) variant(ctx context.Context, repo name.Repository, digest, platform string) (v1.Image, error) {
	ref, err := name.NewDigest(repo.String() + "@" + digest)
	if err != nil {
		return nil, fmt.Errorf("digest %q: %w", digest, err)
	}
	desc, err := remote.Get(ref, t.Remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s is not in the registry: %w", ref, err)
	}
	if desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("%s is an index; a leg pushes one image manifest per platform", ref)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading %s config: %w", ref, err)
	}
	want, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	if cf.OS != want.OS || cf.Architecture != want.Architecture {
		return nil, fmt.Errorf("%s is %s/%s, not %s", ref, cf.OS, cf.Architecture, platform)
	}
	return img, nil
}

// Merge assembles, for each planned component, one index from the digests
// its legs pushed (digests[component][platform]), in the plan's platform
// order with explicit platform entries, reads every index back, and only
// then moves the final tags, all components together, as Run does.
func Merge(ctx context.Context, t Target, p *plan.Plan, digests map[string]map[string]string, r *report.Report) error {
	out := make([]*pending, len(p.Components))
	wg := pool.New().WithErrors().WithMaxGoroutines(max(t.Jobs, 1))
	for i, comp := range p.Components {
		wg.Go(func() error {
			s, err := t.assemble(ctx, comp, wantPlatforms(p, comp), digests[comp.Name])
			out[i] = s
			return err
		})
	}
	if err := wg.Wait(); err != nil {
		return fmt.Errorf("no final tag was changed: %w", err)
	}
	return t.release(ctx, out, r)
}

// assemble writes one component's index from its variants' digests.
func (t Target) assemble(ctx context.Context, comp component.Spec, platforms []string, digests map[string]string) (*pending, error) {
	repo, err := name.NewRepository(t.Repo(comp.Image))
	if err != nil {
		return nil, fmt.Errorf("%s: repository %q: %w", comp.Name, t.Repo(comp.Image), err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, pl := range platforms {
		d, ok := digests[pl]
		if !ok {
			return nil, fmt.Errorf("%s %s: no digest", comp.Name, pl)
		}
		img, err := t.variant(ctx, repo, d, pl)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", comp.Name, pl, err)
		}
		p, err := v1.ParsePlatform(pl)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	s, err := t.pend(ctx, comp, repo, idx, platforms, false)
	if err != nil {
		return nil, err
	}
	return s, t.attest(ctx, nil, s, platforms, nil)
}
