package matrix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

func TestParseEngines(t *testing.T) {
	for _, tc := range []struct {
		specs []string
		want  map[string]string
		err   string
	}{
		{nil, map[string]string{}, ""},
		{[]string{"linux/arm64=tcp://arm:1234"}, map[string]string{"linux/arm64": "tcp://arm:1234"}, ""},
		{[]string{"linux/arm64"}, nil, `--engine "linux/arm64": use platform=runner-host`},
		{[]string{"=tcp://arm:1234"}, nil, "use platform=runner-host"},
		{[]string{"linux/arm64=a", "linux/arm64=b"}, nil, "--engine: linux/arm64 is given twice"},
	} {
		got, err := ParseEngines(tc.specs)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.specs)
			assert.Equal(t, class.BadInput, class.Of(err))
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

func TestParseSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n"), 0o600))
	t.Setenv("MATRIX_TEST_TOKEN", "from-env")
	for _, tc := range []struct {
		name, spec, want, err string
	}{
		{"env", "pip=env:MATRIX_TEST_TOKEN", "from-env", ""},
		{"file, without its newline", "pip=file:" + file, "from-file", ""},
		{"unset variable", "pip=env:MATRIX_TEST_UNSET", "", "--secret pip: environment variable MATRIX_TEST_UNSET is not set"},
		{"missing file", "pip=file:/nonexistent/token", "", "--secret pip: "},
		{"other source", "pip=vault:x", "", `--secret pip: source "vault" is not env or file`},
		{"a value typed inline is not echoed", "pip=hunter2", "", `--secret "pip=…": use id=env:VAR or id=file:PATH`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSecrets([]string{tc.spec})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				assert.NotContains(t, err.Error(), "hunter2")
				assert.Equal(t, class.BadInput, class.Of(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"pip": tc.want}, got)
		})
	}
}

func TestReadPasswordAndSignKey(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte("s3cret\n"), 0o600))
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte("PEM KEY"), 0o600))
	t.Setenv("MATRIX_TEST_PW", "s3cret")
	t.Setenv("MATRIX_TEST_KEY", "PEM KEY")
	t.Setenv("MATRIX_TEST_EMPTY", "")
	for _, tc := range []struct {
		name      string
		read      func() (string, error)
		want, err string
	}{
		{"no password", func() (string, error) { return ReadPassword("", "") }, "", ""},
		{"password from env", func() (string, error) { return ReadPassword("MATRIX_TEST_PW", "") }, "s3cret", ""},
		{"password from a file, without its newline", func() (string, error) { return ReadPassword("", pwFile) }, "s3cret", ""},
		{"both", func() (string, error) { return ReadPassword("MATRIX_TEST_PW", pwFile) }, "", "--password-env and --password-file exclude each other"},
		{"unset", func() (string, error) { return ReadPassword("MATRIX_TEST_UNSET", "") }, "", "--password-env: MATRIX_TEST_UNSET is not set"},
		{"missing file", func() (string, error) { return ReadPassword("", filepath.Join(dir, "nope")) }, "", "--password-file: "},
		{"no key", func() (string, error) { return ReadSignKey("") }, "", ""},
		{"key from env", func() (string, error) { return ReadSignKey("env:MATRIX_TEST_KEY") }, "PEM KEY", ""},
		{"key from a file", func() (string, error) { return ReadSignKey(keyFile) }, "PEM KEY", ""},
		{"empty key variable", func() (string, error) { return ReadSignKey("env:MATRIX_TEST_EMPTY") }, "", "--sign-key env:MATRIX_TEST_EMPTY: MATRIX_TEST_EMPTY is not set"},
		{"missing key file", func() (string, error) { return ReadSignKey(filepath.Join(dir, "nope.pem")) }, "", "give the path of a PEM private key, or env:VAR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.read()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				assert.Equal(t, class.BadInput, class.Of(err))
				assert.NotContains(t, err.Error(), "s3cret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
