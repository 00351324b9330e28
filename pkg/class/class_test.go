package class_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// specError is an error type of another package that carries its class.
type specError struct{}

func (specError) Error() string      { return "components/a/component.yaml: bad" }
func (specError) Class() class.Class { return class.BadInput }

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, 0},
		{class.BadInput.Wrap(errors.New("x")), 2},
		{fmt.Errorf("wrapped: %w", class.BadInput.Wrap(errors.New("x"))), 2},
		{class.Unreachable.Wrap(errors.New("x")), 3},
		{fmt.Errorf("table\n%w", class.Unreachable.Wrap(errors.New("x"))), 3},
		{class.Failed.Wrap(errors.New("x")), 1},
		{errors.New("anything else"), 1},
		{class.BadInput.Errorf("--jobs %d: must be at least 1", -1), 2},
		{fmt.Errorf("loading: %w", specError{}), 2},
		{errors.Join(errors.New("x"), class.Unreachable.Wrap(errors.New("y")), specError{}), 3},
	} {
		assert.Equal(t, tc.code, int(class.Of(tc.err)), "%v", tc.err)
	}
}

func TestWrap(t *testing.T) {
	require.NoError(t, class.BadInput.Wrap(nil))
	inner := errors.New("registry is empty")
	err := class.BadInput.Wrap(inner)
	assert.Equal(t, "registry is empty", err.Error(), "the message is the error's own")
	require.ErrorIs(t, err, inner)
	assert.Equal(t, class.BadInput, class.Of(err))
}
