//go:build engine

package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	set, err := component.Load(component.Tree{FS: os.DirFS(components()), Where: "components"})
	if err != nil {
		b.Fatal(err)
	}
	out := map[string][]string{}
	for _, s := range set.Specs {
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
