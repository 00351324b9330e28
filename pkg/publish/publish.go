package publish

import (
	"context"
	"fmt"
	"strings"

	"dagger.io/dagger"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
)

// Index publishes variants under ref with one Publish call and returns the
// index digest. Variants are published in the order given: callers keep a
// fixed platform order so unchanged inputs give an unchanged digest.
func Index(ctx context.Context, c *dagger.Client, ref string, variants []builder.Variant, auth ...registry.Auth) (string, error) {
	if len(variants) == 0 {
		return "", fmt.Errorf("publishing %s: no variants", ref)
	}
	ctrs := make([]*dagger.Container, len(variants))
	for i, v := range variants {
		ctrs[i] = v.Container
	}
	return push(ctx, c, c.Container(), ref, dagger.ContainerPublishOpts{PlatformVariants: ctrs}, auth...)
}

// push publishes ctr (with opts) under ref from c's engine, with the
// credentials given (the password as a secret of c), and returns the digest
// the engine pushed.
func push(ctx context.Context, c *dagger.Client, ctr *dagger.Container, ref string, opts dagger.ContainerPublishOpts, auth ...registry.Auth) (string, error) {
	for _, a := range auth {
		if a.Password != "" {
			host, _, _ := strings.Cut(ref, "/")
			ctr = ctr.WithRegistryAuth(host, a.Username, c.SetSecret("matrix-registry-password", a.Password))
		}
	}
	out, err := ctr.Publish(ctx, ref, opts)
	if err != nil {
		return "", fmt.Errorf("publishing %s: %w", ref, err)
	}
	_, digest, ok := strings.Cut(out, "@")
	if !ok {
		return "", fmt.Errorf("publishing %s: engine returned %q without a digest", ref, out)
	}
	return digest, nil
}
