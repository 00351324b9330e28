// Package doctor checks what a run needs, each check with its fix: disk
// space, the registry, the engine and emulation for each platform.
package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/session"
)

// MinFreeBytes is the free disk below which builds of all 24 cells may fail.
const MinFreeBytes = 10 << 30

// Options are what the checks look at.
type Options struct {
	Platforms []string // each checked for emulation
	Disk      string   // path whose free space to check
	Registry  string   // host[:port][/project]
	// Open starts the engine session and checks its version, as
	// session.Open does.
	Open func(context.Context) (*dagger.Client, error)
}

// Run prints one line per check to w, with the fix of each failed one,
// and fails (class.Unreachable) when any did.
func Run(ctx context.Context, w io.Writer, o Options) error {
	failed := 0
	check := func(name string, err error, fix string) {
		if err == nil {
			fmt.Fprintf(w, "ok    %s\n", name)
			return
		}
		failed++
		fmt.Fprintf(w, "FAIL  %s: %v\n      fix: %s\n", name, err, fix)
	}
	check("disk space on "+o.Disk, freeSpace(o.Disk), "free space or point the engine state elsewhere (MATRIX_STATE)")
	check("registry "+o.Registry, registryUp(o.Registry), "start it with `task setup` or pass --registry")
	dc, err := o.Open(ctx)
	if err != nil {
		check("engine", err, session.Fix)
		return class.Unreachable.Errorf("%d checks failed", failed)
	}
	defer dc.Close()
	check("engine "+session.Version, nil, "") // Open refused any other version
	for _, p := range o.Platforms {
		check("emulation "+p, emulation(ctx, dc, p), "install qemu-user-static and enable binfmt_misc (task setup does both)")
	}
	if failed > 0 {
		return class.Unreachable.Errorf("%d checks failed", failed)
	}
	return nil
}

func freeSpace(path string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return err
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < MinFreeBytes {
		return fmt.Errorf("%.1f GB free, want at least %d GB", float64(free)/1e9, MinFreeBytes>>30)
	}
	return nil
}

func registryUp(addr string) error {
	host, _, _ := strings.Cut(addr, "/")
	scheme := "https"
	if strings.HasPrefix(host, "localhost") || strings.HasPrefix(host, "127.") {
		scheme = "http"
	}
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(scheme + "://" + host + "/v2/")
	if err != nil {
		return err
	}
	_ = resp.Body.Close() // the status is the answer
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("GET /v2/ answered %s", resp.Status)
	}
	return nil
}

// emulation runs uname -m in a tiny container of platform p.
func emulation(ctx context.Context, dc *dagger.Client, p string) error {
	ctx, cancel := context.WithTimeout(ctx, session.Timeout)
	defer cancel()
	out, err := dc.Container(dagger.ContainerOpts{Platform: dagger.Platform(p)}).
		From("debian:bookworm-slim").WithExec([]string{"uname", "-m"}).Stdout(ctx)
	if err != nil {
		return err
	}
	want := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
	arch := strings.Split(p, "/")[1]
	if w, ok := want[arch]; ok && strings.TrimSpace(out) != w {
		return fmt.Errorf("uname -m printed %q, want %q", strings.TrimSpace(out), w)
	}
	return nil
}
