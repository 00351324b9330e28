//go:build engine

package system_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
)

// cli runs the matrix binary and returns its exit code and combined output.
func cli(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	code, out, errw := enginetest.Run(t, exec.Command(bin, args...))
	return code, out + errw
}

// standins is a components directory with one component and a
// third-party.yaml of the world's stand-in upstreams (ci/world/up.sh seeds
// them into the world registry: matrix-world upstream).
func standins(t *testing.T, registry string, amd64only bool) string {
	list := "images:\n  - name: standin\n    source: " + registry + "/upstream/standin:1.0\n    target: third-party/standin\n"
	if amd64only {
		list += "  - name: amd64only\n    source: " + registry + "/upstream/amd64only:1.0\n    target: third-party/amd64only\n"
	}
	dir := enginetest.Components(t, map[string]map[string]string{"tiny": {
		"Dockerfile":     "FROM debian:bookworm-slim\nRUN touch /tiny\n",
		"component.yaml": "smoke: [test, -f, /tiny]\n",
	}})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "third-party.yaml"), []byte(list), 0o644))
	return dir
}

// TestThirdPartyExportImportEngineRegistry: matrix export writes the
// component and the third-party stand-in (from the world registry, its
// upstream index unchanged) with bundle.json and SHA256SUMS; matrix import
// pushes the bundle into a second registry on loopback, where every index
// has the digest bundle.json gives, the stand-in's that of upstream. A second
// import writes nothing; dagger call import does the same into a third; a
// flipped byte is refused by file name with nothing pushed.
func TestThirdPartyExportImportEngineRegistry(t *testing.T) {
	enginetest.Connect(t)
	upstream := enginetest.Registry(t)
	bin := buildCLI(t)
	dist := filepath.Join(t.TempDir(), "dist")
	code, out := cli(t, bin, "export", "--components-dir", standins(t, upstream, false), "--platforms", "linux/amd64,linux/arm64",
		"--version", "1.0", "--out", dist)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "third-party "+upstream+"/upstream/standin")

	raw, err := os.ReadFile(filepath.Join(dist, bundle.ManifestFile))
	require.NoError(t, err)
	var m bundle.Manifest
	require.NoError(t, json.Unmarshal(raw, &m))
	t.Logf("bundle.json:\n%s", raw)
	kinds := map[string]bundle.Entry{}
	for _, e := range m.Archives {
		kinds[e.Kind] = e
	}
	require.Len(t, m.Archives, 2)
	tp := kinds[bundle.KindThirdParty]
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, tp.Platforms)
	up, err := remote.Head(mustRef(t, upstream+"/upstream/standin:1.0"))
	require.NoError(t, err)
	assert.Equal(t, up.Digest.String(), tp.Digest, "the stand-in's archive holds the upstream index unchanged")
	sha256sumCheck(t, dist)

	airgap := mirrortest.New(t) // the air-gapped side's registry
	code, out = cli(t, bin, "import", "--registry", airgap.Host, dist)
	require.Equal(t, 0, code, out)
	t.Logf("import:\n%s", out)
	for _, e := range m.Archives {
		for _, tag := range e.Tags {
			d, err := remote.Head(mustRef(t, airgap.Host+"/"+e.Repository+":"+tag))
			require.NoError(t, err, "%s:%s", e.Repository, tag)
			assert.Equal(t, e.Digest, d.Digest.String(), "%s:%s is the index the bundle holds", e.Repository, tag)
		}
	}
	airgap.Writes()
	code, out = cli(t, bin, "import", "--registry", airgap.Host, dist)
	require.Equal(t, 0, code, out)
	assert.Zero(t, airgap.Writes(), "a second import writes nothing: %s", out)

	// The same through the module, into a third registry on loopback,
	// reached through --registry-service.
	viaModule := mirrortest.New(t)
	out, code = dagger(t, enginetest.Context(t), "call", "--registry", viaModule.Host, "--registry-service", "tcp://"+viaModule.Host, "import", "--bundle", dist)
	require.Equal(t, 0, code, out)
	for _, e := range m.Archives {
		d, err := remote.Head(mustRef(t, viaModule.Host+"/"+e.Repository+":"+e.Tags[0]))
		require.NoError(t, err, "dagger call import: %s", e.Repository)
		assert.Equal(t, e.Digest, d.Digest.String())
	}

	// dagger call export writes the same stand-in archive, reading the
	// upstream on the caller's loopback through --upstream-service.
	viaDist := filepath.Join(t.TempDir(), "dist")
	out, code = dagger(t, enginetest.Context(t), "call", "--components-dir", standins(t, upstream, false), "export",
		"--platforms", "linux/amd64,linux/arm64", "--version", "1.0", "--upstream-service", "tcp://"+upstream, "export", "--path", viaDist)
	require.Equal(t, 0, code, out)
	raw, err = os.ReadFile(filepath.Join(viaDist, bundle.ManifestFile))
	require.NoError(t, err, "dagger call export writes bundle.json")
	var vm bundle.Manifest
	require.NoError(t, json.Unmarshal(raw, &vm))
	require.Len(t, vm.Archives, 2, "dagger call export holds the component and the stand-in")
	assert.Contains(t, vm.Archives, tp, "the same stand-in entry as matrix export's")
	sha256sumCheck(t, viaDist)

	// One flipped byte in the middle of the stand-in's archive.
	path := filepath.Join(dist, tp.File)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o644))
	fresh := mirrortest.New(t)
	code, out = cli(t, bin, "import", "--registry", fresh.Host, dist)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, tp.File, "the refusal names the file")
	assert.Empty(t, fresh.Catalog(t), "nothing is pushed")
}

// TestThirdPartyMirrorEngineRegistry: matrix mirror copies the stand-in from
// the world registry with both platforms; an upstream that lacks linux/arm64
// fails that cell, and no final tag moves at all.
func TestThirdPartyMirrorEngineRegistry(t *testing.T) {
	upstream := enginetest.Registry(t)
	bin := buildCLI(t)
	list := filepath.Join(standins(t, upstream, false), "third-party.yaml")
	target := mirrortest.New(t)
	code, out := cli(t, bin, "mirror", "--list", list, "--registry", target.Host)
	require.Equal(t, 0, code, out)
	up, err := remote.Head(mustRef(t, upstream+"/upstream/standin:1.0"))
	require.NoError(t, err)
	got, err := remote.Head(mustRef(t, target.Host+"/third-party/standin:1.0"))
	require.NoError(t, err)
	assert.Equal(t, up.Digest, got.Digest, "the mirror keeps the upstream index")

	// dagger call mirror, reading the list beside the components and
	// reaching both loopback registries through services.
	viaModule := mirrortest.New(t)
	out, code = dagger(t, enginetest.Context(t), "call", "--components-dir", filepath.Dir(list), "--registry", viaModule.Host, "--registry-service", "tcp://"+viaModule.Host, "mirror", "--upstream-service", "tcp://"+upstream)
	require.Equal(t, 0, code, out)
	got, err = remote.Head(mustRef(t, viaModule.Host+"/third-party/standin:1.0"))
	require.NoError(t, err, "dagger call mirror: %s", out)
	assert.Equal(t, up.Digest, got.Digest, "dagger call mirror keeps the upstream index")

	list = filepath.Join(standins(t, upstream, true), "third-party.yaml")
	for _, via := range []string{"cli", "dagger call"} {
		target = mirrortest.New(t)
		if via == "cli" {
			code, out = cli(t, bin, "mirror", "--list", list, "--registry", target.Host)
		} else {
			out, code = dagger(t, enginetest.Context(t), "call", "--components-dir", filepath.Dir(list), "--registry", target.Host, "--registry-service", "tcp://"+target.Host, "mirror", "--upstream-service", "tcp://"+upstream)
		}
		assert.Equal(t, 1, code, "%s: %s", via, out)
		assert.Regexp(t, `amd64only\s+linux/arm64\s+failed`, out, via)
		for _, ref := range []string{"third-party/standin:1.0", "third-party/amd64only:1.0"} {
			_, err := remote.Head(mustRef(t, target.Host+"/"+ref))
			assert.Error(t, err, "%s %s: no final tag moves when a cell failed", via, ref)
		}
	}

	// No third-party.yaml beside the components: bad input, named.
	out, code = dagger(t, enginetest.Context(t), "call", "--components-dir", enginetest.Fixtures(t, false), "--registry", target.Host, "--registry-service", "tcp://"+target.Host, "mirror")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--components-dir: no third-party.yaml")
}

// sha256sumCheck runs `sha256sum -c SHA256SUMS` in dir, as the air-gapped
// side does, and returns its output.
func sha256sumCheck(t *testing.T, dir string) string {
	t.Helper()
	sums := exec.Command("sha256sum", "-c", bundle.SumsFile)
	sums.Dir = dir
	out, err := sums.CombinedOutput()
	require.NoError(t, err, "sha256sum -c in %s: %s", dir, out)
	return string(out)
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	return r
}
