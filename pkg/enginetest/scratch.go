package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Images without a shell, each a static Go binary cross-compiled on the
// build platform; they build in seconds.
const (
	helloGo  = "package main\n\nimport (\n\t\"os\"\n\t\"runtime\"\n)\n\nfunc main() { os.Stdout.WriteString(\"hello from \" + runtime.GOARCH + \"\\n\") }\n"
	helloMod = "module hello\n\ngo 1.26\n"
	// goStage compiles /out/hello with GOARCH as given.
	goStage = `FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY go.mod main.go ./
RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=%s go build -trimpath -ldflags=-s -o /out/hello .
`
	// scratchDockerfile: FROM scratch, with a config worth keeping.
	scratchDockerfile = `FROM scratch
COPY --from=build /out/hello /hello
ENV GREETING=hi
WORKDIR /data
USER 65534:65534
LABEL org.example.fixture=scratch
EXPOSE 8080/tcp
ENTRYPOINT ["/hello"]
CMD ["--name", "world"]
`
	// distrolessDockerfile: like distroless/static: users and groups, the
	// program in PATH, no /bin/sh and no coreutils; the files come from
	// Debian, on the target platform, with no RUN.
	distrolessDockerfile = `FROM debian:bookworm-slim AS files
FROM scratch
COPY --from=files /etc/passwd /etc/group /etc/
COPY --from=build /out/hello /usr/local/bin/hello
USER nobody
ENTRYPOINT ["hello"]
`
	// wrongArchDockerfile: the binary is x86-64 on every platform.
	wrongArchDockerfile = `FROM scratch
COPY --from=build /out/hello /hello
ENTRYPOINT ["/hello"]
`
	// pinnedDockerfile: a base pinned to one platform, which no FROM scratch
	// correction may hide.
	pinnedDockerfile = "FROM --platform=linux/amd64 debian:bookworm-slim\n"
)

// ScratchFixtures writes a components directory of images without a shell
// that verify on linux/amd64 and linux/arm64: scratch (FROM scratch, smoke
// [/hello]) and distroless (no shell, smoke [hello] through PATH).
func ScratchFixtures(t testing.TB) string {
	return Components(t, map[string]map[string]string{
		"scratch":    goComponent(`$TARGETARCH`, scratchDockerfile, "image: fixture-scratch\nsmoke: [/hello]\n"),
		"distroless": goComponent(`$TARGETARCH`, distrolessDockerfile, "image: fixture-distroless\nsmoke: [hello]\n"),
	})
}

// WrongPlatformFixtures writes a components directory whose linux/arm64
// cells must fail: wrongarch (FROM scratch, an x86-64 binary in every
// variant: fails at arch) and pinned (a base pinned to linux/amd64: fails
// at platform).
func WrongPlatformFixtures(t testing.TB) string {
	return Components(t, map[string]map[string]string{
		"wrongarch": goComponent("amd64", wrongArchDockerfile, "image: fixture-wrongarch\nsmoke: [/hello]\n"),
		"pinned":    {"Dockerfile": pinnedDockerfile, "component.yaml": "image: fixture-pinned\nsmoke: [cat, /etc/debian_version]\n"},
	})
}

func goComponent(goarch, final, yaml string) map[string]string {
	return map[string]string{
		"Dockerfile":     strings.Replace(goStage, "%s", goarch, 1) + final,
		"main.go":        helloGo,
		"go.mod":         helloMod,
		".dockerignore":  "Dockerfile\ncomponent.yaml\n",
		"component.yaml": yaml,
	}
}

// Variant is one entry of a published index, read back: the platform the
// index says, the image's config, and its files (path → content, without
// the leading /; directories and links have none).
type Variant struct {
	Platform v1.Platform
	Config   *v1.ConfigFile
	Files    map[string][]byte
}

// ReadIndex reads the index at ref and every image in it, flattened.
func ReadIndex(t testing.TB, ctx context.Context, ref string) []Variant {
	t.Helper()
	idx, err := remote.Index(Ref(t, ref), remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("reading the index %s: %v", ref, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatalf("reading the index %s: %v", ref, err)
	}
	var out []Variant
	for _, d := range m.Manifests {
		if d.Platform == nil {
			continue // an attestation or other artifact, not a variant
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatalf("%s %s: %v", ref, d.Platform, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatalf("%s %s: reading the config: %v", ref, d.Platform, err)
		}
		out = append(out, Variant{Platform: *d.Platform, Config: cf, Files: files(t, img)})
	}
	return out
}

// files is the flattened file system of img: each regular file's content.
func files(t testing.TB, img v1.Image) map[string][]byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	out := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the layers: %v", err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if h.Typeflag != tar.TypeReg {
			out[name] = nil
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		out[name] = b
	}
}

// ELFMachine is the machine of an ELF file's content.
func ELFMachine(t testing.TB, b []byte) elf.Machine {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	return f.Machine
}

// machines are the ELF machines of the platforms the fixtures build for.
var machines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// CheckPlatforms reads back the index at ref and checks, for each platform
// of want in that order, that the index entry and the image config say it,
// that the program file binary (a path without the leading /) is an ELF
// file of its machine, and that the image holds no shell. It returns the
// variants read.
func CheckPlatforms(t testing.TB, ctx context.Context, ref, binary string, want []string) []Variant {
	t.Helper()
	vs := ReadIndex(t, ctx, ref)
	var got []string
	for _, v := range vs {
		got = append(got, v.Platform.OS+"/"+v.Platform.Architecture)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: index entries are %v, want %v", ref, got, want)
	}
	for _, v := range vs {
		pl := v.Platform.OS + "/" + v.Platform.Architecture
		if cfg := v.Config.OS + "/" + v.Config.Architecture; cfg != pl {
			t.Errorf("%s %s: the image config says %s", ref, pl, cfg)
		}
		b, ok := v.Files[binary]
		if !ok {
			t.Errorf("%s %s: no /%s", ref, pl, binary)
			continue
		}
		if m := ELFMachine(t, b); m != machines[v.Platform.Architecture] {
			t.Errorf("%s %s: /%s is %s, want %s", ref, pl, binary, m, machines[v.Platform.Architecture])
		}
		for _, sh := range []string{"bin/sh", "usr/bin/sh", "usr/bin/head", "usr/bin/od"} {
			if _, ok := v.Files[sh]; ok {
				t.Errorf("%s %s: holds /%s, the fixture has no shell", ref, pl, sh)
			}
		}
	}
	return vs
}

// CheckScratchConfig checks that a variant of the scratch fixture kept the
// config its Dockerfile set: entrypoint, default args, environment, workdir,
// user, labels and exposed port.
func CheckScratchConfig(t testing.TB, v Variant) {
	t.Helper()
	c := v.Config.Config
	pl := v.Platform.OS + "/" + v.Platform.Architecture
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("scratch %s: %s is %v, want %v", pl, what, got, want)
		}
	}
	check("the entrypoint", c.Entrypoint, []string{"/hello"})
	check("cmd", c.Cmd, []string{"--name", "world"})
	check("GREETING", slices.Contains(c.Env, "GREETING=hi"), true)
	check("the workdir", c.WorkingDir, "/data")
	check("the user", c.User, "65534:65534")
	check("the label", c.Labels["org.example.fixture"], "scratch")
	_, exposed := c.ExposedPorts["8080/tcp"]
	check("port 8080/tcp exposed", exposed, true)
}
