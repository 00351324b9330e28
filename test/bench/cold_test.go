//go:build engine

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/stretchr/testify/require"
)

// BenchmarkCold compares a cold build-all of the 12 components × 2
// platforms (engine cache pruned; base images present in the local registry):
// matrix with its default --jobs, the same strictly one cell after another
// (--jobs 1, the build.sh approach done right), and buildah building the same
// Dockerfiles. It prunes the engine cache, so it runs only when asked:
// MATRIX_BENCH_COLD=1 (ci/bench.sh --cold).
func BenchmarkCold(b *testing.B) {
	if os.Getenv("MATRIX_BENCH_COLD") == "" {
		b.Skip("set MATRIX_BENCH_COLD=1 (ci/bench.sh --cold): it prunes the engine cache")
	}
	if err := enginetest.Reachable(); err != nil {
		b.Fatal(err)
	}
	registry := enginetest.Registry(b)
	for _, mode := range []struct{ name, jobs string }{{"matrix", "2"}, {"sequential", "1"}} {
		b.Run(mode.name, func(b *testing.B) {
			rep := filepath.Join(b.TempDir(), "report.json")
			// matrix's own CPU (outside the engine) over the whole cold run.
			each(b, func(int) sample {
				prune(b, "")
				s := command(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--jobs", mode.jobs, "--report", rep)
				b.StopTimer()
				slowCells(b, rep, 0) // logs every cell's time
				b.StartTimer()
				return s
			})
		})
	}
	b.Run("buildah", func(b *testing.B) {
		conf := filepath.Join(b.TempDir(), "registries.conf")
		require.NoError(b, os.WriteFile(conf, []byte(fmt.Sprintf(`unqualified-search-registries = ["docker.io"]
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "%s"
insecure = true
[[registry]]
location = "%s"
insecure = true
`, registry, registry)), 0o644))
		each(b, func(int) sample {
			b.StopTimer()
			// A cold start: nothing to remove is no error.
			_ = exec.Command("buildah", "rm", "--all").Run()
			_ = exec.Command("buildah", "rmi", "--all", "--force").Run()
			b.StartTimer()
			run := time.Now()
			for _, comp := range []string{"apphub", "backend", "frontend", "gitea", "jupyterhub", "nginx", "nightingale", "prometheus", "saltstack", "slurm-master", "test-containers", "singleuser"} {
				list := "bench-" + comp
				args := []string{"build", "--layers", "--platform", "linux/amd64,linux/arm64", "--manifest", list, "--build-arg", "VERSION=cold"}
				if comp == "singleuser" {
					// buildah has no run-wide staging: push jupyterhub's list and build FROM it.
					ref := registry + "/bench/jupyterhub:cold"
					push := exec.Command("buildah", "manifest", "push", "--all", "--tls-verify=false", "bench-jupyterhub", "docker://"+ref)
					push.Env = append(os.Environ(), "CONTAINERS_REGISTRIES_CONF="+conf)
					if out, err := push.CombinedOutput(); err != nil {
						b.Fatalf("buildah manifest push: %v\n%s", err, out)
					}
					args = append(args, "--build-arg", "JUPYTERHUB_IMAGE="+ref)
				}
				cmd := exec.Command("buildah", append(args, filepath.Join(components(), comp))...)
				cmd.Env = append(os.Environ(), "CONTAINERS_REGISTRIES_CONF="+conf)
				start := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("buildah %s: %v\n%s", comp, err, tail(string(out)))
				}
				b.Logf("buildah %s: %.1fs", comp, time.Since(start).Seconds())
			}
			return sample{wall: time.Since(run)}
		})
	})
}

// prune empties the cache of the engine at each runner host ("" the
// default), outside the measure. A session of its own for each: an idle
// session left open costs about 2% of a core here (its helper keeps
// receiving telemetry).
func prune(b *testing.B, hosts ...string) {
	b.StopTimer()
	defer b.StartTimer()
	for _, host := range hosts {
		var opts []dagger.ClientOpt
		if host != "" {
			opts = append(opts, dagger.WithRunnerHost(host))
		}
		c, err := dagger.Connect(b.Context(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		err = c.Engine().LocalCache().Prune(b.Context())
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
