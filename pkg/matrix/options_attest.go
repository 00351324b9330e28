package matrix

import (
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ai-infra-matrix/matrix/pkg/attest"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
	"github.com/ai-infra-matrix/matrix/pkg/session"
	"github.com/ai-infra-matrix/matrix/pkg/signature"
)

// AttestOptions are what a push writes about what it pushes: the SBOM, the
// provenance and the signature referrers.
type AttestOptions struct {
	NoAttest  bool   // --no-attest: no SBOM, provenance or signature referrers
	SignKey   string // --sign-key, a PEM private key (ECDSA P-256, unencrypted); empty: unsigned
	signKey   *signature.Key
	SyftImage string // --syft-image, the image syft runs from; empty: sbom.DefaultImage; "source": compiled in the engine
}

// Validate checks the attestation options and parses the signing key. Its
// defaults (the syft image) are the attester's.
func (a *AttestOptions) Validate() error {
	if a.SyftImage != "" && a.SyftImage != sbom.FromSource {
		if _, err := name.ParseReference(a.SyftImage); err != nil {
			return badInput("--syft-image %q: %w; give an image reference such as %s (pin it with @sha256:...), or %q to compile syft from the Go module proxy", a.SyftImage, err, sbom.DefaultImage, sbom.FromSource)
		}
	}
	if a.SignKey == "" {
		return nil
	}
	if a.NoAttest {
		return badInput("--sign-key and --no-attest exclude each other: a signature is an attestation")
	}
	k, err := signature.ParseKey([]byte(a.SignKey))
	if err != nil {
		return badInput("--sign-key: %w", err)
	}
	a.signKey = k
	return nil
}

// attester makes the referrers of a push; nil under --no-attest. syft is
// compiled through the run's Go proxy (mirrors, by build arg).
func (a AttestOptions) attester(mirrors map[string]string) publish.Attester {
	if a.NoAttest {
		return nil
	}
	return attest.Attester{Key: a.signKey, Syft: a.SyftImage, GoProxy: mirrors["GO_PROXY"], Engine: session.Version}
}
