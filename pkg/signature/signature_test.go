package signature

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestSignVerify(t *testing.T) {
	k, err := ParseKey(newKey(t))
	require.NoError(t, err)
	pub, err := k.Public()
	require.NoError(t, err)
	d := "sha256:" + strings.Repeat("ab", 32)
	b, err := k.Sign(d)
	require.NoError(t, err)
	again, err := k.Sign(d)
	require.NoError(t, err)
	assert.Equal(t, b, again, "deterministic (RFC 6979): the same referrer each run")
	require.NoError(t, Verify(b, pub, d))

	other, err := ParseKey(newKey(t))
	require.NoError(t, err)
	otherPub, err := other.Public()
	require.NoError(t, err)
	assert.ErrorContains(t, Verify(b, otherPub, d), "no signature verifies")
	assert.ErrorContains(t, Verify(b, pub, "sha256:"+strings.Repeat("cd", 32)), "not about")
	tampered := append([]byte{}, b...)
	tampered[len(tampered)/2] ^= 1
	assert.Error(t, Verify(tampered, pub, d))
}

func TestParseKeyRejects(t *testing.T) {
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1}})
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"not PEM":   {[]byte("hello"), "not a PEM private key"},
		"encrypted": {pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: []byte{1}}), "is encrypted"},
		"rsa":       {rsaPEM, "is not a private key"},
		"public":    {pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "is not a private key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKey(tc.data)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
