// Package sbom lists what is inside a variant, as SPDX 2.3 JSON, with
// anchore/syft run in the engine against the variant's file system: Debian
// packages from the dpkg database, Python distributions, and Go modules
// from the build info of Go binaries. The same variant gives the same bytes.
package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"dagger.io/dagger"
)

// SyftVersion is the syft release matrix runs.
const SyftVersion = "v1.57.2"

// DefaultImage is where syft comes from unless --syft-image says otherwise:
// the upstream image, pinned, listed with the third-party images so that an
// air-gapped site mirrors it like the others. Each engine pulls it in
// seconds, where compiling syft took minutes per engine.
const DefaultImage = "docker.io/anchore/syft:" + SyftVersion

// FromSource, given as the image, compiles syft in the engine from the Go
// module proxy instead (the fallback for a site that cannot mirror the image).
const FromSource = "source"

// MediaType is an SPDX JSON document's, also the referrer's artifact type.
const MediaType = "application/spdx+json"

// ToolImage is where syft is compiled from source: the same Go image the
// components' Go stages use, so an air-gapped mirror already holds it.
var ToolImage = "golang:1.26-bookworm"

// ScanImage holds syft compiled from source while it reads the variant.
var ScanImage = "debian:bookworm-slim"

// Document names what the SBOM is about, and where syft comes from. Digest (the variant's manifest)
// makes the namespace, and Created (the source's time) replaces syft's
// wall clock.
type Document struct {
	Name    string // e.g. registry/ai-infra-nginx@sha256:...
	Digest  string
	Created string // RFC 3339; empty: the Unix epoch
	Image   string // the syft image (--syft-image); empty: DefaultImage; FromSource: compiled
	GoProxy string // the Go module proxy syft is compiled from (FromSource; --go-proxy); empty: the Go default
}

// Namespace is the SPDX document namespace of an SBOM about digest.
func Namespace(digest string) string {
	return "https://github.com/ai-infra-matrix/matrix/spdx/" + strings.Replace(digest, ":", "-", 1)
}

// settings pin syft: installed packages only (the image catalogers, also
// on a directory), no per-file digests or ownership lists, no update
// check, no network, and no config file read from anywhere.
var settings = []string{
	"TMPDIR=/tmp",
	"SYFT_CHECK_FOR_APP_UPDATE=false",
	"SYFT_FILE_METADATA_SELECTION=none",
	"SYFT_RELATIONSHIPS_PACKAGE_FILE_OWNERSHIP=false",
	"SYFT_GOLANG_USE_PACKAGES_LIB=false",
	"SYFT_CACHE_TTL=0",
	"HOME=/nonexistent",
}

var tools sync.Map // *dagger.Client → *dagger.File

// compiled is syft, compiled once per client (and cached by the engine), from
// goProxy (empty: the Go default).
func compiled(c *dagger.Client, goProxy string) *dagger.File {
	if f, ok := tools.Load(c); ok {
		return f.(*dagger.File)
	}
	build := c.Container().From(ToolImage)
	if goProxy != "" {
		build = build.WithEnvVariable("GOPROXY", goProxy)
	}
	f := build.
		WithEnvVariable("CGO_ENABLED", "0").
		WithMountedCache("/go/pkg/mod", c.CacheVolume("matrix-sbom-gomod")).
		WithMountedCache("/root/.cache/go-build", c.CacheVolume("matrix-sbom-gobuild")).
		WithExec([]string{"go", "install", "-trimpath", "-ldflags", "-s -w -X main.version=" + strings.TrimPrefix(SyftVersion, "v"),
			"github.com/anchore/syft/cmd/syft@" + SyftVersion}).
		File("/go/bin/syft")
	got, _ := tools.LoadOrStore(c, f)
	return got.(*dagger.File)
}

// Scan is the SBOM of ctr's file system, from syft in a container of the
// engine's own platform (the variant's files are only read, whatever their
// architecture).
func Scan(ctx context.Context, c *dagger.Client, ctr *dagger.Container, d Document) ([]byte, error) {
	out, err := scanner(c, d).
		WithMountedDirectory("/rootfs", ctr.Rootfs()).
		WithExec([]string{"syft", "scan", "dir:/rootfs", "--override-default-catalogers", "image",
			"--source-name", d.Name, "--source-version", d.Digest, "-q", "-o", "spdx-json@2.3=/tmp/sbom.json"}).
		File("/tmp/sbom.json").Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("syft %s (%s): %w", SyftVersion, d.image(), err)
	}
	return Settle([]byte(out), d)
}

func (d Document) image() string {
	if d.Image == "" {
		return DefaultImage
	}
	return d.Image
}

// scanner is a container that runs syft: the syft image (FROM scratch,
// syft at /syft) or, FromSource, the scan image with syft compiled.
func scanner(c *dagger.Client, d Document) *dagger.Container {
	var ctr *dagger.Container
	if img := d.image(); img == FromSource {
		ctr = c.Container().From(ScanImage).WithMountedFile("/usr/local/bin/syft", compiled(c, d.GoProxy))
	} else {
		ctr = c.Container().From(img).WithEnvVariable("PATH", "/:/usr/local/bin:/usr/bin:/bin")
	}
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		ctr = ctr.WithEnvVariable(k, v)
	}
	return ctr
}

// Settle replaces the two fields syft makes up each run, the creation time
// and the namespace's random part, in place: re-encoding would reorder the
// document.
func Settle(doc []byte, d Document) ([]byte, error) {
	var head struct {
		Namespace    string `json:"documentNamespace"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, fmt.Errorf("syft wrote no SPDX JSON: %w", err)
	}
	if head.Namespace == "" || head.CreationInfo.Created == "" {
		return nil, fmt.Errorf("syft's SPDX JSON has no documentNamespace or creationInfo.created")
	}
	created := d.Created
	if created == "" {
		created = "1970-01-01T00:00:00Z"
	}
	quote := func(s string) []byte { b, _ := json.Marshal(s); return b }
	doc = bytes.Replace(doc, append([]byte(`"documentNamespace":`), quote(head.Namespace)...),
		append([]byte(`"documentNamespace":`), quote(Namespace(d.Digest))...), 1)
	doc = bytes.Replace(doc, append([]byte(`"created":`), quote(head.CreationInfo.Created)...),
		append([]byte(`"created":`), quote(created)...), 1)
	return doc, nil
}

// Packages are the purls an SPDX JSON document lists (for tests and counts).
func Packages(doc []byte) ([]string, error) {
	var d struct {
		Packages []struct {
			ExternalRefs []struct {
				Type    string `json:"referenceType"`
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range d.Packages {
		for _, r := range p.ExternalRefs {
			if r.Type == "purl" {
				out = append(out, r.Locator)
			}
		}
	}
	return out, nil
}
