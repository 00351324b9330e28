package builder

import (
	"errors"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// tailLines is how much of a failed step's output an error keeps.
const tailLines = 20

// CellError is the failure of one component on one platform.
type CellError struct {
	Component string
	Platform  dagger.Platform
	Step      string // the failing command (a Dockerfile RUN), when the engine told us
	ExitCode  int
	Output    string // last lines of the step's stderr (or stdout)
	Err       error
}

// NewCellError attributes err to a cell, reading the step and its output out
// of a *dagger.ExecError: its message alone names neither.
func NewCellError(component string, p dagger.Platform, err error) *CellError {
	ce := &CellError{Component: component, Platform: p, Err: err}
	var ee *dagger.ExecError
	if errors.As(err, &ee) {
		ce.Step = strings.Join(ee.Cmd, " ")
		ce.ExitCode = ee.ExitCode
		out := ee.Stderr
		if strings.TrimSpace(out) == "" {
			out = ee.Stdout
		}
		ce.Output = report.Tail(out, tailLines)
	}
	return ce
}

func (e *CellError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Component, e.Platform)
	if e.Step != "" {
		fmt.Fprintf(&b, ": step %q exited %d", e.Step, e.ExitCode)
		if e.Output != "" {
			fmt.Fprintf(&b, "\n%s", indent(e.Output))
		}
		return b.String()
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *CellError) Unwrap() error { return e.Err }

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
