package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/internal/enginetest"
	"github.com/ai-infra-matrix/matrix/report"
)

var (
	buildOnce sync.Once
	bins      = map[string]string{}
	buildErr  error
)

// tools builds the matrix CLI and the raw-Dagger floor program once.
func tools(b *testing.B) map[string]string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "matrix-bench-")
		if err != nil {
			buildErr = err
			return
		}
		for name, pkg := range map[string]string{"matrix": "./cmd/matrix", "rawdagger": "./bench/rawdagger"} {
			bins[name] = filepath.Join(dir, name)
			cmd := exec.Command("go", "build", "-o", bins[name], pkg)
			cmd.Dir = enginetest.Root()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("%s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return bins
}

// timed runs a command and returns its wall time and CPU time (user+sys,
// including the `dagger session` helper the Go SDK starts as its child).
func timed(b *testing.B, dir string, name string, args ...string) (wall, cpu time.Duration, out []byte) {
	wall, cpu, _, out = timedSelf(b, dir, name, args...)
	return wall, cpu, out
}

// timedSelf is timed that also samples the process's own CPU time from
// /proc every 50 ms, so matrix's work shows apart from its session helper's.
func timedSelf(b *testing.B, dir string, name string, args ...string) (wall, cpu, self time.Duration, out []byte) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	sampled := make(chan time.Duration)
	go func() {
		var last time.Duration
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if t, ok := procCPU(cmd.Process.Pid); ok {
				last = t
			}
			select {
			case <-stop:
				sampled <- last
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	wall = time.Since(start)
	close(stop)
	self = <-sampled
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, buf.String())
	}
	st := cmd.ProcessState
	return wall, st.UserTime() + st.SystemTime(), self, buf.Bytes()
}

// procCPU reads utime+stime of pid (in clock ticks of 10 ms) from /proc.
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// cpuMetrics runs b.N iterations of run and reports the CPU time per run:
// the program's own (self-cpu-ms) and with its session helper (cpu-ms).
func cpuMetrics(b *testing.B, run func() (cpu, self time.Duration)) {
	var cpu, self time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, s := run()
		cpu, self = cpu+c, self+s
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(self.Milliseconds())/float64(b.N), "self-cpu-ms/op")
}

func components() string { return filepath.Join(enginetest.Root(), "components") }

// engine fails b when the engine is not reachable. It opens no session: an
// idle one left open would cost CPU during the measure.
func engine(b *testing.B) {
	if err := enginetest.Reachable(); err != nil {
		b.Fatal(err)
	}
}

// warm makes sure the engine holds every cell before a no-op measure.
func warm(b *testing.B) {
	timed(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--platforms", "linux/amd64,linux/arm64")
}

// BenchmarkWarmNoOpMatrix: `matrix build-all` over 24 cached cells, the whole
// command, engine connect included. Goal: under 1 s.
func BenchmarkWarmNoOpMatrix(b *testing.B) {
	engine(b)
	warm(b)
	cpuMetrics(b, func() (time.Duration, time.Duration) {
		_, cpu, self, _ := timedSelf(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--platforms", "linux/amd64,linux/arm64")
		return cpu, self
	})
}

// BenchmarkWarmNoOpRawDagger: the floor, a minimal program doing the same 24
// DockerBuild+Sync calls.
func BenchmarkWarmNoOpRawDagger(b *testing.B) {
	engine(b)
	warm(b)
	cpuMetrics(b, func() (time.Duration, time.Duration) {
		_, cpu, self, _ := timedSelf(b, enginetest.Root(), tools(b)["rawdagger"], components())
		return cpu, self
	})
}

// BenchmarkWarmNoOpDaggerCall: `dagger call build-all` over 24 cached cells.
// Goal: under 2 s.
func BenchmarkWarmNoOpDaggerCall(b *testing.B) {
	engine(b)
	warm(b)
	bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN")
	timed(b, enginetest.Root(), bin, "call", "build-all") // module load
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(b, enginetest.Root(), bin, "call", "build-all", "--platforms", "linux/amd64,linux/arm64")
	}
}

// BenchmarkOneFileChanged: one file of one component changes; only its cells rebuild.
func BenchmarkOneFileChanged(b *testing.B) {
	engine(b)
	warm(b)
	work := b.TempDir()
	cp := exec.Command("cp", "-a", components(), work)
	if out, err := cp.CombinedOutput(); err != nil {
		b.Fatal(err, string(out))
	}
	dir := filepath.Join(work, "components")
	rebuilt := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := filepath.Join(dir, "backend", "main.go")
		data, _ := os.ReadFile(f)
		os.WriteFile(f, append(data, []byte(fmt.Sprintf("\n// change %d %d\n", i, time.Now().UnixNano()))...), 0o644)
		rep := filepath.Join(work, "report.json")
		b.StartTimer()
		timed(b, work, tools(b)["matrix"], "build-all", "--components-dir", dir, "--report", rep)
		b.StopTimer()
		rebuilt = slowCells(b, rep, 1.0)
		b.StartTimer()
	}
	b.ReportMetric(float64(rebuilt), "cells>1s")
}

// slowCells counts cells of a JSON report that took longer than s seconds:
// the ones the engine really rebuilt.
func slowCells(b *testing.B, path string, s float64) int {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, c := range r.Cells {
		if c.Seconds > s {
			n++
			b.Logf("rebuilt: %s %s %.1fs", c.Component, c.Platform, c.Seconds)
		}
	}
	return n
}

// BenchmarkGoStage compares backend's arm64 cell with its Go stage native
// (BUILDPLATFORM = the engine's platform, what matrix does) against emulated
// (Dagger's default, BUILDPLATFORM = the target). A fresh VERSION each time
// misses the cache of the go build step only.
func BenchmarkGoStage(b *testing.B) {
	c := enginetest.Connect(b)
	ctx := context.Background()
	dir := c.Host().Directory(filepath.Join(components(), "backend"))
	for _, mode := range []struct {
		name string
		args []dagger.BuildArg
	}{
		{"native", []dagger.BuildArg{{Name: "BUILDPLATFORM", Value: "linux/amd64"}}},
		{"emulated", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				args := append(mode.args, dagger.BuildArg{Name: "VERSION", Value: fmt.Sprintf("bench-%d", time.Now().UnixNano())})
				_, err := dir.DockerBuild(dagger.DirectoryDockerBuildOpts{Platform: "linux/arm64", BuildArgs: args}).Sync(ctx)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublish: all 12 indexes to the local registry (through a proxy
// that counts requests and uploaded bytes), then again with nothing changed.
// Goal for the no-op: under 1 s and nothing uploaded.
func BenchmarkPublish(b *testing.B) {
	engine(b)
	registry := enginetest.Registry(b)
	warm(b)
	count := startCounter(b, registry)
	repo := counterAddr + "/" + enginetest.Unique("bench")
	publish := func() (time.Duration, time.Duration) {
		wall, cpu, _ := timed(b, enginetest.Root(), tools(b)["matrix"], "publish", "--registry", repo, "--tag", "v1")
		return wall, cpu
	}
	wall, _ := publish()
	req, wr, up := count.snapshot()
	b.Logf("first publish: %.1fs, %d requests, %d writes, %.1f MB uploaded", wall.Seconds(), req, wr, float64(up)/1e6)
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, c := publish()
		cpu += c
	}
	b.StopTimer()
	req, wr, up = count.snapshot()
	n := float64(b.N)
	b.ReportMetric(float64(req)/n, "requests/op")
	b.ReportMetric(float64(wr)/n, "writes/op")
	b.ReportMetric(float64(up)/n, "uploaded-B/op")
	b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms/op")
}

// BenchmarkExport: 12 OCI archives with both platforms.
func BenchmarkExport(b *testing.B) {
	engine(b)
	warm(b)
	var bytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := b.TempDir()
		timed(b, enginetest.Root(), tools(b)["matrix"], "export", "--out", out)
		b.StopTimer()
		bytes = dirSize(out)
		b.StartTimer()
	}
	b.ReportMetric(float64(bytes)/1e6, "MB")
	b.SetBytes(bytes)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
