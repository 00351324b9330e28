package cellkey

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
)

// Source is a cell's build as the builder runs it.
type Source struct {
	Dir        *dagger.Directory // the component directory: the build context
	Dockerfile string            // in Dir; "" Dockerfile
	Target     string
	Platform   string
	Args       []Arg    // every build arg the build gets, a dependency's image left out
	Secrets    []string // ids
	Deps       []Arg    // each dependency and its key for Platform
}

// Resolve digests s on the engine of client c, whose version is engine:
// the context after .dockerignore and the Dockerfile by Dagger's own content
// digests, each FROM by the digest it resolves to, nothing built.
func Resolve(ctx context.Context, c *dagger.Client, engine string, s Source) (Cell, error) {
	file := s.Dockerfile
	if file == "" {
		file = "Dockerfile"
	}
	cell := Cell{Platform: s.Platform, Engine: engine, Dockerfile: file, Target: s.Target,
		Args: slices.Clone(s.Args), Secrets: slices.Sorted(slices.Values(s.Secrets)), Deps: s.Deps}
	ctxDir := s.Dir
	// As DockerBuild picks it: the Dockerfile's own .dockerignore, else the
	// context root's (a shared context holds several Dockerfiles).
	for _, f := range []string{file + ".dockerignore", ".dockerignore"} {
		if found, err := s.Dir.Glob(ctx, f); err != nil || len(found) != 1 {
			continue
		}
		data, err := s.Dir.File(f).Contents(ctx) // patterns to apply, not hashed
		if err != nil {
			return Cell{}, fmt.Errorf("reading %s: %w", f, err)
		}
		if data == "" {
			continue
		}
		if ex := component.IgnorePatterns([]byte(data)); len(ex) > 0 {
			ctxDir = s.Dir.Filter(dagger.DirectoryFilterOpts{Exclude: ex})
		}
		break
	}
	// The digest of a copy with every time zeroed, not of the upload itself:
	// an upload's snapshot also holds the engine's record of how it synced
	// it, and its digest was seen to differ between two engines for the same
	// tree. A copy holds only what COPY sees, and no time is an input.
	var err error
	if cell.Digests.Context, err = ctxDir.WithTimestamps(0).Digest(ctx); err != nil {
		return Cell{}, fmt.Errorf("digesting the build context: %w", err)
	}
	df := s.Dir.File(file)
	if cell.Digests.Dockerfile, err = df.Digest(ctx, dagger.FileDigestOpts{ExcludeMetadata: true}); err != nil {
		return Cell{}, fmt.Errorf("digesting %s: %w", file, err)
	}
	data, err := df.Contents(ctx) // parsed for its FROMs, not hashed
	if err != nil {
		return Cell{}, fmt.Errorf("reading %s: %w", file, err)
	}
	if cell.Bases, err = bases(ctx, c, path.Base(file), data, s); err != nil {
		return Cell{}, err
	}
	return cell, nil
}

// bases resolves each external FROM of the Dockerfile for its platform,
// as the engine would pull it, without building.
func bases(ctx context.Context, c *dagger.Client, file, data string, s Source) ([]Base, error) {
	env := map[string]string{"TARGETPLATFORM": s.Platform}
	for _, a := range s.Args {
		env[a.Name] = a.Value
	}
	froms, err := lint.Bases(file, []byte(data), env)
	if err != nil {
		return nil, err
	}
	var out []Base
	for _, f := range froms {
		pl := f.Platform
		if pl == "" {
			pl = s.Platform
		}
		ref, err := c.Container(dagger.ContainerOpts{Platform: dagger.Platform(pl)}).From(f.Ref).ImageRef(ctx)
		if err != nil {
			return nil, fmt.Errorf("resolving FROM %s for %s: %w", f.Ref, pl, err)
		}
		_, digest, _ := strings.Cut(ref, "@")
		out = append(out, Base{Ref: f.Ref + " " + pl, Digest: digest})
	}
	return out, nil
}
