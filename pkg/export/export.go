package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
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

// Check returns the archive's sha256 after checking that it holds exactly
// platforms, in that order (see archive.Platforms: an index nested one
// level, as the engine writes it, counts, and so does a single image).
func Check(path string, platforms []string) (string, error) {
	a, err := archive.Open(path)
	if err != nil {
		return "", err
	}
	defer a.Close()
	root, err := a.Root()
	if err != nil {
		return "", err
	}
	got, err := archive.Platforms(root)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if !slices.Equal(got, platforms) {
		return "", fmt.Errorf("%s holds platforms %v, want %v", path, got, platforms)
	}
	return archive.Sum(path)
}
