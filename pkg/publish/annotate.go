package publish

import (
	"context"
	"maps"
	"slices"
	"strings"

	"dagger.io/dagger"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// The annotations matrix computes (component.Computed), by full key.
const (
	AnnotationCreated    = component.AnnotationPrefix + "created"
	AnnotationBaseName   = component.AnnotationPrefix + "base.name"
	AnnotationBaseDigest = component.AnnotationPrefix + "base.digest"
)

// AnnotationsOf are the annotations of comp's index and of each of its
// image manifests: the component's own (annotations.yaml under
// component.yaml), the run's (version, revision), created, and the base.
func (t Target) AnnotationsOf(comp component.Spec) map[string]string {
	out := map[string]string{}
	maps.Copy(out, comp.Annotations)
	maps.Copy(out, t.annotations())
	if t.Created != "" {
		out[AnnotationCreated] = t.Created
	}
	if comp.Base != "" {
		out[AnnotationBaseName] = BaseName(comp.Base)
		if _, d, ok := strings.Cut(comp.Base, "@"); ok {
			out[AnnotationBaseDigest] = d
		}
	}
	return out
}

// annotate is the variants of comp carrying its annotations on their image
// manifests, and as config labels where the Dockerfile sets none of that
// key: metadata only, nothing rebuilds. The base digest is the one the
// engine resolves for the variant's platform, when the Dockerfile does not
// pin it.
func (t Target) annotate(ctx context.Context, c *dagger.Client, comp component.Spec, vs []builder.Variant) []builder.Variant {
	ann := t.AnnotationsOf(comp)
	out := make([]builder.Variant, len(vs))
	for i, v := range vs {
		a := ann
		if comp.Base != "" && a[AnnotationBaseDigest] == "" {
			if ref, err := c.Container(dagger.ContainerOpts{Platform: v.Platform}).From(comp.Base).ImageRef(ctx); err == nil {
				if _, d, ok := strings.Cut(ref, "@"); ok {
					a = maps.Clone(ann)
					a[AnnotationBaseDigest] = d
				}
			}
		}
		ctr := v.Container
		for _, k := range slices.Sorted(maps.Keys(a)) {
			ctr = ctr.WithAnnotation(k, a[k])
			if !slices.Contains(comp.Labels, k) {
				ctr = ctr.WithLabel(k, a[k])
			}
		}
		v.Container = ctr
		out[i] = v
	}
	return out
}

// BaseName is a Dockerfile's base reference in full, as OCI's base.name
// wants it: debian:bookworm-slim is docker.io/library/debian:bookworm-slim.
func BaseName(ref string) string {
	first, rest, ok := strings.Cut(ref, "/")
	switch {
	case !ok:
		return "docker.io/library/" + ref
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		return "docker.io/" + first + "/" + rest
	}
	return ref
}
