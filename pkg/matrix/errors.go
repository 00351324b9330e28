package matrix

import (
	"errors"

	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// The classes of a run's error; ExitCode maps each to its exit code.
type (
	// BadInput is an error in specs, flags or references: nothing was started.
	BadInput struct{ Err error }
	// Failed is a cell or a step (stage, publish, export) that failed.
	Failed struct{ Err error }
	// Unreachable is an engine or registry that does not answer.
	Unreachable struct{ Err error }
)

func (e *BadInput) Error() string    { return e.Err.Error() }
func (e *BadInput) Unwrap() error    { return e.Err }
func (e *Failed) Error() string      { return e.Err.Error() }
func (e *Failed) Unwrap() error      { return e.Err }
func (e *Unreachable) Error() string { return e.Err.Error() }
func (e *Unreachable) Unwrap() error { return e.Err }

// IsBadInput reports whether err is a *BadInput.
func IsBadInput(err error) bool {
	var b *BadInput
	return errors.As(err, &b)
}

// IsUnreachable reports whether err is an *Unreachable.
func IsUnreachable(err error) bool {
	var u *Unreachable
	return errors.As(err, &u)
}

// ExitCode is the exit code of a run that ended with err: 0, 2 bad input,
// 3 engine or registry unreachable, else 1.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return report.ExitOK
	case IsBadInput(err):
		return report.ExitBadInput
	case IsUnreachable(err):
		return report.ExitEngine
	}
	return report.ExitFailed
}
