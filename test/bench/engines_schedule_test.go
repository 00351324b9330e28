package bench

import (
	"sort"
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

// schedule is the wall time of the report's cells run again: each platform
// on an engine of its own with jobs cells at once, a cell starting when the
// same platform's cells of its dependencies are done, the longest ready
// cell first. native gives each arm64 cell its amd64 twin's time.
func schedule(r *report.Report, deps map[string][]string, native bool, jobs int) float64 {
	secs := map[[2]string]float64{}
	for _, c := range r.Cells {
		if c.Status == report.Verified {
			secs[[2]string{c.Component, c.Platform}] = c.Seconds
		}
	}
	if native {
		for k := range secs {
			if twin, ok := secs[[2]string{k[0], "linux/amd64"}]; ok && k[1] == "linux/arm64" {
				secs[k] = twin
			}
		}
	}
	wall := 0.0
	for _, pl := range r.Platforms {
		done := map[string]float64{} // component -> finish time
		var slots []float64          // finish times of running cells
		now := 0.0
		left := map[string]float64{}
		for k, s := range secs {
			if k[1] == pl {
				left[k[0]] = s
			}
		}
		for len(left) > 0 {
			var ready []string
			for c := range left {
				ok := true
				for _, d := range deps[c] {
					if f, fin := done[d]; !fin || f > now {
						if _, planned := secs[[2]string{d, pl}]; planned {
							ok = false
						}
					}
				}
				if ok {
					ready = append(ready, c)
				}
			}
			sort.Slice(ready, func(i, j int) bool {
				return left[ready[i]] > left[ready[j]] || (left[ready[i]] == left[ready[j]] && ready[i] < ready[j])
			})
			for _, c := range ready {
				if len(slots) >= jobs {
					break
				}
				done[c] = now + left[c]
				slots = append(slots, done[c])
				delete(left, c)
			}
			if len(slots) == 0 {
				break // a dependency that is not planned on this platform
			}
			sort.Float64s(slots)
			now, slots = slots[0], slots[1:]
		}
		for _, f := range done {
			wall = max(wall, f)
		}
	}
	return wall
}
