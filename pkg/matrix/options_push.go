package matrix

import (
	"context"
	"slices"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/source"
)

// PushMode is what a run pushes.
type PushMode int

// The push modes.
const (
	// PushNone: nothing is pushed (plan, build, export, lint); the
	// credentials still read and write --cache-repo.
	PushNone PushMode = iota
	// PushByDigest: every verified variant, by digest, moving no tag
	// (build-all --push-by-digest, one leg of a merge).
	PushByDigest
	// PushTagged: one index per component, then the final tags (publish,
	// merge).
	PushTagged
)

// PushOptions are where a push goes, as whom, and how its tags move. Mirror
// and import take them too, with Tags as the extra tags beside each image's
// own.
type PushOptions struct {
	Mode     PushMode
	Registry string   // --registry, host[:port][/project]
	Tags     []string // --tags; empty: the version and latest (PushTagged)
	Floating []string // --floating, the tags that move forward only; nil: publish.DefaultFloating
	Checkout string   // the git checkout floating tags check descent in; empty: none
	ArchTags bool     // --arch-tags
	Username string   // --username
	Password string   // --password
	Jobs     int      // images pushed at once; 0: the run's --jobs, or mirror.DefaultJobs for mirror and import
	// Via is the host:port this process dials for the registry (a tunnel
	// from inside the module to the caller's loopback).
	Via   string
	Retry registry.Retry // registry retries; zero: registry.DefaultRetry
}

// defaults fills in what the push leaves out; version is the run's.
func (p *PushOptions) defaults(version string) {
	p.Registry = strings.TrimSuffix(p.Registry, "/")
	if len(p.Tags) == 0 && p.Mode == PushTagged {
		p.Tags = []string{version, "latest"}
	}
	if p.Floating == nil {
		p.Floating = slices.Clone(publish.DefaultFloating)
	}
	if p.Jobs == 0 {
		p.Jobs = mirror.DefaultJobs
	}
}

// Validate checks the push (after defaults): the registry, when the run
// pushes, and the final tags, when it moves them.
func (p *PushOptions) Validate() error {
	switch p.Mode {
	case PushByDigest: // a leg moves no tag
		if p.Registry == "" {
			return badInput("--push-by-digest needs --registry host[:port][/project] to push the variants to")
		}
		return p.Client(nil).ValidateRegistry()
	case PushTagged:
		return p.Client(nil).Validate()
	}
	return nil
}

// tagged refuses a verb that moves final tags (publish, merge) a push that
// moves none.
func (p PushOptions) tagged(verb string) error {
	switch p.Mode {
	case PushByDigest:
		return badInput("--push-by-digest is for build-all (one leg of a fan-out); merge the legs with merge")
	case PushNone:
		return badInput("%s pushes: give it the push options (PushTagged) and --registry host[:port][/project]", verb)
	}
	return nil
}

// Client is the registry client of the push: where, which tags, as whom,
// through what; notify hears what it waits for.
func (p PushOptions) Client(notify func(string)) registry.Client {
	return registry.Client{Registry: p.Registry, Tags: p.Tags, Jobs: p.Jobs, Notify: notify, Via: p.Via, Retry: p.Retry,
		Auth: registry.Auth{Username: p.Username, Password: p.Password}}
}

// extra is the client of a mirror or an import, checked: the registry and
// the extra tags, which may be none (the list or the bundle gives each image
// its own).
func (p PushOptions) extra(notify func(string)) (registry.Client, error) {
	p.defaults("")
	t := p.Client(notify)
	check := t
	if len(check.Tags) == 0 {
		check.Tags = []string{"latest"} // stands in for "no extra tags" in Validate
	}
	return t, check.Validate()
}

// descends checks floating tags against the checkout, when there is one.
func (p PushOptions) descends() func(ctx context.Context, prev, next string) (bool, error) {
	if p.Checkout == "" {
		return nil
	}
	return source.Checkout{Dir: p.Checkout}.Descends
}

// target is where a run's push goes, without the engine-side password.
func (o *Options) target() publish.Target {
	return publish.Target{Client: o.Push.Client(o.Notify), Attest: o.Attest.attester(o.Run.Mirrors), ArchTags: o.Push.ArchTags,
		Revision: o.Run.Revision, Created: o.Run.Created, Floating: o.Push.Floating, Descends: o.Push.descends(),
		Annotations: map[string]string{publish.AnnotationVersion: o.Run.Version}}
}

// pushTarget is the target of a run that pushes now: Created is read, from
// the checkout, if the run has none.
func (r *Run) pushTarget(ctx context.Context) publish.Target {
	r.Options.Run.created(ctx, r.Options.Push.Checkout)
	return r.Options.target()
}
