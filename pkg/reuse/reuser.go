package reuse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/cellkey"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// Reuser keys every cell of a run on one engine and, with a Cache, takes
// from the registry each variant whose key the cache holds (a
// builder.Reuser).
type Reuser struct {
	Client  *dagger.Client
	Engine  string            // the engine's version, an input of every key
	Cache   *Cache            // nil: keys only, every cell builds
	Rebuild func(string) bool // components that build whatever the cache holds; nil: none
	Warn    func(string)      // hears why a cell builds although its key was looked up; may be nil

	down atomic.Bool // the cache did not answer: no more lookups
	mu   sync.Mutex
	keys map[string]string // "component platform" → key
}

var _ builder.Reuser = (*Reuser)(nil)

// Reuse keys the cell and looks the key up. A dependent's key holds its
// dependencies' keys instead of the staged reference, which changes every
// run. Anything wrong with the cache means building, never failing.
func (r *Reuser) Reuse(ctx context.Context, c component.Spec, req builder.Request, pl dagger.Platform) builder.Reuse {
	in, err := r.inputs(ctx, c, req, pl)
	if err != nil {
		r.warn(fmt.Sprintf("%s %s: no key, building: %v", c.Name, pl, err))
		return builder.Reuse{}
	}
	key := in.Key()
	r.mu.Lock()
	if r.keys == nil {
		r.keys = map[string]string{}
	}
	r.keys[c.Name+" "+string(pl)] = key
	r.mu.Unlock()
	out := builder.Reuse{Key: key, Inputs: in.Lines()}
	if r.Cache == nil || (r.Rebuild != nil && r.Rebuild(c.Name)) || r.down.Load() {
		return out
	}
	ref, err := r.Cache.Lookup(ctx, key, string(pl))
	var te *transport.Error
	var be *BadEntry
	switch {
	case err != nil && !errors.As(err, &te) && !errors.As(err, &be) && ctx.Err() == nil:
		// Not an answer of the registry: said once, and no cell waits on it again.
		if !r.down.Swap(true) {
			r.warn(fmt.Sprintf("--cache-repo does not answer, building every cell: %v", err))
		}
		return out
	case err != nil:
		r.warn(fmt.Sprintf("%s %s: cache entry not used, building: %v", c.Name, pl, err))
		return out
	}
	if ref != "" {
		out.From, out.Container = ref, r.Client.Container(dagger.ContainerOpts{Platform: pl}).From(ref)
	}
	return out
}

// inputs resolves the cell's inputs on the engine.
func (r *Reuser) inputs(ctx context.Context, c component.Spec, req builder.Request, pl dagger.Platform) (cellkey.Inputs, error) {
	src := cellkey.Source{Dir: req.Dir, Dockerfile: req.Dockerfile, Target: req.Target, Platform: string(pl), Secrets: c.Secrets}
	var depArgs []string
	for _, d := range c.DependsOn {
		k, err := r.key(d, pl, "dependency")
		if err != nil {
			return nil, err
		}
		src.Deps = append(src.Deps, cellkey.Arg{Name: d, Value: k})
		depArgs = append(depArgs, builder.ImageArg(d))
	}
	// A served component's URL holds its service's digest, known only once
	// started: its key stands for it, as a dependency's does.
	for _, s := range c.Services {
		k, err := r.key(s.Component, pl, "service")
		if err != nil {
			return nil, err
		}
		src.Deps = append(src.Deps, cellkey.Arg{Name: "service " + s.Component + " as " + s.Arg, Value: k})
	}
	for _, a := range req.Args {
		if !slices.Contains(depArgs, a.Name) {
			src.Args = append(src.Args, cellkey.Arg{Name: a.Name, Value: a.Value})
		}
	}
	cell, err := cellkey.Resolve(ctx, r.Client, r.Engine, src)
	if err != nil {
		return nil, err
	}
	return cell.Inputs(), nil
}

// key is the key of component name's cell for pl, keyed before (what, a
// dependency or a service, names it in the error).
func (r *Reuser) key(name string, pl dagger.Platform, what string) (string, error) {
	r.mu.Lock()
	k, ok := r.keys[name+" "+string(pl)]
	r.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%s %s has no key for %s", what, name, pl)
	}
	return k, nil
}

func (r *Reuser) warn(s string) {
	if r.Warn != nil {
		r.Warn("warning: " + s)
	}
}
