package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
)

// thirdParty pushes two upstream images (redis lacks arm64) and writes their list.
func thirdParty(t *testing.T) (list string) {
	up := mirrortest.New(t)
	up.Push(t, "library/postgres:15-alpine", mirrortest.Same("linux/amd64", "linux/arm64"))
	up.Push(t, "library/redis:7-alpine", mirrortest.Same("linux/amd64"))
	list = filepath.Join(t.TempDir(), "third-party.yaml")
	require.NoError(t, os.WriteFile(list, []byte("images:\n"+
		"  - name: postgres\n    source: "+up.Host+"/library/postgres:15-alpine\n    target: postgres\n"+
		"  - name: redis\n    source: "+up.Host+"/library/redis:7-alpine\n    target: redis\n    platforms: [linux/amd64]\n"), 0o644))
	return list
}

func TestMirrorCommand(t *testing.T) {
	t.Setenv("MATRIX_TEST_PASSWORD", "hunter2")
	t.Setenv("MATRIX_REGISTRY", "") // the world's env sets it; the "no registry" case needs it unset
	list := thirdParty(t)
	dst := mirrortest.New(t)
	gone := mirrortest.New(t)
	gone.Close()
	noArm := strings.Replace(readFile(t, list), "    platforms: [linux/amd64]\n", "", 1)
	noArmList := filepath.Join(t.TempDir(), "third-party.yaml")
	require.NoError(t, os.WriteFile(noArmList, []byte(noArm), 0o644))
	badList := filepath.Join(t.TempDir(), "third-party.yaml")
	require.NoError(t, os.WriteFile(badList, []byte("images:\n  - name: redis\n    sourc: redis:7\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"mirrored", []string{"--list", list, "--registry", dst.Host + "/proj", "--tags", "v1"}, 0,
			[]string{"3/3 cells verified", "redis      linux/arm64  not requested by spec", "published " + dst.Host + "/proj/postgres@sha256:", "tags 15-alpine,v1 from "}},
		{"a platform missing upstream", []string{"--list", noArmList, "--registry", dst.Host + "/other"}, 1,
			[]string{"redis      linux/arm64  failed", "redis linux/arm64 failed at platform", "no final tag was changed"}},
		{"bad list", []string{"--list", badList, "--registry", dst.Host}, 2, []string{"images[0] (redis): field sourc: line 3: unknown key"}},
		{"no registry", []string{"--list", list}, 2, []string{"registry is empty"}},
		{"bad platform", []string{"--list", list, "--registry", dst.Host, "--platforms", "linux/amd65"}, 2, []string{"unknown architecture"}},
		{"unreachable", []string{"--list", list, "--registry", gone.Host, "--username", "u", "--password-env", "MATRIX_TEST_PASSWORD"}, 3,
			[]string{"does not answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errw := runCLI(append([]string{"mirror"}, tc.args...)...)
			assert.Equal(t, tc.code, code, out+errw)
			for _, w := range tc.want {
				assert.Contains(t, out+errw, w)
			}
			assert.NotContains(t, out+errw, "hunter2")
		})
	}
	assert.NotContains(t, dst.Catalog(t), "other/postgres", "a failed mirror pushed nothing")
}

func TestImportCommand(t *testing.T) {
	list := thirdParty(t)
	l, err := mirror.Load(list)
	require.NoError(t, err)
	dir := t.TempDir()
	entries, err := bundle.WriteThirdParty(context.Background(), l, []string{"linux/amd64", "linux/arm64"}, dir)
	require.NoError(t, err)
	require.NoError(t, bundle.Write(dir, entries))
	dst := mirrortest.New(t)
	gone := mirrortest.New(t)
	gone.Close()
	refusing := mirrortest.New(t)
	refusing.Refuse("ai-infra/postgres")

	code, out, errw := runCLI("import", "--registry", dst.Host+"/ai-infra", "--tags=v2", dir)
	require.Equal(t, 0, code, out+errw)
	assert.Contains(t, out, "wrote    "+dst.Host+"/ai-infra/postgres:15-alpine")
	assert.Contains(t, out, "2 archive(s) imported")
	code, out, errw = runCLI("--registry", dst.Host+"/ai-infra", "import", "--tags", "v2", "--bundle", dir)
	require.Equal(t, 0, code, out+errw)
	assert.Contains(t, out, "0 reference(s) written, 6 already there")

	spoiled := t.TempDir()
	for _, f := range []string{bundle.SumsFile, bundle.ManifestFile, entries[0].File, entries[1].File} {
		b := []byte(readFile(t, filepath.Join(dir, f)))
		if f == entries[1].File {
			b[len(b)/3] ^= 0x40
		}
		require.NoError(t, os.WriteFile(filepath.Join(spoiled, f), b, 0o644))
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"corrupt archive", []string{"--registry", dst.Host + "/x", spoiled}, 2, entries[1].File + ": is corrupt"},
		{"not a bundle", []string{"--registry", dst.Host + "/x", "--bundle", t.TempDir()}, 2, "SHA256SUMS: cannot be read"},
		{"no directory", []string{"--registry", dst.Host}, 2, "import needs the bundle directory: matrix import --bundle DIR"},
		{"two directories", []string{"--registry", dst.Host, dir, dir}, 2, "import takes one directory"},
		{"DIR and --bundle", []string{"--registry", dst.Host, "--bundle", dir, dir}, 2, "give the bundle directory once"},
		{"a flag after DIR", []string{dir, "--registry", dst.Host}, 2, "import: --registry after DIR: give the flags before it"},
		{"unknown flag", []string{"--nope", "1", dir}, 2, "flag provided but not defined: -nope"},
		{"unreachable", []string{"--registry", gone.Host, dir}, 3, "does not answer"},
		{"a push fails", []string{"--registry", refusing.Host + "/ai-infra", dir}, 1, "no final tag was changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errw := runCLI(append([]string{"import"}, tc.args...)...)
			assert.Equal(t, tc.code, code, out+errw)
			assert.Contains(t, errw, tc.want)
		})
	}
	assert.NotContains(t, dst.Catalog(t), "x/postgres", "a refused bundle pushed nothing")
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
