//go:build engine

package system_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasremote "oras.land/oras-go/v2/registry/remote"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/provenance"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
	"github.com/ai-infra-matrix/matrix/pkg/signature"
)

// TestAttestEngineRegistry publishes nginx and prometheus for linux/amd64
// and linux/arm64 in the engine, signed, to the world's registry (Debian's
// registry 2.8: no referrers API, the fallback tag), and reads every
// manifest and index back: annotations and labels; the SBOM, provenance
// and signature as referrers, listed by go-containerregistry and by
// oras-go alike; the signature verified by `cosign verify --key`; the SBOM
// listing the smoke command's Debian package for the variant's
// architecture; the index with its two platforms only. A second publish of
// the same tree writes the same referrers.
func TestAttestEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository (and engine); see ci/test.sh
	c := enginetest.Connect(t)
	registry := enginetest.Registry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cosign, err := exec.LookPath("cosign")
	if os.Getenv("CI") == "true" {
		require.NoError(t, err, "cosign is missing: ci/world/up.sh --test-tools installs it")
	} else if err != nil {
		t.Skip("cosign not installed (ci/world/up.sh --test-tools)")
	}
	keyPEM, pubPEM := enginetest.SigningKey(t)
	dir := filepath.Join(enginetest.Root(), "components")
	repo := registry + "/matrix-test-" + enginetest.Unique("attest")
	revision := strings.Repeat("5e", 20)
	opts := matrix.Options{
		Run: matrix.RunOptions{Version: "v0.0.0-attest", StageRegistry: registry, Components: []string{"nginx", "prometheus"},
			Revision: revision, SourceDateEpoch: "1764583200"},
		Push:   matrix.PushOptions{Mode: matrix.PushTagged, Registry: repo, Tags: []string{"attest"}},
		Attest: matrix.AttestOptions{SignKey: string(keyPEM)},
	}
	publishAll := func() (time.Duration, map[string][]string) {
		t0 := time.Now()
		res, err := enginetest.Local(t, opts, dir).Publish(ctx, c, c.Host().Directory(dir))
		require.NoError(t, err)
		require.True(t, res.Report.OK(), res.Report.Summary())
		took := time.Since(t0)
		out := map[string][]string{}
		for _, ix := range res.Report.Indexes {
			out[ix.Component] = referrersOfAll(t, ctx, ix.Ref, ix.Digest)
		}
		return took, out
	}
	// The figures: a publish without attestations first (it builds what
	// is not built yet), then with them (SBOM scans, referrers), then
	// without again, both with the variants built.
	plain := func(what string) {
		noAttest := opts
		noAttest.Attest, noAttest.Push.Registry = matrix.AttestOptions{NoAttest: true}, repo+"-"+what
		t0 := time.Now()
		res, err := enginetest.Local(t, noAttest, dir).Publish(ctx, c, c.Host().Directory(dir))
		require.NoError(t, err)
		t.Logf("figures: publish_without_attestations_%s_seconds=%.1f", what, time.Since(t0).Seconds())
		for _, ix := range res.Report.Indexes {
			assert.Empty(t, referrersOfAll(t, ctx, ix.Ref, ix.Digest), "--no-attest: %s has no referrers", ix.Component)
		}
	}
	plain("build")
	took, first := publishAll()
	t.Logf("figures: publish_with_attestations_seconds=%.1f", took.Seconds())
	plain("built")

	smoke := map[string]string{"nginx": "nginx", "prometheus": "prometheus"}
	for _, comp := range []string{"nginx", "prometheus"} {
		ref := repo + "/ai-infra-" + comp
		r, err := name.NewRepository(ref, name.Insecure)
		require.NoError(t, err)
		idx, err := remote.Index(r.Tag("attest"), remote.WithContext(ctx))
		require.NoError(t, err)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		require.Len(t, m.Manifests, 2, "%s: exactly its platforms, no attestation entries", comp)
		for _, d := range m.Manifests {
			assert.NotEqual(t, "unknown", d.Platform.OS, "%s: an unknown/unknown entry", comp)
		}
		want := map[string]string{
			component.AnnotationPrefix + "title":  comp,
			component.AnnotationPrefix + "source": "https://github.com/ai-infra-matrix/matrix",
			publish.AnnotationRevision:            revision,
			publish.AnnotationVersion:             "v0.0.0-attest",
			publish.AnnotationCreated:             "2025-12-01T10:00:00Z",
			publish.AnnotationBaseName:            "docker.io/library/debian:bookworm-slim",
		}
		for k, v := range want {
			assert.Equal(t, v, m.Annotations[k], "%s index annotation %s", comp, k)
		}
		assert.NotEmpty(t, m.Annotations[component.AnnotationPrefix+"licenses"], "%s: licenses", comp)
		idxDigest, err := idx.Digest()
		require.NoError(t, err)
		checkReferrers(t, ctx, cosign, pubPEM, r, idxDigest, []string{provenance.MediaType, signature.MediaType})

		for _, d := range m.Manifests {
			img, err := idx.Image(d.Digest)
			require.NoError(t, err)
			mf, err := img.Manifest()
			require.NoError(t, err)
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			for k, v := range want {
				assert.Equal(t, v, mf.Annotations[k], "%s %s manifest annotation %s", comp, d.Platform, k)
				assert.Equal(t, v, cf.Config.Labels[k], "%s %s label %s", comp, d.Platform, k)
			}
			assert.True(t, strings.HasPrefix(mf.Annotations[publish.AnnotationBaseDigest], "sha256:"), "%s %s: base.digest", comp, d.Platform)
			refs := checkReferrers(t, ctx, cosign, pubPEM, r, d.Digest, []string{sbom.MediaType, provenance.MediaType, signature.MediaType})

			doc := layerOf(t, ctx, r, refs[sbom.MediaType])
			again := layerOf(t, ctx, r, refs[sbom.MediaType])
			assert.Equal(t, doc, again)
			purls, err := sbom.Packages(doc)
			require.NoError(t, err)
			arch := d.Platform.Architecture
			assert.True(t, slices.ContainsFunc(purls, func(p string) bool {
				return strings.HasPrefix(p, "pkg:deb/debian/"+smoke[comp]+"@") && strings.Contains(p, "arch="+arch)
			}), "%s %s: the SBOM lists the %s Debian package for %s", comp, d.Platform, smoke[comp], arch)
			assert.False(t, slices.ContainsFunc(purls, func(p string) bool {
				other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[arch]
				return strings.HasPrefix(p, "pkg:deb/") && strings.Contains(p, "arch="+other)
			}), "%s %s: no package of the other architecture", comp, d.Platform)
			t.Logf("figures: sbom %s %s packages=%d", comp, d.Platform, len(purls))
			var spdx struct {
				SPDXVersion  string `json:"spdxVersion"`
				Namespace    string `json:"documentNamespace"`
				CreationInfo struct{ Created string }
			}
			require.NoError(t, json.Unmarshal(doc, &spdx))
			assert.Equal(t, "SPDX-2.3", spdx.SPDXVersion)
			assert.Equal(t, sbom.Namespace(d.Digest.String()), spdx.Namespace, "the namespace comes from the digest")
			assert.Equal(t, "2025-12-01T10:00:00Z", spdx.CreationInfo.Created, "the source's time, not the wall clock")

			var st struct {
				PredicateType string
				Subject       []struct{ Digest map[string]string }
				Predicate     struct {
					BuildDefinition struct{ ExternalParameters struct{ Platforms []string } }
				}
			}
			require.NoError(t, json.Unmarshal(layerOf(t, ctx, r, refs[provenance.MediaType]), &st))
			assert.Equal(t, provenance.PredicateType, st.PredicateType)
			assert.Equal(t, d.Digest.Hex, st.Subject[0].Digest["sha256"])
			assert.Equal(t, []string{d.Platform.String()}, st.Predicate.BuildDefinition.ExternalParameters.Platforms)
		}
	}

	took, second := publishAll()
	t.Logf("figures: publish_again_seconds=%.1f", took.Seconds())
	assert.Equal(t, first, second, "two runs of the same tree give the same referrer digests, and no more of them")
}

// checkReferrers lists the referrers of repo@digest with go-containerregistry
// and with oras-go, requires the same set from both holding exactly the
// artifact types want, verifies the signature with the public key and with
// `cosign verify --key`, and returns the referrers by artifact type.
func checkReferrers(t *testing.T, ctx context.Context, cosign string, pub []byte, repo name.Repository, digest v1.Hash, want []string) map[string]v1.Hash {
	t.Helper()
	at := repo.Digest(digest.String())
	byType, ggcr := referrersByType(t, ctx, repo, digest)
	assert.ElementsMatch(t, want, slices.Collect(maps.Keys(byType)), "%s: the referrers' artifact types", at)

	o, err := orasremote.NewRepository(repo.String())
	require.NoError(t, err)
	o.PlainHTTP = true
	desc, err := o.Resolve(ctx, digest.String())
	require.NoError(t, err)
	var oras []string
	require.NoError(t, o.Referrers(ctx, desc, "", func(refs []ocispec.Descriptor) error {
		for _, r := range refs {
			oras = append(oras, r.Digest.String())
		}
		return nil
	}))
	sort.Strings(ggcr)
	sort.Strings(oras)
	assert.Equal(t, ggcr, oras, "%s: oras-go lists the referrers go-containerregistry lists", at)

	bundle := layerOf(t, ctx, repo, byType[signature.MediaType])
	assert.NoError(t, signature.Verify(bundle, pub, digest.String()), "%s: the signature verifies against the public key", at)
	keyFile := filepath.Join(t.TempDir(), "cosign.pub")
	require.NoError(t, os.WriteFile(keyFile, pub, 0o644))
	root := filepath.Join(t.TempDir(), "trusted_root.json")
	// An empty trust root: a key pair, no certificate authority, no log.
	require.NoError(t, os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644))
	cmd := exec.CommandContext(ctx, cosign, "verify", "--key", keyFile, "--insecure-ignore-tlog", "--new-bundle-format",
		"--trusted-root", root, "--allow-http-registry", "--allow-insecure-registry", at.String())
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TUF_ROOT="+t.TempDir())
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "cosign verify %s: %s", at, out)
	return byType
}

// referrersByType lists the referrers of repo@digest with
// go-containerregistry: by artifact type, and their digests.
func referrersByType(t *testing.T, ctx context.Context, repo name.Repository, digest v1.Hash) (map[string]v1.Hash, []string) {
	t.Helper()
	idx, err := remote.Referrers(repo.Digest(digest.String()), remote.WithContext(ctx))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	byType := map[string]v1.Hash{}
	var all []string
	for _, d := range m.Manifests {
		byType[d.ArtifactType] = d.Digest
		all = append(all, d.Digest.String())
	}
	return byType, all
}

// referrersOfAll is the sorted digests of the referrers of an index and of its manifests.
func referrersOfAll(t *testing.T, ctx context.Context, ref, digest string) []string {
	t.Helper()
	r, err := name.NewRepository(ref, name.Insecure)
	require.NoError(t, err)
	idx, err := remote.Index(r.Digest(digest), remote.WithContext(ctx))
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	subjects := []string{digest}
	for _, d := range m.Manifests {
		subjects = append(subjects, d.Digest.String())
	}
	var out []string
	for _, s := range subjects {
		refs, err := remote.Referrers(r.Digest(s), remote.WithContext(ctx))
		require.NoError(t, err)
		rm, err := refs.IndexManifest()
		require.NoError(t, err)
		for _, d := range rm.Manifests {
			out = append(out, s+" "+d.ArtifactType+" "+d.Digest.String())
		}
	}
	sort.Strings(out)
	return out
}

// layerOf is the one layer of the referrer repo@digest.
func layerOf(t *testing.T, ctx context.Context, repo name.Repository, digest v1.Hash) []byte {
	t.Helper()
	_, layer := enginetest.Referrer(t, ctx, repo, digest.String())
	return layer
}
