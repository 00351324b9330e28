// Package bundle is the offline bundle: one multi-platform OCI archive per
// component and per third-party image, bundle.json describing them, and
// SHA256SUMS over them all; Import pushes a checked bundle into a private
// registry on the air-gapped side.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// The bundle's own files, beside the archives.
const (
	ManifestFile = "bundle.json"
	SumsFile     = "SHA256SUMS" // "sha256  name" for every archive and bundle.json, as sha256sum -c reads it
)

// Kinds of archive.
const (
	KindComponent  = "component"
	KindThirdParty = "third-party"
)

// ManifestVersion is the bundle.json format this matrix writes and reads.
const ManifestVersion = 1

// Manifest is bundle.json.
type Manifest struct {
	Version  int     `json:"version"`
	Archives []Entry `json:"archives"`
}

// Entry is one archive of the bundle.
type Entry struct {
	File            string                  `json:"file"`             // archive file name in the bundle directory
	Kind            string                  `json:"kind"`             // component or third-party
	Name            string                  `json:"name"`             // the component, or the third-party cell name
	Repository      string                  `json:"repository"`       // the repository under the target registry
	Source          string                  `json:"source,omitempty"` // third-party: the upstream, pinned by digest
	Platforms       []string                `json:"platforms"`
	Digest          string                  `json:"digest"`           // the index (or single image) the archive holds
	PlatformDigests []report.PlatformDigest `json:"platform_digests"` // each platform's manifest, in Platforms order
	Tags            []string                `json:"tags"`
	SHA256          string                  `json:"sha256"` // of the archive file, as in SHA256SUMS
}

// Files are the contents of bundle.json and SHA256SUMS for entries (in
// their order). SHA256SUMS lists bundle.json too.
func Files(entries []Entry) (manifest, sums []byte) {
	manifest, _ = json.MarshalIndent(Manifest{Version: ManifestVersion, Archives: entries}, "", "  ") // plain data: cannot fail
	manifest = append(manifest, '\n')
	var b bytes.Buffer
	for _, e := range entries {
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.File)
	}
	sum := sha256.Sum256(manifest)
	fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), ManifestFile)
	return manifest, b.Bytes()
}

// Write writes bundle.json and SHA256SUMS for entries into dir, whose
// archive file names must be plain, distinct and not the bundle's own.
func Write(dir string, entries []Entry) error {
	seen := map[string]bool{ManifestFile: true, SumsFile: true}
	for _, e := range entries {
		if e.File == "" || e.File != filepath.Base(e.File) || seen[e.File] {
			return fmt.Errorf("archive file name %q is empty, a path, reserved or used twice", e.File)
		}
		seen[e.File] = true
	}
	manifest, sums := Files(entries)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), manifest, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SumsFile), sums, 0o644)
}

// Describe fills in e's digests from the archive dir/e.File (its root and
// each of e.Platforms), checking every platform is there.
func Describe(dir string, e Entry) (Entry, error) {
	a, err := archive.Open(filepath.Join(dir, e.File))
	if err != nil {
		return e, err
	}
	defer a.Close()
	root, err := a.Root()
	if err != nil {
		return e, err
	}
	d, pds, err := digests(root, e.Platforms)
	if err != nil {
		return e, fmt.Errorf("%s: %w", e.File, err)
	}
	e.Digest, e.PlatformDigests = d, pds
	return e, nil
}

// parseSums reads SHA256SUMS: file name to sha256.
func parseSums(data []byte) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		if !ok {
			sum, file, ok = strings.Cut(line, " *")
		}
		if !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" || file == "" {
			return nil, nil, fmt.Errorf("line %d is not \"sha256  name\"", i+1)
		}
		if file != filepath.Base(file) || file == "." || file == ".." {
			return nil, nil, fmt.Errorf("line %d: %q is not a file of the bundle directory", i+1, file)
		}
		if _, dup := out[file]; dup {
			return nil, nil, fmt.Errorf("line %d: %s is listed twice", i+1, file)
		}
		out[file] = sum
		order = append(order, file)
	}
	return out, order, nil
}
