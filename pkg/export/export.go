package export

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"dagger.io/dagger"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	builder "github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/bundle"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
)

// SumsFile lists "sha256  name" for every archive and bundle.json, as
// sha256sum -c reads it.
const SumsFile = bundle.SumsFile

// Archive is one component's OCI archive.
type Archive struct {
	Component string
	Name      string       // file name, <image>_<version>.oci.tar
	File      *dagger.File // the archive in the engine
	SHA256    string
	Platforms []string
	Entry     bundle.Entry // its entry in bundle.json
}

// Write exports every planned component's variants as one multi-platform OCI
// archive into dir, checks each archive's index holds every platform, and
// writes bundle.json and SHA256SUMS (see pkg/bundle).
func Write(ctx context.Context, c *dagger.Client, p *plan.Plan, variants map[string][]builder.Variant, version, dir string) ([]Archive, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []Archive
	var entries []bundle.Entry
	for _, comp := range p.Components {
		vs := variants[comp.Name]
		if len(vs) == 0 {
			return nil, fmt.Errorf("%s: nothing built to export", comp.Name)
		}
		ctrs := make([]*dagger.Container, len(vs))
		var platforms []string
		for i, v := range vs {
			ctrs[i], platforms = v.Container, append(platforms, string(v.Platform))
		}
		a := Archive{Component: comp.Name, Name: fmt.Sprintf("%s_%s.oci.tar", strings.ReplaceAll(comp.Image, "/", "_"), version), Platforms: platforms}
		a.File = c.Container().AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: ctrs, MediaTypes: dagger.ImageMediaTypesOcimediaTypes})
		path := filepath.Join(dir, a.Name)
		if _, err := a.File.Export(ctx, path); err != nil {
			return nil, fmt.Errorf("%s: exporting %s: %w", comp.Name, a.Name, err)
		}
		sum, err := Check(path, platforms)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", comp.Name, err)
		}
		a.SHA256 = sum
		a.Entry, err = bundle.Describe(dir, bundle.Entry{File: a.Name, Kind: bundle.KindComponent, Name: comp.Name,
			Repository: comp.Image, Platforms: platforms, Tags: []string{version}, SHA256: sum})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", comp.Name, err)
		}
		entries = append(entries, a.Entry)
		out = append(out, a)
	}
	if err := bundle.Write(dir, entries); err != nil {
		return nil, err
	}
	return out, nil
}

// Directory is the archives, the third-party archives written in dir (see
// bundle.WriteThirdParty), bundle.json and SHA256SUMS as an engine
// directory. Sync it before dir goes: the third-party files are read from it.
func Directory(c *dagger.Client, archives []Archive, thirdParty []bundle.Entry, dir string) *dagger.Directory {
	d := c.Directory()
	var entries []bundle.Entry
	for _, a := range archives {
		d = d.WithFile(a.Name, a.File)
		entries = append(entries, a.Entry)
	}
	for _, e := range thirdParty {
		d = d.WithFile(e.File, c.Host().File(filepath.Join(dir, e.File)))
	}
	manifest, sums := bundle.Files(append(entries, thirdParty...))
	return d.WithNewFile(bundle.ManifestFile, string(manifest)).WithNewFile(SumsFile, string(sums))
}

// Check returns the archive's sha256 after checking that its index.json
// lists exactly platforms (an index nested one level, as the engine writes it,
// counts).
func Check(path string, platforms []string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(f, h))
	blobs := map[string][]byte{}
	var index []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", path, err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if name == "index.json" || strings.HasPrefix(name, "blobs/sha256/") && hdr.Size < 1<<20 {
			data, err := io.ReadAll(tr)
			if err != nil {
				return "", err
			}
			if name == "index.json" {
				index = data
			} else {
				blobs["sha256:"+strings.TrimPrefix(name, "blobs/sha256/")] = data
			}
		}
	}
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if index == nil {
		return "", fmt.Errorf("%s has no index.json: not an OCI archive", path)
	}
	got, err := archivePlatforms(index, blobs)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if strings.Join(got, ",") != strings.Join(platforms, ",") {
		return "", fmt.Errorf("%s holds platforms %v, want %v", path, got, platforms)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func archivePlatforms(index []byte, blobs map[string][]byte) ([]string, error) {
	var m v1.IndexManifest
	if err := json.Unmarshal(index, &m); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	// The engine may wrap the multi-platform index in a one-entry index.
	if len(m.Manifests) == 1 && m.Manifests[0].Platform == nil && m.Manifests[0].MediaType.IsIndex() {
		inner, ok := blobs[m.Manifests[0].Digest.String()]
		if !ok {
			return nil, fmt.Errorf("nested index %s missing", m.Manifests[0].Digest)
		}
		return archivePlatforms(inner, blobs)
	}
	var out []string
	for _, d := range m.Manifests {
		p := d.Platform
		if p == nil {
			// The engine writes a single variant as a plain image entry:
			// its platform is the one in its image config.
			var err error
			if p, err = configPlatform(d, blobs); err != nil {
				return nil, err
			}
		}
		out = append(out, p.OS+"/"+p.Architecture)
	}
	return out, nil
}

// configPlatform reads the platform of image entry d from its config blob.
func configPlatform(d v1.Descriptor, blobs map[string][]byte) (*v1.Platform, error) {
	var m v1.Manifest
	if err := json.Unmarshal(blobs[d.Digest.String()], &m); err != nil || m.Config.Digest.String() == "" {
		return nil, fmt.Errorf("entry %s has no platform and no readable image manifest", d.Digest)
	}
	var cf v1.ConfigFile
	if err := json.Unmarshal(blobs[m.Config.Digest.String()], &cf); err != nil || cf.OS == "" {
		return nil, fmt.Errorf("entry %s has no platform and no readable image config", d.Digest)
	}
	return &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}, nil
}
