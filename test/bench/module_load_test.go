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

// BenchmarkModuleFirstLoad is the module's first load on an engine with
// no state, as on a fresh CI runner: `dagger functions` against a new
// Docker-road engine (ci/world/docker.sh, a name of its own, its volume
// removed after), so the world's engines keep their caches. A prune is not
// enough: the engine keeps its module cache through it (1.6 s after one).
// It logs the slowest spans of `--progress plain -vvv` (what the load is
// made of). It needs Docker (ci/world/up.sh --docker) and takes minutes,
// so it runs only when asked: MATRIX_BENCH_COLD=1.
func BenchmarkModuleFirstLoad(b *testing.B) {
	if os.Getenv("MATRIX_BENCH_COLD") == "" {
		b.Skip("set MATRIX_BENCH_COLD=1 (ci/bench.sh --cold): it starts a new engine in Docker")
	}
	enginetest.Docker(b)
	bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN")
	if bin == "" {
		bin = "dagger"
	}
	road := []string{"MATRIX_DOCKER_NAME=matrix-firstload", "MATRIX_DOCKER_PUBLISH=127.0.0.1:5030",
		"MATRIX_DOCKER_SUBNET=172.30.60.0/24", "MATRIX_DOCKER_IP=172.30.60.2", "MATRIX_DOCKER_MIRROR=localhost:5000",
		"MATRIX_DOCKER_ENV=" + b.TempDir() + "/docker.env"}
	docker := func(verb string) {
		cmd := exec.Command("sh", "ci/world/docker.sh", verb)
		cmd.Dir, cmd.Env = enginetest.Root(), append(os.Environ(), road...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("docker.sh %s: %v\n%s", verb, err, tail(string(out)))
		}
	}
	b.Cleanup(func() { docker("clean") })
	each(b, func(int) sample {
		b.StopTimer()
		docker("clean") // no state: a new volume
		docker("up")
		b.StartTimer()
		cmd := exec.Command(bin, "--progress", "plain", "-vvv", "functions")
		cmd.Dir = enginetest.Root()
		cmd.Env = append(os.Environ(), "_EXPERIMENTAL_DAGGER_RUNNER_HOST=docker-container://matrix-firstload-engine")
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
