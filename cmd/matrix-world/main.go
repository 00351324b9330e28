// Command matrix-world assembles the air-gapped world's images; ci/world/up.sh calls it.
//
//	matrix-world check-bases --registry ADDR IMAGE...   exit 0 when every image holds every platform
//	matrix-world seed --registry ADDR --rootfs DIR --go-amd64 DIR --go-arm64 DIR --go-version V
//	matrix-world sdk --rootfs TAR --go DIR --codegen FILE --out DIR --go-version V   prints the manifest digest
//	matrix-world upstream --registry ADDR   the stand-in third-party images (world.Upstreams); a rerun writes nothing
//	matrix-world tool --registry ADDR --image REF --name NAME --amd64 FILE [--arm64 FILE]   a FROM scratch tool image (anchore/syft)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/ai-infra-matrix/matrix/pkg/world"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "matrix-world:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: matrix-world check-bases|seed|sdk|upstream|tool [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	registry := fs.String("registry", "127.0.0.1:5000", "registry address")
	rootfs := fs.String("rootfs", "", "rootfs directory (seed) or tarball (sdk)")
	goAMD64 := fs.String("go-amd64", "", "Go toolchain directory for amd64")
	goARM64 := fs.String("go-arm64", "", "Go toolchain directory for arm64")
	goroot := fs.String("go", "", "Go toolchain directory (sdk)")
	codegen := fs.String("codegen", "", "codegen binary (sdk)")
	out := fs.String("out", "", "OCI layout directory (sdk)")
	goVersion := fs.String("go-version", "1.26.8", "Go version of the toolchains")
	image := fs.String("image", "", "image reference under the registry (tool)")
	toolName := fs.String("name", "", "the tool's file name at / (tool)")
	amd64 := fs.String("amd64", "", "the tool compiled for linux/amd64 (tool)")
	arm64 := fs.String("arm64", "", "the tool compiled for linux/arm64 (tool)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "check-bases":
		for _, image := range fs.Args() {
			ref, err := world.Ref(*registry, image)
			if err != nil {
				return err
			}
			if !world.HasAllArches(ref) {
				return fmt.Errorf("%s is missing or lacks a platform", ref)
			}
		}
		return nil
	case "seed":
		return world.Seed(*registry, *rootfs, map[string]string{"amd64": *goAMD64, "arm64": *goARM64}, *goVersion)
	case "tool":
		return world.SeedTool(*registry, *image, *toolName, map[string]string{"amd64": *amd64, "arm64": *arm64})
	case "upstream":
		return world.SeedUpstream(context.Background(), *registry)
	case "sdk":
		d, err := world.SDKRuntime(*out, *rootfs, *goroot, *codegen, *goVersion)
		if err != nil {
			return err
		}
		fmt.Println(d)
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}
