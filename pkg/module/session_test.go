package module

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// TestClassify checks the exit class a `dagger call` error carries: the
// dagger CLI exits with exitCode only for an EXEC_ERROR extension.
func TestClassify(t *testing.T) {
	bad := class.BadInput.Errorf("--format %q: use table or json", "xml")
	down := class.Unreachable.Errorf("--registry-service: starting it: refused")
	cell := fmt.Errorf("backend linux/arm64: %w", errors.New("exit 1"))
	for _, tc := range []struct {
		name string
		err  error
		code int // 0: not carried as an exec error
	}{
		{"bad input", bad, 2},
		{"bad input, wrapped", fmt.Errorf("plan: %w", bad), 2},
		{"unreachable", down, 3},
		{"failed cell", cell, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(tc.err)
			var gq *gqlerror.Error
			if tc.code == 0 {
				assert.NotErrorAs(t, got, &gq)
				assert.Equal(t, tc.err, got)
				return
			}
			require.ErrorAs(t, got, &gq)
			assert.Equal(t, "EXEC_ERROR", gq.Extensions["_type"])
			assert.Equal(t, tc.code, gq.Extensions["exitCode"])
			assert.Equal(t, tc.err.Error(), gq.Message)
			assert.Same(t, got, Classify(got), "a classified error goes through unchanged")
		})
	}
	assert.NoError(t, Classify(nil))
}

// TestText checks what a function returns: the table, and on failure the
// table before the error, in the error's class.
func TestText(t *testing.T) {
	table := func(w io.Writer) error { _, err := io.WriteString(w, "CELL  STATUS\na     ok"); return err }
	out, err := Text(table, nil)
	require.NoError(t, err)
	assert.Equal(t, "CELL  STATUS\na     ok", out)

	_, err = Text(table, class.BadInput.Errorf("--tags: bad"))
	var gq *gqlerror.Error
	require.ErrorAs(t, err, &gq)
	assert.Equal(t, "CELL  STATUS\na     ok\n--tags: bad", gq.Message)
	assert.Equal(t, 2, gq.Extensions["exitCode"])

	_, err = Text(nil, errors.New("a cell failed"))
	require.EqualError(t, err, "a cell failed")
	_, err = Text(func(io.Writer) error { return errors.New("short write") }, nil)
	require.EqualError(t, err, "short write")
}
