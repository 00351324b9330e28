package publish

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
)

// StageTag names a staged dependency in the stage registry; dependents
// build FROM it by digest, never by this tag.
const StageTag = "stage"

// Stager publishes a dependency's variants to a stage registry so that its
// dependents can build FROM them pinned by digest.
type Stager struct {
	Client   *dagger.Client
	Registry string // e.g. localhost:5000
	Tag      string // the stage tag; empty: StageTag (engines of one run stage under tags of their own)
	Auth     registry.Auth
	// ReadBack: Check also reads the probe back from this process. Off
	// inside the module, whose localhost is not the engine's.
	ReadBack bool
}

// Stage implements builder.Stager.
//
// Dagger's Dockerfile builds stamp the wall clock into the image config
// (created), and after an engine restart the engine's persisted result
// comes back with history made up anew ("rehydrated persisted snapshot"),
// so the same layers get a new digest and every dependent would rebuild
// FROM it. With ReadBack, a staged index equal to the one already at the
// stage tag but for those two fields is replaced by that one, so the
// dependents' FROM, and their cache, stay put.
func (s Stager) Stage(ctx context.Context, c component.Spec, vs []builder.Variant) (string, error) {
	repo := s.Registry + "/matrix-stage/" + c.Image
	t := registry.Client{Registry: s.Registry, Auth: s.Auth}
	stageTag := cmp.Or(s.Tag, StageTag)
	var prev *remote.Descriptor
	tag, terr := name.NewTag(repo+":"+stageTag, name.Insecure)
	if s.ReadBack && terr == nil {
		prev, _ = remote.Get(tag, t.Remote(ctx)...) // none yet, or unreadable: stage as usual
	}
	var digest string
	err := t.Retry.Do(ctx, func() error {
		var err error
		digest, err = Index(ctx, s.Client, repo+":"+stageTag, vs, s.Auth)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("staging %s: %w", c.Name, err)
	}
	if prev != nil && prev.Digest.String() != digest {
		if kept, err := keepEqual(ctx, t, tag, prev, digest); err == nil && kept {
			digest = prev.Digest.String()
		}
	}
	return repo + "@" + digest, nil
}

// keepEqual moves the stage tag (tag) back to prev when the index just pushed as
// digest holds the same platforms, layers and config as prev, but for
// created and history, and reports whether it did.
func keepEqual(ctx context.Context, t registry.Client, tag name.Tag, prev *remote.Descriptor, digest string) (bool, error) {
	ref, err := name.NewDigest(tag.Repository.String()+"@"+digest, name.Insecure)
	if err != nil {
		return false, err
	}
	opts := t.Remote(ctx)
	now, err := remote.Index(ref, opts...)
	if err != nil {
		return false, err
	}
	was, err := prev.ImageIndex()
	if err != nil {
		return false, err
	}
	a, err := essence(was)
	if err != nil {
		return false, err
	}
	b, err := essence(now)
	if err != nil || a != b {
		return false, err
	}
	return true, remote.Tag(tag, was, opts...)
}

// essence is ix's platforms, layer counts and configs (diff ids included)
// without created and history, as one comparable string.
func essence(ix v1.ImageIndex) (string, error) {
	m, err := ix.IndexManifest()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, d := range m.Manifests {
		img, err := ix.Image(d.Digest)
		if err != nil {
			return "", err
		}
		layers, err := img.Layers()
		if err != nil {
			return "", err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return "", err
		}
		cf.Created, cf.History = v1.Time{}, nil
		j, err := json.Marshal(cf)
		if err != nil {
			return "", err
		}
		// The config holds the layers' diff ids: the same files. Their
		// compressed digests are left out, since an engine that exports a
		// layer again after a restart or a prune may compress it anew.
		fmt.Fprintf(&b, "%s %d %s\n", d.Platform, len(layers), j)
	}
	return b.String(), nil
}

// StageCheckTimeout bounds each side of Check: an address that drops packets
// must fail the run in seconds, not after the first dependency has built.
var StageCheckTimeout = 8 * time.Second

// Check proves, before any build, that the stage registry answers where the
// engine pushes and pulls (a tiny probe image published, then read back by
// the engine) and, with ReadBack, from this process too. Its errors are
// class.Unreachable.
func (s Stager) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StageCheckTimeout)
	defer cancel()
	ref := s.Registry + "/matrix-stage/probe:" + StageTag
	probe := s.Client.Container().WithNewFile("/matrix-probe", "stage registry probe\n")
	if s.Auth.Password != "" {
		probe = probe.WithRegistryAuth(s.Registry, s.Auth.Username, s.Client.SetSecret("matrix-registry-password", s.Auth.Password))
	}
	pinned, err := probe.Publish(ctx, ref)
	if err != nil {
		return class.Unreachable.Errorf("the engine cannot push to stage registry %s: %w", s.Registry, cause(ctx, err))
	}
	if _, err := s.Client.Container().From(pinned).File("/matrix-probe").Contents(ctx); err != nil {
		return class.Unreachable.Errorf("the engine cannot pull %s back from stage registry %s: %w", pinned, s.Registry, cause(ctx, err))
	}
	if !s.ReadBack {
		return nil
	}
	d, err := name.NewDigest(pinned, name.Insecure)
	if err != nil {
		return class.Unreachable.Errorf("stage registry %s: engine returned %q: %w", s.Registry, pinned, err)
	}
	t := registry.Client{Registry: s.Registry, Auth: s.Auth, Retry: registry.Retry{Attempts: 1}}
	if _, err := remote.Head(d, t.Remote(ctx)...); err != nil {
		return class.Unreachable.Errorf("the engine pushed to stage registry %s, but matrix cannot read it back from here: %w", s.Registry, cause(ctx, err))
	}
	return nil
}

// cause names the deadline instead of a bare "context deadline exceeded".
func cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer within %s (%w)", StageCheckTimeout, err)
	}
	return err
}
