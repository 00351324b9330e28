package builder

import (
	"context"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// Request is one component to build for a list of platforms.
type Request struct {
	Component  string            // name, for errors and reports
	Dir        *dagger.Directory // build context: the shared one, or the component directory
	Dockerfile string            // path inside Dir; "" means Dockerfile
	Target     string            // stage to build; "" means the last
	Args       []dagger.BuildArg
	Secrets    []*dagger.Secret
}

// Variant is one component built for one platform.
type Variant struct {
	Platform  dagger.Platform
	Container *dagger.Container
	Args      []dagger.BuildArg // what it was built with (its provenance records them)
}

// Builder builds components on one engine.
type Builder struct {
	client *dagger.Client
	native dagger.Platform
	jobs   int
}

// New asks the engine for its own platform, which becomes BUILDPLATFORM of
// every build so `FROM --platform=$BUILDPLATFORM` stages run natively.
func New(ctx context.Context, c *dagger.Client, jobs int) (*Builder, error) {
	native, err := c.DefaultPlatform(ctx)
	if err != nil {
		return nil, class.Unreachable.Errorf("asking the engine for its platform: %w", err)
	}
	if jobs < 1 {
		jobs = 1
	}
	return &Builder{client: c, native: native, jobs: jobs}, nil
}

// Native is the engine's platform.
func (b *Builder) Native() dagger.Platform { return b.native }

// Container is the lazy build of req for one platform.
func (b *Builder) Container(req Request, p dagger.Platform) *dagger.Container {
	return req.Dir.DockerBuild(dagger.DirectoryDockerBuildOpts{
		Platform:   p,
		Dockerfile: req.Dockerfile,
		Target:     req.Target,
		BuildArgs:  b.withNative(req).Args,
		Secrets:    req.Secrets,
	})
}
