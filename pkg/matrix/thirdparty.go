package matrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Mirror copies the third-party images listed in file into t's registry
// (see mirror.Run); it needs no engine. Bad input (the list, the platforms,
// the target) is a *BadInput before any registry is asked, a registry that
// does not answer an *Unreachable, a failed cell or push a *Failed. The
// report is there whenever the mirror started. upstreamVia is dialled for
// an upstream on loopback (see mirror.Upstreams); empty for the host CLI.
func Mirror(ctx context.Context, file string, platforms []string, t publish.Target, upstreamVia string) (*report.Report, error) {
	if len(platforms) == 0 {
		platforms = slices.Clone(DefaultPlatforms)
	}
	for _, p := range platforms {
		if err := component.CheckPlatform(p); err != nil {
			return nil, class.BadInput.Errorf("--platforms: %w; use os/arch such as linux/amd64,linux/arm64", err)
		}
	}
	l, err := mirror.Load(file)
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	for _, img := range l.Images {
		if len(mirror.Tags(img, t.Tags)) == 0 {
			return nil, class.BadInput.Wrap(fmt.Errorf("%s: entry %s: source %s is pinned by digest only, so it has no tag to publish: "+
				"write it as name:tag@sha256:..., or pass --tags", file, img.Name, img.Source))
		}
	}
	if err := t.Ping(ctx); err != nil {
		return nil, class.Unreachable.Errorf("%w; start it, or check --registry", err)
	}
	start := time.Now()
	r := &report.Report{Platforms: platforms}
	err = mirror.Run(ctx, l, platforms, t, upstreamVia, r)
	r.Seconds = time.Since(start).Seconds()
	if err != nil {
		return r, class.Failed.Wrap(err)
	}
	return r, nil
}

// Import pushes the offline bundle in dir into t's registry (see
// bundle.Import); it needs no engine. A bundle that does not check out is a
// *BadInput and nothing is pushed; a registry that does not answer is an
// *Unreachable; a failed push a *Failed, with no final tag moved.
func Import(ctx context.Context, dir string, t publish.Target) (*bundle.Result, error) {
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	res, err := bundle.Import(ctx, dir, t)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, bundle.ErrBadBundle):
		return res, class.BadInput.Wrap(err)
	case errors.Is(err, bundle.ErrUnreachable):
		return res, class.Unreachable.Errorf("%w; start it, or check --registry", err)
	}
	return res, class.Failed.Wrap(err)
}

// checkTarget checks the registry and the extra tags (which may be none:
// the list or the bundle gives each image its own).
func checkTarget(t publish.Target) error {
	if len(t.Tags) == 0 {
		t.Tags = []string{"latest"} // stands in for "no extra tags" in Validate
	}
	if err := t.Validate(); err != nil {
		return class.BadInput.Wrap(err)
	}
	return nil
}
