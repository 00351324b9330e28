package signature

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
)

// The Sigstore bundle, as a referrer, and what `cosign verify` looks for in
// it: a DSSE envelope of an in-toto statement of cosign's sign predicate,
// whose subject is the signed manifest's digest.
const (
	MediaType     = "application/vnd.dev.sigstore.bundle.v0.3+json"
	PayloadType   = "application/vnd.in-toto+json"
	PredicateType = "https://sigstore.dev/cosign/sign/v1"
	statementType = "https://in-toto.io/Statement/v1"
)

// Annotations are what cosign writes on a bundle referrer, so that tools
// that filter on them find matrix's signatures too.
var Annotations = map[string]string{
	"dev.sigstore.bundle.content":       "dsse-envelope",
	"dev.sigstore.bundle.predicateType": PredicateType,
}

type bundle struct {
	MediaType            string       `json:"mediaType"`
	VerificationMaterial verification `json:"verificationMaterial"`
	DSSEEnvelope         envelope     `json:"dsseEnvelope"`
}

type verification struct {
	PublicKey struct {
		Hint string `json:"hint"`
	} `json:"publicKey"`
}

type envelope struct {
	Payload     string      `json:"payload"`
	PayloadType string      `json:"payloadType"`
	Signatures  []signature `json:"signatures"`
}

type signature struct {
	Sig string `json:"sig"`
}

type statement struct {
	Type          string    `json:"_type"`
	Subject       []subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
}

type subject struct {
	Digest map[string]string `json:"digest"`
}

// pae is DSSE's pre-authentication encoding of a payload: what is signed.
func pae(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " ")
	b.Write(payload)
	return b.Bytes()
}

// Sign is a Sigstore bundle signing digest (sha256:<hex>, a manifest or an
// index) with k: no certificate, no transparency log entry, no timestamp.
// The same digest and key give the same bytes.
func (k *Key) Sign(digest string) ([]byte, error) {
	algo, hex, ok := bytes.Cut([]byte(digest), []byte(":"))
	if !ok || string(algo) != "sha256" || len(hex) != 64 {
		return nil, fmt.Errorf("signing %q: not a sha256 digest", digest)
	}
	payload, err := json.Marshal(statement{Type: statementType, PredicateType: PredicateType,
		Subject: []subject{{Digest: map[string]string{"sha256": string(hex)}}}})
	if err != nil {
		return nil, err
	}
	sig, err := k.sign(pae(PayloadType, payload))
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", digest, err)
	}
	hint, err := keyHint(&k.priv.PublicKey)
	if err != nil {
		return nil, err
	}
	b := bundle{MediaType: MediaType, DSSEEnvelope: envelope{
		Payload: base64.StdEncoding.EncodeToString(payload), PayloadType: PayloadType,
		Signatures: []signature{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	}}
	b.VerificationMaterial.PublicKey.Hint = hint
	return json.Marshal(b)
}

// keyHint names the public key in the bundle: the base64 SHA-256 of its DER.
func keyHint(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(h[:]), nil
}

// Verify checks a bundle against a PEM public key: the signature over the
// envelope, the statement's predicate type, and that its subject is digest.
// It is the check `cosign verify --key` makes, for where cosign is not.
func Verify(bundleJSON, publicPEM []byte, digest string) error {
	var b bundle
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		return fmt.Errorf("not a Sigstore bundle: %w", err)
	}
	if b.MediaType != MediaType || b.DSSEEnvelope.PayloadType != PayloadType || len(b.DSSEEnvelope.Signatures) == 0 {
		return errors.New("not a DSSE Sigstore bundle of an in-toto statement")
	}
	pub, err := parsePublic(publicPEM)
	if err != nil {
		return err
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	h := sha256.Sum256(pae(b.DSSEEnvelope.PayloadType, payload))
	ok := false
	for _, s := range b.DSSEEnvelope.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err == nil && ecdsa.VerifyASN1(pub, h[:], sig) {
			ok = true
		}
	}
	if !ok {
		return errors.New("no signature verifies against the public key")
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	if st.Type != statementType || st.PredicateType != PredicateType {
		return fmt.Errorf("statement %s of predicate %s is not a signature", st.Type, st.PredicateType)
	}
	for _, s := range st.Subject {
		if "sha256:"+s.Digest["sha256"] == digest {
			return nil
		}
	}
	return fmt.Errorf("the signature is not about %s", digest)
}

func parsePublic(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("the public key is not ECDSA")
	}
	return pub, nil
}
