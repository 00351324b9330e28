package matrix

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/reuse"
	"github.com/ai-infra-matrix/matrix/pkg/session"
)

// CacheRepoFix is how to give --cache-repo.
const CacheRepoFix = "give a repository such as localhost:5000/ai-infra/matrix-cache (no scheme, tag or digest)"

// validateCacheRepo checks --cache-repo and --rebuild.
func (o *RunOptions) validateCacheRepo() error {
	for _, c := range o.Rebuild {
		if c != "all" && !component.AddressRE.MatchString(c) {
			return class.BadInput.Errorf("--rebuild: %q is not a component name; give all, or folder names under the components directory (component/image for one image of one), comma-separated", c)
		}
	}
	if o.CacheRepo == "" {
		return nil
	}
	if _, err := name.NewRepository(o.CacheRepo, name.StrictValidation); err != nil || strings.Contains(o.CacheRepo, "://") {
		return class.BadInput.Errorf("--cache-repo %q: not a repository; %s", o.CacheRepo, CacheRepoFix)
	}
	return nil
}

// checkRebuild refuses a --rebuild name that is not a planned component.
func (o *RunOptions) checkRebuild(p *plan.Plan) error {
	for _, name := range o.Rebuild {
		if name != "all" && !slices.ContainsFunc(p.Components, func(c component.Spec) bool { return c.Name == name || c.Component() == name }) {
			return class.BadInput.Errorf("--rebuild: %q is not a planned component; give all, or names from --components", name)
		}
	}
	return nil
}

// cache is the run's --cache-repo, read and written from this process.
// It is a registry of the push's credentials and transport.
func (o *Options) cache(ctx context.Context) *reuse.Cache {
	if o.Run.CacheRepo == "" {
		return nil
	}
	t := o.Push.Client(nil)
	t.Registry, t.Tags = o.Run.CacheRepo, nil
	c, _ := reuse.NewCache(o.Run.CacheRepo, t.Remote(ctx)...) // checked by Validate
	return c
}

// reuser keys the cells one engine builds and reuses what --cache-repo holds.
func (r *Run) reuser(ctx context.Context, c *dagger.Client) *reuse.Reuser {
	rebuild := func(name string) bool { // a component's name rebuilds all its images
		return slices.Contains(r.Options.Run.Rebuild, "all") || slices.Contains(r.Options.Run.Rebuild, name) ||
			slices.Contains(r.Options.Run.Rebuild, component.ComponentOf(name))
	}
	return &reuse.Reuser{Client: c, Engine: session.Version, Cache: r.Options.cache(ctx), Warn: r.Options.Notify, Rebuild: rebuild}
}

// record writes a cache entry for every pushed variant with a key. A cache
// that refuses writes (a read-only run) costs the next run a build, not
// this one: it is said once and the run goes on.
func (r *Run) record(ctx context.Context, rep *report.Report) {
	c := r.Options.cache(ctx)
	if c == nil {
		return
	}
	pushed := map[string]string{} // "component platform" → repository@digest
	for _, ix := range rep.Indexes {
		repo, _, _ := strings.Cut(ix.Ref, "@")
		for _, p := range ix.Platforms {
			pushed[ix.Component+" "+p.Platform] = repo + "@" + p.Digest
		}
	}
	for _, cell := range rep.Snapshot() {
		ref := pushed[cell.Component+" "+cell.Platform]
		if cell.Digest != "" {
			ref = cell.Ref + "@" + cell.Digest
		}
		if cell.Key == "" || ref == "" {
			continue
		}
		if err := c.Record(ctx, cell.Key, cell.Platform, ref); err != nil {
			if r.Options.Notify != nil {
				r.Options.Notify(fmt.Sprintf("warning: --cache-repo: %v; the next run builds what it would have reused", err))
			}
			return
		}
	}
}
