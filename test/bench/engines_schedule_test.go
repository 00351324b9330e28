package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ai-infra-matrix/matrix/pkg/report"
)

func TestSchedule(t *testing.T) {
	both := []string{"linux/amd64", "linux/arm64"}
	cell := func(c, pl string, s float64) report.Cell {
		return report.Cell{Component: c, Platform: pl, Status: report.Verified, Seconds: s}
	}
	// hub (amd64 10 s, arm64 40 s), user FROM hub (5 s, 20 s), solo (8 s, 30 s).
	r := &report.Report{Platforms: both, Cells: []report.Cell{
		cell("hub", "linux/amd64", 10), cell("hub", "linux/arm64", 40),
		cell("user", "linux/amd64", 5), cell("user", "linux/arm64", 20),
		cell("solo", "linux/amd64", 8), cell("solo", "linux/arm64", 30),
	}}
	deps := map[string][]string{"user": {"hub"}}
	for _, tc := range []struct {
		name   string
		native bool
		jobs   int
		want   float64
	}{
		{"critical path as run: arm64 hub then user", false, 1 << 30, 60},
		{"one cell at a time per engine: arm64 40+30+20", false, 1, 90},
		{"two at once: hub and solo, then user", false, 2, 60},
		{"native arm64: its twin's 10+5", true, 1 << 30, 15},
		{"native arm64, one at a time: 10+8+5", true, 1, 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, schedule(r, deps, tc.native, tc.jobs), 1e-9)
		})
	}
}
