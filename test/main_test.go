package system_test

import (
	"os"
	"testing"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// TestMain runs the system tests from the repository root: they read the
// CI files, the README and the Taskfile by the paths users type.
func TestMain(m *testing.M) {
	if err := os.Chdir(enginetest.Root()); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
