// Command rawdagger is the floor matrix is measured against: connect, then
// DockerBuild + Sync every component for every platform, two at a time,
// nothing else (no spec, no verify, no report). The one thing it cannot skip
// is singleuser's FROM ${JUPYTERHUB_IMAGE}: like matrix, it pushes jupyterhub's
// variant to a registry and passes it pinned by digest.
//
//	rawdagger COMPONENTS_DIR [STAGE_REGISTRY]
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"dagger.io/dagger"
)

var platforms = []dagger.Platform{"linux/amd64", "linux/arm64"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rawdagger:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return fmt.Errorf("usage: rawdagger COMPONENTS_DIR [STAGE_REGISTRY]")
	}
	dir, stage := os.Args[1], "localhost:5000"
	if len(os.Args) > 2 {
		stage = os.Args[2]
	}
	ctx := context.Background()
	c, err := dagger.Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	native, err := c.DefaultPlatform(ctx)
	if err != nil {
		return err
	}
	build := func(name string, p dagger.Platform, extra ...dagger.BuildArg) (*dagger.Container, error) {
		args := append([]dagger.BuildArg{{Name: "BUILDPLATFORM", Value: string(native)}, {Name: "VERSION", Value: "dev"}}, extra...)
		ctr, err := c.Host().Directory(filepath.Join(dir, name)).DockerBuild(dagger.DirectoryDockerBuildOpts{Platform: p, BuildArgs: args}).Sync(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", name, p, err)
		}
		return ctr, nil
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
		hub  = map[dagger.Platform]*dagger.Container{}
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err.Error())
	}
	sem := make(chan struct{}, 2)
	cell := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f(); err != nil {
				fail(err)
			}
		}()
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "singleuser" {
			continue
		}
		for _, p := range platforms {
			cell(func() error {
				ctr, err := build(e.Name(), p)
				if err == nil && e.Name() == "jupyterhub" {
					mu.Lock()
					hub[p] = ctr
					mu.Unlock()
				}
				return err
			})
		}
	}
	wg.Wait()
	for _, p := range platforms {
		if hub[p] == nil {
			continue
		}
		cell(func() error {
			arch := p[strings.LastIndex(string(p), "/")+1:]
			ref, err := hub[p].Publish(ctx, fmt.Sprintf("%s/rawdagger/jupyterhub:%s", stage, arch))
			if err != nil {
				return fmt.Errorf("jupyterhub %s: staging: %w", p, err)
			}
			_, err = build("singleuser", p, dagger.BuildArg{Name: "JUPYTERHUB_IMAGE", Value: ref})
			return err
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d cells failed:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	return nil
}
