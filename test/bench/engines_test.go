package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// BenchmarkColdEngines compares a cold build-all of the 12 components × 2
// platforms on one engine against the same split over two engines
// (--engine linux/arm64=$MATRIX_ENGINE2: amd64 on the world's engine, arm64
// on the second), both caches pruned before each run. Both engines here are
// amd64, so arm64 still runs emulated; from each run's per-cell times it
// also logs the projection for a native arm64 engine: every arm64 cell at
// the time of its amd64 twin, scheduled through the dependencies with
// --jobs cells at once per engine. It prunes, so it runs only when asked:
// MATRIX_BENCH_COLD=1 (ci/bench.sh --cold).
func BenchmarkColdEngines(b *testing.B) {
	if os.Getenv("MATRIX_BENCH_COLD") == "" {
		b.Skip("set MATRIX_BENCH_COLD=1 (ci/bench.sh --cold): it prunes the engine caches")
	}
	engine(b)
	host := enginetest.SecondEngine(b)
	deps := dependencies(b)
	// Two engines first: the one-engine run prunes only its engine, so the
	// second keeps its arm64 cells for the tests that follow.
	for _, mode := range []struct {
		name  string
		args  []string
		hosts []string // the engines it uses, "" the default
	}{
		{"two-engines", []string{"--engine", "linux/arm64=" + host}, []string{"", host}},
		{"one-engine", nil, []string{""}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			rep := filepath.Join(b.TempDir(), "report.json")
			each(b, func(int) sample {
				prune(b, mode.hosts...)
				s := command(b, enginetest.Root(), tools(b)["matrix"], append([]string{"build-all", "--jobs", "2", "--report", rep}, mode.args...)...)
				b.StopTimer()
				slowCells(b, rep, 0)
				r := readReport(b, rep)
				b.Logf("critical path as run: %.1fs; projected with a native arm64 engine (arm64 cells at their amd64 twin's time, 2 cells at once per engine): %.1fs wall, critical path %.1fs",
					schedule(r, deps, false, 1<<30), schedule(r, deps, true, 2), schedule(r, deps, true, 1<<30))
				b.StartTimer()
				return s
			})
		})
	}
}

// dependencies are the components' depends_on, read from their specs.
func dependencies(b *testing.B) map[string][]string {
	specs, err := component.Load(os.DirFS(components()), "components")
	if err != nil {
		b.Fatal(err)
	}
	out := map[string][]string{}
	for _, s := range specs {
		out[s.Name] = s.DependsOn
	}
	return out
}

func readReport(b *testing.B, path string) *report.Report {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	r := &report.Report{}
	if err := json.Unmarshal(data, r); err != nil {
		b.Fatal(err)
	}
	return r
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
