package main

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"dagger.io/dagger"
	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
)

// minFreeBytes is the free disk below which builds of all 24 cells may fail.
const minFreeBytes = 10 << 30

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the engine, emulation for each platform, the registry and disk space, each with a fix",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "platforms", Value: "linux/amd64,linux/arm64"},
			&cli.StringFlag{Name: "disk", Value: "/", Usage: "path whose free space to check"},
		},
		Action: func(c *cli.Context) error {
			w := c.App.Writer
			failed := 0
			check := func(name string, err error, fix string) {
				if err == nil {
					fmt.Fprintf(w, "ok    %s\n", name)
					return
				}
				failed++
				fmt.Fprintf(w, "FAIL  %s: %v\n      fix: %s\n", name, err, fix)
			}
			platforms, err := component.ParsePlatforms(c.String("platforms"))
			if err != nil {
				return class.BadInput.Errorf("--platforms: %w", err)
			}
			check("disk space on "+c.String("disk"), freeSpace(c.String("disk")), "free space or point the engine state elsewhere (MATRIX_STATE)")
			reg := cmp.Or(globalString(c, "registry"), matrix.DefaultStageRegistry) // the world's registry unless --registry names one
			check("registry "+reg, registryUp(reg), "start it with `task setup` or pass --registry")
			dc, err := connect(c)
			if err != nil {
				check("engine", err, engineFix)
				return class.Unreachable.Errorf("%d checks failed", failed)
			}
			defer dc.Close()
			ctx, cancel := withTimeout(c.Context)
			v, err := dc.Version(ctx)
			cancel()
			if err == nil && v != matrix.EngineVersion {
				err = fmt.Errorf("engine is %s, matrix needs %s", v, matrix.EngineVersion)
			}
			check("engine "+v, err, "run the Dagger engine "+matrix.EngineVersion+" (CLI, engine and SDK must match)")
			for _, p := range platforms {
				check("emulation "+p, emulation(c, dc, p), "install qemu-user-static and enable binfmt_misc (task setup does both)")
			}
			if failed > 0 {
				return class.Unreachable.Errorf("%d checks failed", failed)
			}
			return nil
		},
	}
}

func freeSpace(path string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return err
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < minFreeBytes {
		return fmt.Errorf("%.1f GB free, want at least %d GB", float64(free)/1e9, minFreeBytes>>30)
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
func emulation(c *cli.Context, dc *dagger.Client, p string) error {
	ctx, cancel := withTimeout(c.Context)
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
