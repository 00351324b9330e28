package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
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

// timed runs a command and returns its wall time and CPU time (user+sys).
func timed(b *testing.B, dir string, name string, args ...string) (wall, cpu time.Duration, out []byte) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	wall = time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, buf.String())
	}
	st := cmd.ProcessState
	return wall, st.UserTime() + st.SystemTime(), buf.Bytes()
}

func components() string { return filepath.Join(enginetest.Root(), "components") }

// warm makes sure the engine holds every cell before a no-op measure.
func warm(b *testing.B) {
	timed(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--platforms", "linux/amd64,linux/arm64")
}

// BenchmarkWarmNoOpMatrix: `matrix build-all` over 24 cached cells, the whole
// command, engine connect included. Goal: under 1 s.
func BenchmarkWarmNoOpMatrix(b *testing.B) {
	enginetest.Connect(b)
	warm(b)
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, c, _ := timed(b, enginetest.Root(), tools(b)["matrix"], "build-all", "--platforms", "linux/amd64,linux/arm64")
		cpu += c
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkWarmNoOpRawDagger: the floor, a minimal program doing the same 24
// DockerBuild+Sync calls.
func BenchmarkWarmNoOpRawDagger(b *testing.B) {
	enginetest.Connect(b)
	warm(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(b, enginetest.Root(), tools(b)["rawdagger"], components())
	}
}

// BenchmarkWarmNoOpDaggerCall: `dagger call build-all` over 24 cached cells.
// Goal: under 2 s.
func BenchmarkWarmNoOpDaggerCall(b *testing.B) {
	enginetest.Connect(b)
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
	enginetest.Connect(b)
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

// BenchmarkPublish: all 12 indexes to the local registry, then again with
// nothing changed. Goal for the no-op: under 1 s.
func BenchmarkPublish(b *testing.B) {
	enginetest.Connect(b)
	registry := enginetest.Registry(b)
	warm(b)
	repo := registry + "/" + enginetest.Unique("bench")
	timed(b, enginetest.Root(), tools(b)["matrix"], "publish", "--registry", repo, "--tag", "v1") // first publish
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(b, enginetest.Root(), tools(b)["matrix"], "publish", "--registry", repo, "--tag", "v1")
	}
}

// BenchmarkExport: 12 OCI archives with both platforms.
func BenchmarkExport(b *testing.B) {
	enginetest.Connect(b)
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

var _ = syscall.Getpid
