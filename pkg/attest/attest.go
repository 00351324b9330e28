// Package attest makes what a published image carries about itself, as OCI
// referrers (publish.Referrer): an SBOM per variant, SLSA provenance per
// variant and index, and a signature over each manifest and index.
package attest

import (
	"context"
	"fmt"
	"maps"

	"dagger.io/dagger"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/provenance"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
	"github.com/ai-infra-matrix/matrix/pkg/signature"
)

// Attester is publish.Attester: SBOMs from the engine, provenance, and
// signatures with Key (nil: unsigned).
type Attester struct {
	Key     *signature.Key
	Syft    string // the syft image (--syft-image); empty: sbom.DefaultImage
	GoProxy string // where syft is compiled from (--syft-image source; --go-proxy)
	Engine  string // the Dagger engine's version, for the provenance (session.Version)
}

var _ publish.Attester = Attester{}

// Variant makes a variant's SBOM, provenance and signature.
func (a Attester) Variant(ctx context.Context, c *dagger.Client, t publish.Target, comp component.Spec, v builder.Variant, s publish.Subject) ([]publish.Referrer, error) {
	doc, err := sbom.Scan(ctx, c, v.Container, sbom.Document{Name: s.Repo.String() + "@" + s.Descriptor.Digest.String(),
		Digest: s.Descriptor.Digest.String(), Created: t.Created, Image: a.Syft, GoProxy: a.GoProxy})
	if err != nil {
		return nil, fmt.Errorf("SBOM: %w", err)
	}
	prov, err := a.provenance(t, comp, s)
	if err != nil {
		return nil, err
	}
	refs := []publish.Referrer{
		{ArtifactType: sbom.MediaType, Data: doc, Annotations: a.annotations(t)},
		prov,
	}
	return a.sign(t, s, refs)
}

// Index makes an index's provenance and signature.
func (a Attester) Index(ctx context.Context, t publish.Target, comp component.Spec, s publish.Subject) ([]publish.Referrer, error) {
	prov, err := a.provenance(t, comp, s)
	if err != nil {
		return nil, err
	}
	return a.sign(t, s, []publish.Referrer{prov})
}

func (a Attester) provenance(t publish.Target, comp component.Spec, s publish.Subject) (publish.Referrer, error) {
	ann := t.AnnotationsOf(comp)
	base := ann[publish.AnnotationBaseName]
	if d := ann[publish.AnnotationBaseDigest]; base != "" && d != "" {
		base += "@" + d
	} else {
		base = ""
	}
	st, err := provenance.Statement(provenance.Build{
		Subject: s.Repo.String(), Digest: s.Descriptor.Digest.String(), Component: comp.Name, Platforms: s.Platforms,
		Version: ann[publish.AnnotationVersion], Source: ann[component.AnnotationPrefix+"source"], Revision: t.Revision,
		Created: t.Created, Args: s.Args, Base: base, Engine: a.Engine,
	})
	if err != nil {
		return publish.Referrer{}, fmt.Errorf("provenance: %w", err)
	}
	return publish.Referrer{ArtifactType: provenance.MediaType, Data: st, Annotations: a.annotations(t)}, nil
}

// annotations of a referrer: its time is the source's, so that it has the
// same digest each run.
func (a Attester) annotations(t publish.Target) map[string]string {
	if t.Created == "" {
		return nil
	}
	return map[string]string{publish.AnnotationCreated: t.Created}
}

// sign adds the subject's signature to refs, when there is a key.
func (a Attester) sign(t publish.Target, s publish.Subject, refs []publish.Referrer) ([]publish.Referrer, error) {
	if a.Key == nil {
		return refs, nil
	}
	b, err := a.Key.Sign(s.Descriptor.Digest.String())
	if err != nil {
		return nil, err
	}
	ann := maps.Clone(signature.Annotations)
	maps.Copy(ann, a.annotations(t))
	return append(refs, publish.Referrer{ArtifactType: signature.MediaType, Data: b, Annotations: ann}), nil
}
