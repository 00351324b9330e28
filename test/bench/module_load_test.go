//go:build engine

package bench

import (
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// BenchmarkModuleFirstLoad is the module's first load on an engine whose
// cache is empty, as on a fresh CI runner: `dagger functions` against the
// second engine (MATRIX_ENGINE2, ci/world/up.sh --second-engine), pruned
// first, so the world's engine keeps its cache. It logs the slowest spans
// of `--progress plain -vvv` (what the load is made of). It prunes, so it
// runs only when asked: MATRIX_BENCH_COLD=1.
func BenchmarkModuleFirstLoad(b *testing.B) {
	if os.Getenv("MATRIX_BENCH_COLD") == "" {
		b.Skip("set MATRIX_BENCH_COLD=1 (ci/bench.sh --cold): it prunes the second engine's cache")
	}
	host := enginetest.SecondEngine(b)
	bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN")
	if bin == "" {
		bin = "dagger"
	}
	each(b, func(int) sample {
		prune(b, host)
		cmd := exec.Command(bin, "--progress", "plain", "-vvv", "functions")
		cmd.Dir = enginetest.Root()
		cmd.Env = append(os.Environ(), "_EXPERIMENTAL_DAGGER_RUNNER_HOST="+host)
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(t0)
		if err != nil {
			b.Fatalf("dagger functions: %v\n%s", err, tail(string(out)))
		}
		b.StopTimer()
		for _, s := range slowestSpans(string(out), 12) {
			b.Logf("span %7.1fs  %s", s.secs, s.name)
		}
		b.StartTimer()
		return sample{wall: wall}
	})
}

type span struct {
	name string
	secs float64
}

var (
	ansi    = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	spanEnd = regexp.MustCompile(`^\d+\s*:\s*[┆│ ]*(.*?) (?:DONE|ERROR|CACHED) \[(?:(\d+)m)?([\d.]+)s\]$`)
)

// slowestSpans are the n longest spans that plain progress closed.
func slowestSpans(out string, n int) []span {
	var spans []span
	for _, line := range strings.Split(ansi.ReplaceAllString(out, ""), "\n") {
		m := spanEnd.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		secs := 0.0
		if m[2] != "" {
			secs = 60 * atof(m[2])
		}
		spans = append(spans, span{name: m[1], secs: secs + atof(m[3])})
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].secs > spans[j].secs })
	return spans[:min(n, len(spans))]
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
