// Command rawdagger is the floor matrix is measured against: connect, then
// DockerBuild + Sync every component for every platform, nothing else.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"dagger.io/dagger"
)

func main() {
	dir := os.Args[1]
	jobs := 2
	ctx := context.Background()
	c, err := dagger.Connect(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	native, err := c.DefaultPlatform(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	entries, _ := os.ReadDir(dir)
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	failed := false
	var mu sync.Mutex
	for _, e := range entries {
		for _, p := range []dagger.Platform{"linux/amd64", "linux/arm64"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				_, err := c.Host().Directory(filepath.Join(dir, e.Name())).DockerBuild(dagger.DirectoryDockerBuildOpts{
					Platform: p, BuildArgs: []dagger.BuildArg{{Name: "BUILDPLATFORM", Value: string(native)}, {Name: "VERSION", Value: "dev"}},
				}).Sync(ctx)
				if err != nil {
					mu.Lock()
					failed = true
					mu.Unlock()
					fmt.Fprintln(os.Stderr, e.Name(), p, err)
				}
			}()
		}
	}
	wg.Wait()
	if failed {
		os.Exit(1)
	}
}
