package mirror

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sourcegraph/conc/pool"

	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Run copies every image of l into t's registry as its upstream index,
// unchanged (same digests), after checking each platform of the run the
// image is mirrored for. Like publish.Run it is all or nothing: every index
// goes under registry.PendingTag and is read back before any final tag moves,
// and a failed cell (a platform missing upstream, say) moves none. The final
// tags of an image are its upstream tag, if the source names one, and t.Tags.
func Run(ctx context.Context, l *List, platforms []string, t registry.Client, upstreamVia string, r *report.Report) error {
	up := make([]*Upstream, len(l.Images))
	from := Upstreams(ctx, t.Retry, upstreamVia) // one transport for every image
	each(t.Jobs, len(l.Images), func(i int) {
		up[i] = Resolve(ctx, l.Images[i], l.Images[i].Want(platforms), from...)
	})
	for _, u := range up { // in the list's order, each image's in the run's
		cells := u.Cells()
		for _, p := range platforms {
			c := report.Cell{Component: u.Image.Name, Platform: p, Status: report.NotRequested}
			if i := slices.Index(u.Want, p); i >= 0 {
				c = cells[i]
			}
			r.Set(c)
		}
	}
	if !r.OK() {
		return fmt.Errorf("no final tag was changed: %s", r.Summary())
	}
	opts := t.Remote(ctx)
	repos := make([]name.Repository, len(up))
	each(t.Jobs, len(up), func(i int) {
		u := up[i]
		step := StepPush
		repo, err := name.NewRepository(t.Repo(u.Image.Target))
		if err == nil {
			repos[i] = repo
			_, err = registry.Pending(repo, u.Index, opts)
		}
		if err == nil {
			step, err = StepReadBack, ReadBack(repo, u.Index, u.Want, opts)
		}
		if err != nil {
			u.fail(step, err)
			for _, c := range u.Cells() {
				r.Set(c)
			}
		}
	})
	if !r.OK() {
		return fmt.Errorf("no final tag was changed: %s", r.Summary())
	}
	unlock, err := registry.LockTags(ctx, t.Registry, t.Notify)
	if err != nil {
		return err
	}
	defer unlock()
	for i, u := range up {
		digest, err := u.Index.Digest()
		if err != nil {
			return err
		}
		tags := Tags(u.Image, t.Tags)
		if _, _, err := registry.MoveTags(repos[i], u.Index, digest, tags, opts); err != nil {
			return fmt.Errorf("%s: %w", u.Image.Name, err)
		}
		r.AddIndex(report.Index{Component: u.Image.Name, Ref: repos[i].String(), Digest: digest.String(), Tags: tags,
			Platforms: Digests(u.Found), Source: u.Pinned.String()})
	}
	return nil
}

// each runs f(0..n-1), at most jobs at once.
func each(jobs, n int, f func(int)) {
	p := pool.New().WithMaxGoroutines(max(jobs, 1))
	for i := range n {
		p.Go(func() { f(i) })
	}
	p.Wait()
}

// Tags are img's final tags: its upstream tag, if any, then extra.
func Tags(img Image, extra []string) []string {
	var out []string
	if tag := img.Tag(); tag != "" {
		out = append(out, tag)
	}
	return AddTags(out, extra)
}

// AddTags appends to tags those of extra it does not hold yet.
func AddTags(tags, extra []string) []string {
	for _, t := range extra {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// ReadBack reads repo@digest of what back: it must be there, by that
// digest, and hold platforms with configs that agree (see Check).
func ReadBack(repo name.Repository, what remote.Taggable, platforms []string, opts []remote.Option) error {
	digest, err := registry.DigestOf(what)
	if err != nil {
		return err
	}
	ref := repo.Digest(digest.String())
	desc, err := remote.Get(ref, opts...)
	if err == nil && desc.Digest != digest {
		err = fmt.Errorf("the registry holds %s", desc.Digest)
	}
	var back remote.Taggable
	if err == nil && desc.MediaType.IsIndex() {
		back, err = desc.ImageIndex()
	} else if err == nil {
		back, err = desc.Image()
	}
	if err == nil {
		_, err = Check(back, platforms)
	}
	if err != nil {
		return fmt.Errorf("reading back %s: %w", ref, err)
	}
	return nil
}
