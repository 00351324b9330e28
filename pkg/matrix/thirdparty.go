package matrix

import (
	"context"
	"time"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Mirror copies the third-party images listed in file into p's registry
// (see mirror.Run); it needs no engine. Bad input (the list, the platforms,
// the target) is found before any registry is asked; then a registry that
// does not answer is unreachable, a failed cell or push a failed run. The
// report is there whenever the mirror started. upstreamVia is dialled for
// an upstream on loopback (see mirror.Upstreams); empty for the host CLI.
// notify hears what the push waits for.
func Mirror(ctx context.Context, file string, platforms []string, p PushOptions, upstreamVia string, notify func(string)) (*report.Report, error) {
	l, err := mirror.Load(file)
	if err != nil {
		return nil, err
	}
	return mirrorList(ctx, file, l, platforms, p, upstreamVia, notify)
}

// MirrorList is Mirror of the list data, which file names (the module reads
// it in the engine, exporting nothing).
func MirrorList(ctx context.Context, file string, data []byte, platforms []string, p PushOptions, upstreamVia string, notify func(string)) (*report.Report, error) {
	l, err := mirror.Parse(file, data)
	if err != nil {
		return nil, err
	}
	return mirrorList(ctx, file, l, platforms, p, upstreamVia, notify)
}

func mirrorList(ctx context.Context, file string, l *mirror.List, platforms []string, p PushOptions, upstreamVia string, notify func(string)) (*report.Report, error) {
	platforms = orDefault(platforms, DefaultPlatforms)
	if err := checkPlatforms(platforms, false); err != nil {
		return nil, err
	}
	t, err := p.extra(notify)
	if err != nil {
		return nil, err
	}
	for _, img := range l.Images {
		if len(mirror.Tags(img, t.Tags)) == 0 {
			return nil, class.BadInput.Errorf("%s: entry %s: source %s is pinned by digest only, so it has no tag to publish: "+
				"write it as name:tag@sha256:..., or pass --tags", file, img.Name, img.Source)
		}
	}
	if err := t.Ping(ctx); err != nil {
		return nil, err
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

// Import pushes the offline bundle in d into p's registry (see
// bundle.Import); it needs no engine. A bundle that does not check out is
// bad input and nothing is pushed; a failed push moves no final tag.
func Import(ctx context.Context, d bundle.Dir, p PushOptions, notify func(string)) (*bundle.Result, error) {
	t, err := p.extra(notify)
	if err != nil {
		return nil, err
	}
	return bundle.Import(ctx, d, t)
}
