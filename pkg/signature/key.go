// Package signature signs what matrix publishes, offline, with a key pair
// and no transparency log, in the Sigstore bundle format that `cosign
// verify --key` reads; and verifies such a signature against the public key.
package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key is an ECDSA P-256 private key (what `cosign generate-key-pair` and
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` make).
type Key struct{ priv *ecdsa.PrivateKey }

// ParseKey reads an unencrypted PEM private key: PKCS #8 or SEC 1, P-256.
func ParseKey(data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	var k any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("the key is encrypted (%s); give it unencrypted: openssl pkcs8 -topk8 -nocrypt, or make one with openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256", block.Type)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("the key is not ECDSA P-256")
	}
	return &Key{priv: ek}, nil
}

// Public is the public key as PEM (what `cosign verify --key` takes).
func (k *Key) Public() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// sign is the ASN.1 ECDSA signature of data's SHA-256, deterministic (RFC
// 6979): the same payload gives the same signature, and the same referrer.
func (k *Key) sign(data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return k.priv.Sign(nil, h[:], crypto.SHA256)
}
