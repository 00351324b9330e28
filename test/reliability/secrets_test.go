//go:build engine

package reliability

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// authAddr is a registry with htpasswd auth that this test starts (Debian's
// docker-registry); the engine treats it as plain HTTP.
const authAddr = "127.0.0.1:5002"

func startAuthRegistry(t *testing.T, user, password string) {
	t.Helper()
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600))
	cfg := fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s/data}\nhttp:\n  addr: %s\nauth:\n  htpasswd: {realm: matrix, path: %s/htpasswd}\n", dir, authAddr, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600))
	cmd := exec.Command("docker-registry", "serve", filepath.Join(dir, "config.yml"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", authAddr); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("auth registry did not start: %s", logs.String())
}

// TestSecretsNeverLeak publishes with a registry password and builds with a
// BuildKit secret, then searches everything matrix produced for both values.
func TestSecretsNeverLeak(t *testing.T) {
	enginetest.Connect(t) // the engine must be there (fails under CI)
	enginetest.Registry(t)
	const (
		user      = "matrix"
		password  = "reg-pw-7f3a9c1e5b"
		buildTokn = "build-token-4d8e2b6a0c"
	)
	startAuthRegistry(t, user, password)
	bin := matrixBin(t)
	dir := enginetest.Components(t, map[string]map[string]string{
		"vault": {
			"Dockerfile":     "FROM debian:bookworm-slim\nRUN --mount=type=secret,id=token test -s /run/secrets/token && sha256sum /run/secrets/token | cut -c1-12 > /token.fp\n",
			"component.yaml": "image: fixture-vault\nsecrets: [token]\nsmoke: [cat, /token.fp]\n",
		},
	})
	work := t.TempDir()
	priv, _ := enginetest.SigningKey(t)
	key := string(priv)
	keyBody := strings.Join(strings.Split(strings.TrimSpace(key), "\n")[1:3], "") // the key's own base64, not its PEM header
	env := []string{"REG_PW=" + password, "BUILD_TOKEN=" + buildTokn, "SIGN_KEY=" + key}
	repo := authAddr + "/" + enginetest.Unique("secrets")
	reportFile, page := filepath.Join(work, "report.json"), filepath.Join(work, "report.html")
	code, out, errw := cliRun(t, bin, env, "publish", "--components-dir", dir, "--registry", repo, "--tag", "v1",
		"--username", user, "--password-env", "REG_PW", "--secret", "token=env:BUILD_TOKEN", "--sign-key", "env:SIGN_KEY", "--report", reportFile,
		"--html", page)
	require.Equal(t, 0, code, out+errw)
	dist := filepath.Join(work, "dist")
	code, out2, errw2 := cliRun(t, bin, env, "export", "--components-dir", dir, "--secret", "token=env:BUILD_TOKEN", "--out", dist)
	require.Equal(t, 0, code, out2+errw2)

	// Everything matrix produced, as named byte slices.
	produced := map[string][]byte{"publish stdout": []byte(out), "publish stderr": []byte(errw), "export stdout": []byte(out2), "export stderr": []byte(errw2)}
	rep, err := os.ReadFile(reportFile)
	require.NoError(t, err)
	produced["report.json"] = rep
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	produced["report.html"] = html
	archives, _ := filepath.Glob(filepath.Join(dist, "*.tar"))
	require.NotEmpty(t, archives)
	for _, a := range archives {
		for k, v := range archiveContents(t, a) {
			produced[k] = v
		}
	}
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	ref, err := name.ParseReference(repo + "/fixture-vault:v1")
	require.NoError(t, err)
	idx, err := remote.Index(ref, auth)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	idxDigest, err := idx.Digest()
	require.NoError(t, err)
	referrers := referrerContents(t, ref.Context(), idxDigest, "index", auth)
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		require.NoError(t, err)
		for k, v := range imageContents(t, img, "registry "+d.Platform.Architecture) {
			produced[k] = v
		}
		for k, v := range referrerContents(t, ref.Context(), d.Digest, d.Platform.Architecture, auth) {
			referrers[k] = v
		}
	}
	// The SBOMs, the provenance and the signatures: 3 per variant, 2 for the index.
	require.Len(t, referrers, 3*len(m.Manifests)+2, "%v", keys(referrers))
	for k, v := range referrers {
		produced[k] = v
	}
	searched := 0
	for what, data := range produced {
		searched += len(data)
		for _, secret := range []string{password, buildTokn, keyBody} {
			assert.False(t, bytes.Contains(data, []byte(secret)), "%s contains a secret value", what)
		}
	}
	// The build did see the secret: its fingerprint is in the image.
	assert.Contains(t, string(rep), `"status": "verified"`)
	t.Logf("figures: places_searched=%d bytes_searched=%d secrets=3 found=0", len(produced), searched)
}

// referrerContents is the manifest and the layer of every referrer of
// repo@digest, by artifact type.
func referrerContents(t *testing.T, repo name.Repository, digest v1.Hash, label string, opts ...remote.Option) map[string][]byte {
	t.Helper()
	idx, err := remote.Referrers(repo.Digest(digest.String()), opts...)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, d := range m.Manifests {
		raw, data := enginetest.Referrer(t, context.Background(), repo, d.Digest.String(), opts...)
		out[label+" "+d.ArtifactType] = append(raw, data...)
	}
	return out
}

func keys(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }

// imageContents is an image's config (with history) and every layer, uncompressed.
func imageContents(t *testing.T, img v1.Image, label string) map[string][]byte {
	out := map[string][]byte{}
	cfg, err := img.RawConfigFile()
	require.NoError(t, err)
	out[label+" config"] = cfg
	var cf v1.ConfigFile
	require.NoError(t, json.Unmarshal(cfg, &cf))
	for _, h := range cf.History {
		require.NotContains(t, h.CreatedBy, "build-token", "history")
	}
	layers, err := img.Layers()
	require.NoError(t, err)
	for i, l := range layers {
		rc, err := l.Uncompressed()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		out[fmt.Sprintf("%s layer %d", label, i)] = data
	}
	return out
}

// archiveContents is every file of an OCI archive, gzip layers uncompressed.
func archiveContents(t *testing.T, path string) map[string][]byte {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				data = plain
			}
		}
		out[filepath.Base(path)+":"+hdr.Name] = data
	}
	return out
}
