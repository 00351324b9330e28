//go:build engine

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/stretchr/testify/require"
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
		for name, pkg := range map[string]string{"matrix": "./cmd/matrix", "rawdagger": "./test/bench/rawdagger"} {
			bins[name] = filepath.Join(dir, name)
			cmd := exec.Command("go", "build", "-o", bins[name], pkg)
			cmd.Dir = enginetest.Root()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("%s: %w\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return bins
}

// command runs a program to its end (failing b if it fails) and measures
// it: wall time; CPU time (user+sys) including the `dagger session` helper
// the Go SDK starts as its child; and the program's own CPU time, sampled
// from /proc every 50 ms, so matrix's work shows apart from its helper's.
func command(b *testing.B, dir, name string, args ...string) sample {
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
	wall := time.Since(start)
	close(stop)
	self := <-sampled
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, buf.String())
	}
	st := cmd.ProcessState
	return sample{wall: wall, cpu: st.UserTime() + st.SystemTime(), self: self}
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

// sample is one measured run.
type sample struct{ wall, cpu, self time.Duration }

// each runs b.N measured runs and reports medians, not means: the wall time
// (median-s), and, when the runs measure them, the CPU time with the session
// helper (cpu-ms) and the program's own (self-cpu-ms). Every run is logged.
func each(b *testing.B, run func(i int) sample) {
	if probe(b) {
		return
	}
	var runs []sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs = append(runs, run(i))
	}
	b.StopTimer()
	median := func(get func(sample) time.Duration) time.Duration {
		v := make([]time.Duration, len(runs))
		for i, r := range runs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for i, r := range runs {
		b.Logf("run %d: %.3fs wall, %dms CPU, %dms own CPU", i+1, r.wall.Seconds(), r.cpu.Milliseconds(), r.self.Milliseconds())
	}
	b.ReportMetric(median(func(r sample) time.Duration { return r.wall }).Seconds(), "median-s")
	if cpu := median(func(r sample) time.Duration { return r.cpu }); cpu > 0 {
		b.ReportMetric(float64(cpu.Milliseconds()), "cpu-ms")
		b.ReportMetric(float64(median(func(r sample) time.Duration { return r.self }).Milliseconds()), "self-cpu-ms")
	}
}

// probe reports whether this is the one-iteration call go test makes before
// the N of -benchtime Nx: measuring there would add a whole run (half an hour
// for a cold one) that no median uses, so benchmarks return at once.
func probe(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if b.N != 1 || f == nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(f.Value.String(), "x"))
	return err == nil && n > 1
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
	command(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--platforms", "linux/amd64,linux/arm64")
}

// BenchmarkWarmNoOpMatrix: `matrix build-all` over 24 cached cells, the whole
// command, engine connect included. Goal: under 1 s.
func BenchmarkWarmNoOpMatrix(b *testing.B) {
	engine(b)
	warm(b)
	each(b, func(int) sample {
		return command(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--platforms", "linux/amd64,linux/arm64")
	})
}

// BenchmarkWarmNoOpRawDagger: the floor, a minimal program doing the same 24
// DockerBuild+Sync calls.
func BenchmarkWarmNoOpRawDagger(b *testing.B) {
	engine(b)
	warm(b)
	each(b, func(int) sample {
		return command(b, enginetest.Root(), tools(b)["rawdagger"], components())
	})
}

// BenchmarkWarmNoOpDaggerCall: `dagger call build-all` over 24 cached cells.
// Goal: under 2 s.
func BenchmarkWarmNoOpDaggerCall(b *testing.B) {
	engine(b)
	warm(b)
	bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN")
	command(b, enginetest.Root(), bin, "call", "build-all") // module load
	each(b, func(int) sample {
		return command(b, enginetest.Root(), bin, "call", "build-all", "--platforms", "linux/amd64,linux/arm64")
	})
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
	each(b, func(i int) sample {
		b.StopTimer()
		f := filepath.Join(dir, "backend", "main.go")
		data, err := os.ReadFile(f)
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(f, append(data, []byte(fmt.Sprintf("\n// change %d %d\n", i, time.Now().UnixNano()))...), 0o644))
		rep := filepath.Join(work, "report.json")
		b.StartTimer()
		s := command(b, work, tools(b)["matrix"], "build-all", "--components-dir", dir, "--report", rep)
		b.StopTimer()
		rebuilt = max(rebuilt, slowCells(b, rep, 1.0))
		b.StartTimer()
		return s
	})
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
// misses the cache of the go build step, and a fresh id for the Go build
// cache mount makes the compiler start from nothing, as in a cold build.
func BenchmarkGoStage(b *testing.B) {
	c := enginetest.Connect(b)
	ctx := context.Background()
	dockerfile, err := os.ReadFile(filepath.Join(components(), "backend", "Dockerfile"))
	if err != nil {
		b.Fatal(err)
	}
	dir := c.Host().Directory(filepath.Join(components(), "backend"))
	for _, mode := range []struct {
		name string
		args []dagger.BuildArg
	}{
		{"native", []dagger.BuildArg{{Name: "BUILDPLATFORM", Value: "linux/amd64"}}},
		{"emulated", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			each(b, func(int) sample {
				nonce := fmt.Sprintf("bench-%d", time.Now().UnixNano())
				args := append(mode.args, dagger.BuildArg{Name: "VERSION", Value: nonce})
				fresh := strings.ReplaceAll(string(dockerfile), "id=matrix-go-build", "id="+nonce)
				start := time.Now()
				_, err := dir.WithNewFile("Dockerfile", fresh).DockerBuild(dagger.DirectoryDockerBuildOpts{Platform: "linux/arm64", BuildArgs: args}).Sync(ctx)
				if err != nil {
					b.Fatal(err)
				}
				return sample{wall: time.Since(start)}
			})
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
	publish := func(int) sample {
		return command(b, enginetest.Root(), tools(b)["matrix"], "publish", "--registry", repo, "--tag", "v1")
	}
	if probe(b) {
		return
	}
	first := publish(0)
	req, wr, up := count.snapshot()
	b.Logf("first publish: %.1fs, %d requests, %d writes, %.1f MB uploaded", first.wall.Seconds(), req, wr, float64(up)/1e6)
	each(b, publish)
	req, wr, up = count.snapshot()
	n := float64(b.N)
	b.ReportMetric(float64(req)/n, "requests/op")
	b.ReportMetric(float64(wr)/n, "writes/op")
	b.ReportMetric(float64(up)/n, "uploaded-B/op")
}

// BenchmarkExport: 12 OCI archives with both platforms.
func BenchmarkExport(b *testing.B) {
	engine(b)
	warm(b)
	var bytes int64
	each(b, func(int) sample {
		out := b.TempDir()
		s := command(b, enginetest.Root(), tools(b)["matrix"], "export", "--no-third-party", "--out", out) // the list names Docker Hub
		b.StopTimer()
		bytes = dirSize(out)
		os.RemoveAll(out)
		b.StartTimer()
		return s
	})
	b.ReportMetric(float64(bytes)/1e6, "MB")
	b.SetBytes(bytes)
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error { // an unreadable file counts nothing
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
