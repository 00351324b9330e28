package builder

import (
	"context"
	"fmt"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/verify"
)

// Scratch is the variant ctr of a component whose final stage is FROM
// scratch, with the platform it was built for (see replatform).
func (b *Builder) Scratch(ctx context.Context, ctr *dagger.Container, p dagger.Platform, smoke []string) (*dagger.Container, error) {
	prog, err := program(ctx, ctr, smoke)
	if err != nil {
		return nil, &verify.Failure{Step: "platform", Err: fmt.Errorf("reading the entrypoint: %w", err)}
	}
	return b.replatform(ctx, ctr, p, prog)
}

// replatform gives a variant whose final stage is FROM scratch the platform
// it was built for. Dagger v0.21.8's DockerBuild labels such an image with
// the engine's platform whatever platform it was asked for, and no base
// image is there to say otherwise. The config is corrected only when the
// program the image runs (prog: the smoke program, else the entrypoint) is
// an ELF file of platform p; one of another machine fails at step arch,
// naming the file and both machines, and the config is left as it is. An
// image with a base is never passed here: its config is its base's, and the
// platform check must still catch a single-platform base.
func (b *Builder) replatform(ctx context.Context, ctr *dagger.Container, p dagger.Platform, prog string) (*dagger.Container, error) {
	got, err := ctr.Platform(ctx)
	if err != nil {
		return nil, &verify.Failure{Step: "platform", Err: err}
	}
	if verify.Same(got, p) {
		return ctr, nil
	}
	if prog == "" {
		return nil, &verify.Failure{Step: "platform", Err: fmt.Errorf(
			"image config says %s, want %s: a FROM scratch image's config is corrected only from the ELF machine of its smoke program or entrypoint, and it has neither", got, p)}
	}
	if err := verify.Arch(ctx, ctr, p, prog); err != nil {
		return nil, err
	}
	out, err := withConfig(ctx, ctr, b.client.Container(dagger.ContainerOpts{Platform: p}).WithRootfs(ctr.Rootfs()))
	if err != nil {
		return nil, &verify.Failure{Step: "platform", Err: fmt.Errorf("setting the platform %s in the config: %w", p, err)}
	}
	return out.Sync(ctx)
}

// program is what replatform reads the machine of: the smoke program, else
// the entrypoint's, else "".
func program(ctx context.Context, ctr *dagger.Container, smoke []string) (string, error) {
	if len(smoke) > 0 {
		return smoke[0], nil
	}
	ep, err := ctr.Entrypoint(ctx)
	if err != nil || len(ep) == 0 {
		return "", err
	}
	return ep[0], nil
}

// withConfig copies the image config of from onto to: entrypoint, default
// args, environment, workdir, user, labels and exposed ports.
func withConfig(ctx context.Context, from, to *dagger.Container) (*dagger.Container, error) {
	ep, err := from.Entrypoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the entrypoint: %w", err)
	}
	args, err := from.DefaultArgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the default args: %w", err)
	}
	if len(ep) > 0 {
		to = to.WithEntrypoint(ep)
	}
	if len(args) > 0 {
		to = to.WithDefaultArgs(args)
	}
	env, err := from.EnvVariables(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the environment: %w", err)
	}
	for _, e := range env {
		k, err := e.Name(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the environment: %w", err)
		}
		v, err := e.Value(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the environment: %w", err)
		}
		to = to.WithEnvVariable(k, v)
	}
	wd, err := from.Workdir(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the workdir: %w", err)
	}
	if wd != "" {
		to = to.WithWorkdir(wd)
	}
	user, err := from.User(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the user: %w", err)
	}
	if user != "" {
		to = to.WithUser(user)
	}
	if to, err = withLabels(ctx, from, to); err != nil {
		return nil, err
	}
	return withPorts(ctx, from, to)
}

// withLabels copies the labels of from onto to.
func withLabels(ctx context.Context, from, to *dagger.Container) (*dagger.Container, error) {
	labels, err := from.Labels(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the labels: %w", err)
	}
	for _, l := range labels {
		k, err := l.Name(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the labels: %w", err)
		}
		v, err := l.Value(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading label %s: %w", k, err)
		}
		to = to.WithLabel(k, v)
	}
	return to, nil
}

// withPorts copies the exposed ports of from onto to.
func withPorts(ctx context.Context, from, to *dagger.Container) (*dagger.Container, error) {
	ports, err := from.ExposedPorts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the exposed ports: %w", err)
	}
	for _, p := range ports {
		n, err := p.Port(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the exposed ports: %w", err)
		}
		proto, err := p.Protocol(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading port %d: %w", n, err)
		}
		desc, err := p.Description(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading port %d: %w", n, err)
		}
		to = to.WithExposedPort(n, dagger.ContainerWithExposedPortOpts{Protocol: proto, Description: desc})
	}
	return to, nil
}
