package dotenv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	got, err := Parse([]byte(`# mirrors
APT_MIRROR=http://deb.example/debian

export GO_VERSION = 1.26
QUOTED="a \"b\"\nc"   # comment
SINGLE='lit ${X} \n'
BARE=x # comment
HASH=a#b
EMPTY=
URL=postgres://u:${DB_PASSWORD}@db/x
APT_MIRROR=http://later
`))
	require.NoError(t, err)
	assert.Equal(t, []Var{
		{"APT_MIRROR", "http://later", 11},
		{"GO_VERSION", "1.26", 4},
		{"QUOTED", "a \"b\"\nc", 5},
		{"SINGLE", `lit ${X} \n`, 6},
		{"BARE", "x", 7},
		{"HASH", "a#b", 8},
		{"EMPTY", "", 9},
		{"URL", "postgres://u:${DB_PASSWORD}@db/x", 10},
	}, got, "values literal, the last of a key wins in its first place")
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line       int
		problem    string
	}{
		{"no equals", "A=1\nDB_PASSWORD hunter2\n", 2, "no '='"},
		{"bad key", "1A=x\n", 1, "not a name"},
		{"key with dash", "MY-KEY=x\n", 1, "not a name"},
		{"unclosed double quote", "A=1\nDB_PASSWORD=\"hunter2\nB=2\n", 2, "DB_PASSWORD: the quote is not closed"},
		{"unclosed single quote", "P='hunter2\n", 1, "not closed"},
		{"text after quote", "P=\"hunter2\" trailing\n", 1, "after the closing quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.line, e.Line)
			assert.Contains(t, e.Error(), tc.problem)
			assert.NotContains(t, e.Error(), "hunter2", "no value in an error")
		})
	}
}
