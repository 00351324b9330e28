package publish

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ai-infra-matrix/matrix/pkg/component"
)

func TestAnnotationsOf(t *testing.T) {
	p := component.AnnotationPrefix
	comp := component.Spec{Name: "nginx", Base: "debian:bookworm-slim",
		Annotations: map[string]string{p + "title": "nginx", p + "licenses": "BSD-2-Clause"}}
	tg := Target{Revision: "0123456789abcdef0123456789abcdef01234567", Created: "2026-12-01T10:00:00Z",
		Annotations: map[string]string{AnnotationVersion: "v1.2.3"}}
	assert.Equal(t, map[string]string{
		p + "title": "nginx", p + "licenses": "BSD-2-Clause",
		AnnotationRevision: tg.Revision, AnnotationVersion: "v1.2.3", AnnotationCreated: "2026-12-01T10:00:00Z",
		AnnotationBaseName: "docker.io/library/debian:bookworm-slim",
	}, tg.AnnotationsOf(comp))
	comp.Base = "registry.example.com/base/debian:12@sha256:abc"
	got := Target{}.AnnotationsOf(comp)
	assert.Equal(t, "sha256:abc", got[AnnotationBaseDigest], "a pinned base gives its digest")
	assert.NotContains(t, got, AnnotationCreated, "no created without a source time: never the wall clock")
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		"debian:bookworm-slim":                 "docker.io/library/debian:bookworm-slim",
		"grafana/grafana:11":                   "docker.io/grafana/grafana:11",
		"localhost:5000/x:1":                   "localhost:5000/x:1",
		"registry.example.com/team/app:1":      "registry.example.com/team/app:1",
		"localhost/x:1":                        "localhost/x:1",
		"quay.io/prometheus/prometheus:v3.0.0": "quay.io/prometheus/prometheus:v3.0.0",
	} {
		assert.Equal(t, want, BaseName(in), in)
	}
}
