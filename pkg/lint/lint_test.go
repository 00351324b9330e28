package lint

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rules returns "rule@line/severity" for each finding.
func rules(t *testing.T, dockerfile string, dockerignore bool) []string {
	t.Helper()
	fs, err := File("Dockerfile", []byte(dockerfile), dockerignore)
	require.NoError(t, err)
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s@%d/%s", f.Rule, f.Line, f.Severity))
	}
	return out
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		dockerignore     bool
		want             []string // nil: no finding
	}{
		// compile-on-target
		{"go build on the target", "FROM golang:1.26\nRUN go build -o /app .\n", true, []string{"compile-on-target@2/warning"}},
		{"cargo on the target", "FROM rust:1.80\nRUN cargo build --release\n", true, []string{"compile-on-target@2/warning"}},
		{"npm build script on the target", "FROM node:20\nRUN npm ci && npm run build\n", true, []string{"compile-on-target@2/warning"}},
		{"yarn build on the target", "FROM node:20\nRUN yarn build\n", true, []string{"compile-on-target@2/warning"}},
		{"make after env on the target", "FROM debian:12\nRUN apt-get update \\\n && CFLAGS=-O2 make -j4\n", true, []string{"compile-on-target@2/warning"}},
		{"gcc, mvn, cmake on the target", "FROM debian:12\nRUN gcc -o a a.c; mvn package; cmake .\n", true, []string{"compile-on-target@2/warning"}},
		{"installing make is not compiling", "FROM debian:12\nRUN apt-get install -y make gcc\n", true, nil},
		{"npm ci alone is not a build", "FROM node:20\nRUN npm ci --omit=dev\n", true, nil},
		{"compiling on the build platform", "FROM --platform=$BUILDPLATFORM node:20 AS ui\nRUN npm run build\n", true, nil},
		// go-arch
		{"cross-compiled from TARGETARCH", "FROM --platform=$BUILDPLATFORM golang:1.26 AS b\nARG TARGETOS TARGETARCH\nRUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build .\n", true, nil},
		{"exported from TARGETARCH", "FROM --platform=$BUILDPLATFORM golang:1.26 AS b\nARG TARGETARCH\nRUN export GOARCH=${TARGETARCH} && go build .\n", true, nil},
		{"ENV from TARGETARCH", "FROM --platform=$BUILDPLATFORM golang:1.26 AS b\nARG TARGETARCH\nENV GOARCH=$TARGETARCH\nRUN go build .\n", true, nil},
		{"build platform without GOARCH", "FROM --platform=$BUILDPLATFORM golang:1.26 AS b\nRUN CGO_ENABLED=0 GOOS=linux go build .\n", true, []string{"go-arch@2/error"}},
		{"hard-coded GOARCH", "FROM --platform=$BUILDPLATFORM golang:1.26 AS b\nRUN GOARCH=amd64 go build .\n", true, []string{"go-arch@2/error"}},
		{"GOOS without GOARCH on the target", "FROM golang:1.26\nRUN GOOS=linux go build .\n", true, []string{"compile-on-target@2/warning", "go-arch@2/warning"}},
		// fixed-arch-download
		{"fixed amd64 download", "FROM debian:12\nRUN curl -fsSLO https://example.com/tool-linux-amd64.tar.gz\n", true, []string{"fixed-arch-download@2/warning"}},
		{"fixed x86_64 file copied", "FROM debian:12\nCOPY tool_x86_64.deb /tmp/\n", true, []string{"fixed-arch-download@2/warning"}},
		{"arch package", "FROM debian:12\nRUN apt-get install -y libc6:amd64\n", true, []string{"fixed-arch-download@2/warning"}},
		{"download selected by TARGETARCH", "FROM debian:12\nARG TARGETARCH\nRUN curl -fsSLO https://example.com/tool-linux-${TARGETARCH}.tar.gz https://example.com/amd64/readme.txt\n", true, nil},
		{"download selected by uname -m", "FROM debian:12\nRUN a=$(uname -m) && curl -O https://example.com/tool-x86_64 || true\n", true, nil},
		{"a loop over several is a note", "FROM debian:12\nRUN for f in tool-amd64.tgz tool-arm64.tgz; do echo $f; done\n", true, []string{"fixed-arch-download@2/note"}},
		{"a case label is not a download", "FROM debian:12\nARG TARGETARCH\nRUN case \"$TARGETARCH\" in arm64) echo a ;; esac\n", true, nil},
		// unpinned-base
		{"no tag", "FROM debian\n", true, []string{"unpinned-base@1/warning"}},
		{"latest", "FROM registry.example.com:5000/team/debian:latest\n", true, []string{"unpinned-base@1/warning"}},
		{"ARG default unpinned", "ARG BASE=debian\nFROM ${BASE}\n", true, []string{"unpinned-base@2/warning"}},
		{"pinned tag, port in host", "FROM localhost:5000/debian:bookworm-slim\n", true, nil},
		{"digest", "FROM debian@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", true, nil},
		{"arg set by the run", "ARG JUPYTERHUB_IMAGE\nFROM ${JUPYTERHUB_IMAGE}\n", true, nil},
		{"earlier stage and scratch", "FROM debian:12 AS base\nFROM base\nFROM scratch\n", true, nil},
		// a FROM scratch or distroless final stage takes a compiled binary:
		// its compile stage must be on $BUILDPLATFORM cross-compiling with
		// TARGETARCH, or an existing rule fires
		{"scratch, compiled on the target", "FROM golang:1.26-bookworm AS build\nRUN CGO_ENABLED=0 go build -o /hello .\nFROM scratch\nCOPY --from=build /hello /hello\n", true,
			[]string{"compile-on-target@2/warning"}},
		{"distroless, compiled on the target", "FROM rust:1.80 AS build\nRUN cargo build --release\nFROM gcr.io/distroless/cc-debian12:nonroot\nCOPY --from=build /t/app /app\n", true,
			[]string{"compile-on-target@2/warning"}},
		{"scratch, build platform without TARGETARCH", "FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build\nRUN CGO_ENABLED=0 GOOS=linux go build -o /hello .\nFROM scratch\nCOPY --from=build /hello /hello\n", true,
			[]string{"go-arch@2/error"}},
		{"distroless, build platform, GOARCH fixed", "FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build\nRUN GOARCH=amd64 go build -o /hello .\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /hello /hello\n", true,
			[]string{"go-arch@2/error"}},
		{"scratch, cross-compiled by TARGETARCH", "FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build\nARG TARGETOS TARGETARCH\nRUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /hello .\nFROM scratch\nCOPY --from=build /hello /hello\n", true, nil},
		// undeclared-platform-arg
		{"TARGETARCH not declared", "FROM debian:12\nRUN echo $TARGETARCH\n", true, []string{"undeclared-platform-arg@2/error", "fixed-arch-download@2/warning"}[:1]},
		{"braced, in ENV", "FROM debian:12\nENV A=${TARGETOS}\n", true, []string{"undeclared-platform-arg@2/error"}},
		{"declared in the stage", "FROM debian:12\nARG TARGETARCH\nRUN echo $TARGETARCH\n", true, nil},
		{"declared in another stage only", "FROM debian:12 AS a\nARG TARGETARCH\nFROM debian:12\nRUN echo $TARGETARCH\n", true, []string{"undeclared-platform-arg@4/error"}},
		{"in FROM is global", "FROM --platform=$BUILDPLATFORM debian:12\n", true, nil},
		// whole-context
		{"COPY . without .dockerignore", "FROM debian:12\nCOPY . /src\n", false, []string{"whole-context@2/warning"}},
		{"ADD ./ without .dockerignore", "FROM debian:12\nADD ./ /src\n", false, []string{"whole-context@2/warning"}},
		{"COPY . with .dockerignore", "FROM debian:12\nCOPY . /src\n", true, nil},
		{"COPY --from=stage .", "FROM debian:12 AS a\nFROM debian:12\nCOPY --from=a . /src\n", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, rules(t, tc.dockerfile, tc.dockerignore))
		})
	}
}

func TestFindingNamesFileStageAndFix(t *testing.T) {
	fs, err := File("components/api/Dockerfile", []byte("FROM golang:1.26 AS build\nRUN go build .\n"), true)
	require.NoError(t, err)
	require.Len(t, fs, 1)
	f := fs[0]
	assert.Equal(t, Finding{File: "components/api/Dockerfile", Line: 2, Stage: "build", Rule: "compile-on-target", Severity: Warning,
		Why: f.Why, Fix: f.Fix, Detail: "go build"}, f)
	assert.Contains(t, f.Fix, "--platform=$BUILDPLATFORM")
	assert.Contains(t, f.String(), "components/api/Dockerfile:2: warning [compile-on-target] stage build")
}

func TestUnreadable(t *testing.T) {
	_, err := File("x/Dockerfile", []byte("FROM debian:12\nCOPY\n"), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x/Dockerfile")
}

func TestParseSeverity(t *testing.T) {
	s, err := ParseSeverity("warning")
	require.NoError(t, err)
	assert.Equal(t, Warning, s)
	_, err = ParseSeverity("fatal")
	assert.ErrorContains(t, err, "use note, warning or error")
}

// large is a Dockerfile of about n lines over six stages.
func large(n int) []byte {
	var b strings.Builder
	stage := n / 6
	for s := 0; s < 6; s++ {
		if s < 5 {
			fmt.Fprintf(&b, "FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS s%d\nARG TARGETOS TARGETARCH\n", s)
		} else {
			b.WriteString("FROM debian:bookworm-slim\nARG TARGETOS TARGETARCH\n")
		}
		for i := 0; i < stage-2; i += 3 {
			fmt.Fprintf(&b, "RUN apt-get update \\\n && curl -fsSLO https://example.com/t%d-${TARGETARCH}.tgz \\\n && GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/%d .\n", i, i)
		}
	}
	return []byte(b.String())
}

func TestLargeIsClean(t *testing.T) {
	data := large(2000)
	assert.GreaterOrEqual(t, strings.Count(string(data), "\n"), 1990)
	fs, err := File("Dockerfile", data, true)
	require.NoError(t, err)
	// Only the final stage compiles on the target.
	assert.Len(t, fs, 1)
}

// BenchmarkLargeDockerfile: a 2,000-line Dockerfile of six stages.
func BenchmarkLargeDockerfile(b *testing.B) {
	data := large(2000)
	for b.Loop() {
		if _, err := File("Dockerfile", data, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComponents: the 12 components' Dockerfiles, read and linted.
func BenchmarkComponents(b *testing.B) {
	fsys := os.DirFS("../../components")
	for b.Loop() {
		fs, err := Dir(fsys, "components")
		if err != nil || len(fs) > 0 {
			b.Fatal(err, fs)
		}
	}
}

func TestComponentsLintClean(t *testing.T) {
	fs, err := Dir(os.DirFS("../../components"), "components")
	require.NoError(t, err)
	assert.Empty(t, fs, "the 12 components lint clean, notes included")
}

func TestFinal(t *testing.T) {
	cases := []struct {
		name, dockerfile, target, base string
		labels                         []string
	}{
		{"one stage", "FROM debian:bookworm-slim\nLABEL a=1 b=2\n", "", "debian:bookworm-slim", []string{"a", "b"}},
		{"from an earlier stage", "ARG BASE=debian:bookworm-slim\nFROM ${BASE} AS one\nLABEL a=1\nFROM golang:1.26 AS build\nFROM one\nLABEL c=3\n", "", "debian:bookworm-slim", []string{"c", "a"}},
		{"target", "FROM alpine:3 AS first\nFROM debian:12\n", "first", "alpine:3", nil},
		{"arg without default", "ARG DEP_IMAGE\nFROM ${DEP_IMAGE}\n", "", "", nil},
		{"scratch", "FROM scratch\nLABEL x=y\n", "", "", []string{"x"}},
		{"pinned", "FROM debian@sha256:0123456789012345678901234567890123456789012345678901234567890123\n", "", "debian@sha256:0123456789012345678901234567890123456789012345678901234567890123", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, labels, err := Final("Dockerfile", []byte(tc.dockerfile), tc.target)
			require.NoError(t, err)
			assert.Equal(t, tc.base, base)
			assert.Equal(t, tc.labels, labels)
		})
	}
	_, _, err := Final("x/Dockerfile", []byte("FROM debian:12\n"), "nope")
	assert.ErrorContains(t, err, `x/Dockerfile has no stage "nope"`)
}

func TestScratch(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile, target string
		want                     bool
	}{
		{"last stage", "FROM --platform=$BUILDPLATFORM golang:1.26 AS build\nFROM scratch\nCOPY --from=build /a /a\n", "", true},
		{"through an earlier stage", "FROM scratch AS empty\nCOPY a /a\nFROM empty\n", "", true},
		{"through an ARG default", "ARG BASE=scratch\nFROM ${BASE}\n", "", true},
		{"target on a base image", "FROM scratch AS bin\nFROM debian:12 AS full\n", "full", false},
		{"target on scratch", "FROM scratch AS bin\nFROM debian:12 AS full\n", "bin", true},
		{"a base image", "FROM gcr.io/distroless/static-debian12\n", "", false},
		{"an ARG without default", "ARG DEP_IMAGE\nFROM ${DEP_IMAGE}\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Scratch("Dockerfile", []byte(tc.dockerfile), tc.target)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := Scratch("x/Dockerfile", []byte("FROM scratch\n"), "nope")
	assert.ErrorContains(t, err, `x/Dockerfile has no stage "nope"`)
}

// TestDirSyntax: a fragment the parser cannot read is one syntax finding on
// that file, at the line the parser names, and the other files are still
// linted (as in the real tree, where Dockerfile.jupyterhub-redis hid the
// findings of the 13 others).
func TestDirSyntax(t *testing.T) {
	fsys := fstest.MapFS{
		"jupyterhub/Dockerfile.jupyterhub-redis": {Data: []byte("# a fragment\nRUN pip install redis\n")},
		"broken/Dockerfile":                      {Data: []byte("FROM debian:bookworm-slim\nCOPY onlyone\n")},
		"web/Dockerfile":                         {Data: []byte("FROM debian\n")},
	}
	found, err := Dir(fsys, "src")
	require.NoError(t, err)
	byFile := map[string]Finding{}
	for _, f := range found {
		byFile[f.File] = f
	}
	require.Len(t, byFile, 3, "%v", found)
	for file, line := range map[string]int{"src/jupyterhub/Dockerfile.jupyterhub-redis": 2, "src/broken/Dockerfile": 2} {
		f := byFile[file]
		assert.Equal(t, "syntax", f.Rule, file)
		assert.Equal(t, Error, f.Severity, file)
		assert.Equal(t, line, f.Line, file)
		assert.NotContains(t, f.Detail, file, "the file is named once, in the finding")
	}
	assert.Contains(t, byFile["src/jupyterhub/Dockerfile.jupyterhub-redis"].Detail, "no build stage in current context")
	assert.Equal(t, "unpinned-base", byFile["src/web/Dockerfile"].Rule, "the files after a broken one are linted")
}
