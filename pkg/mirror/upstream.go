package mirror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Steps of a third-party cell that failed.
const (
	StepResolve  = "resolve"   // the upstream index could not be read
	StepPlatform = "platform"  // the index has no entry for the platform
	StepArch     = "arch"      // the entry's image config says another os/arch
	StepPush     = "push"      // writing to the target registry failed
	StepReadBack = "read-back" // what the target registry holds is not what was pushed
)

// Found is one requested platform looked up in an index.
type Found struct {
	Platform string
	Digest   v1.Hash // the entry's manifest, when there is one
	Step     string  // "" when the entry is there and its config agrees
	Problem  string
}

// Platforms looks up each of platforms in idx: the entry whose descriptor
// names it, and that entry's image config, which must say the same os/arch.
func Platforms(idx v1.ImageIndex, platforms []string) ([]Found, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var have []string
	for _, d := range m.Manifests {
		if d.Platform != nil {
			have = append(have, d.Platform.String())
		}
	}
	out := make([]Found, len(platforms))
	for i, p := range platforms {
		out[i] = Found{Platform: p}
		want, err := v1.ParsePlatform(p)
		if err != nil {
			return nil, err
		}
		d, ok := entry(m, want)
		if !ok {
			out[i].Step, out[i].Problem = StepPlatform, fmt.Sprintf("the index has no %s entry (it has %s)", p, strings.Join(have, ", "))
			continue
		}
		out[i].Digest = d.Digest
		img, err := idx.Image(d.Digest)
		if err == nil {
			var cf *v1.ConfigFile
			if cf, err = img.ConfigFile(); err == nil && (cf.OS != want.OS || cf.Architecture != want.Architecture) {
				out[i].Step, out[i].Problem = StepArch, fmt.Sprintf("the %s entry %s has an image config for %s/%s", p, d.Digest, cf.OS, cf.Architecture)
			}
		}
		if err != nil {
			out[i].Step, out[i].Problem = StepPlatform, fmt.Sprintf("reading the %s entry %s: %v", p, d.Digest, err)
		}
	}
	return out, nil
}

// entry is the first image entry of m for want: same os and architecture,
// and the same variant when want names one.
func entry(m *v1.IndexManifest, want *v1.Platform) (v1.Descriptor, bool) {
	for _, d := range m.Manifests {
		p := d.Platform
		if p != nil && !d.MediaType.IsIndex() && p.OS == want.OS && p.Architecture == want.Architecture &&
			(want.Variant == "" || p.Variant == want.Variant) {
			return d, true
		}
	}
	return v1.Descriptor{}, false
}

// Check looks up platforms in what: an index (see Platforms), or a single
// image, whose config must say the one platform. The error joins every
// problem found.
func Check(what remote.Taggable, platforms []string) ([]Found, error) {
	var found []Found
	switch w := what.(type) {
	case v1.ImageIndex:
		var err error
		if found, err = Platforms(w, platforms); err != nil {
			return nil, err
		}
	case v1.Image:
		d, err := w.Digest()
		if err != nil {
			return nil, err
		}
		cf, err := w.ConfigFile()
		if err != nil {
			return nil, err
		}
		want, err := v1.ParsePlatform(strings.Join(platforms, ","))
		if err != nil || len(platforms) != 1 || cf.OS != want.OS || cf.Architecture != want.Architecture {
			return nil, fmt.Errorf("a single image for %s/%s, want an index of %s", cf.OS, cf.Architecture, strings.Join(platforms, ","))
		}
		found = []Found{{Platform: platforms[0], Digest: d}}
	default:
		return nil, fmt.Errorf("%T is neither an index nor an image", what)
	}
	var errs []error
	for _, f := range found {
		if f.Step != "" {
			errs = append(errs, errors.New(f.Problem))
		}
	}
	return found, errors.Join(errs...)
}

// Digests are the platform digests of found, for a report or bundle.json.
func Digests(found []Found) []report.PlatformDigest {
	out := make([]report.PlatformDigest, len(found))
	for i, f := range found {
		out[i] = report.PlatformDigest{Platform: f.Platform, Digest: f.Digest.String()}
	}
	return out
}

// Upstream is one image's upstream index, read and checked.
type Upstream struct {
	Image  Image
	Pinned name.Digest // the source pinned by the digest it has now
	Index  v1.ImageIndex
	Want   []string // the platforms it is mirrored for
	Found  []Found
}

// OK reports whether every wanted platform is there and agrees.
func (u *Upstream) OK() bool {
	for _, f := range u.Found {
		if f.Step != "" {
			return false
		}
	}
	return u.Index != nil
}

// Cells are u's cells: one per wanted platform, verified or failed.
func (u *Upstream) Cells() []report.Cell {
	out := make([]report.Cell, len(u.Found))
	for i, f := range u.Found {
		out[i] = report.Cell{Component: u.Image.Name, Platform: f.Platform, Status: report.Verified}
		if f.Step != "" {
			out[i].Status, out[i].Step, out[i].Error = report.Failed, f.Step, f.Problem
		}
	}
	return out
}

// fail marks every wanted platform of u failed at step.
func (u *Upstream) fail(step string, err error) {
	u.Found = make([]Found, len(u.Want))
	for i, p := range u.Want {
		u.Found[i] = Found{Platform: p, Step: step, Problem: err.Error()}
	}
}

// Resolve reads img's upstream index (a tag resolves to the digest it has
// now) and checks it for want. An upstream that cannot be read fails every
// wanted platform at StepResolve; u is never nil.
func Resolve(ctx context.Context, img Image, want []string, opts ...remote.Option) *Upstream {
	u := &Upstream{Image: img, Want: want}
	ref, err := name.ParseReference(img.Source)
	if err != nil {
		u.fail(StepResolve, err)
		return u
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		u.fail(StepResolve, fmt.Errorf("reading %s: %w", img.Source, err))
		return u
	}
	u.Pinned = ref.Context().Digest(desc.Digest.String())
	if !desc.MediaType.IsIndex() {
		u.fail(StepResolve, fmt.Errorf("%s is a single image (%s), not a multi-platform index: pin a multi-platform tag or digest", img.Source, desc.MediaType))
		return u
	}
	if u.Index, err = desc.ImageIndex(); err == nil {
		u.Found, err = Platforms(u.Index, want)
	}
	if err != nil {
		u.Index = nil
		u.fail(StepResolve, fmt.Errorf("reading %s: %w", img.Source, err))
	}
	return u
}

// Upstreams are the options for reading upstream registries: the target's
// retry bounds and the local Docker credentials, never the target's. via,
// when set, is the host:port dialled instead of an upstream on loopback
// (localhost, 127.0.0.1, ::1): from inside the module, a tunnel to the
// caller's loopback registry, which the module's container cannot reach.
func Upstreams(ctx context.Context, retry registry.Retry, via string) []remote.Option {
	tr := http.DefaultTransport
	if via != "" {
		tr = registry.Redirect{Match: func(u *url.URL) bool { return IsLoopback(u.Hostname()) }, To: via, Next: tr}
	}
	return append(retry.Options(ctx, tr), remote.WithAuthFromKeychain(authn.DefaultKeychain))
}

// IsLoopback reports whether host (no port) names this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
