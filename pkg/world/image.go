package world

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Arches are the platforms every base image is seeded for, in index order.
var Arches = []string{"amd64", "arm64"}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Image is an OCI image for linux/arch made of layers, with env and cmd in its config.
func Image(arch string, env, cmd []string, layers ...v1.Layer) (v1.Image, error) {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Env, cf.Config.Cmd = env, cmd
	cf.Created = v1.Time{Time: archive.Epoch}
	return mutate.ConfigFile(img, cf)
}

// Index is an OCI index of one image per arch, each entry carrying its platform
// (BuildKit cannot resolve an index whose entries lack one).
func Index(images map[string]v1.Image) v1.ImageIndex { return IndexOf(Arches, images) }

// IndexOf is Index over the given arches, in that order.
func IndexOf(arches []string, images map[string]v1.Image) v1.ImageIndex {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, a := range arches {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        images[a],
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: a}},
		})
	}
	return idx
}

// Ref parses an image reference on a plain-HTTP local registry.
func Ref(registry, image string) (name.Reference, error) {
	if !strings.Contains(image, "/") {
		image = "library/" + image
	}
	ref, err := name.ParseReference(registry+"/"+image, name.Insecure)
	if err != nil {
		return nil, fmt.Errorf("parsing reference %q: %w", image, err)
	}
	return ref, nil
}

// HasAllArches reports whether ref is an index holding every arch of Arches.
func HasAllArches(ref name.Reference) bool {
	idx, err := remote.Index(ref)
	if err != nil {
		return false
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" {
			seen[d.Platform.Architecture] = true
		}
	}
	for _, a := range Arches {
		if !seen[a] {
			return false
		}
	}
	return true
}

// goMode makes the toolchain's programs executable: module zips carry no modes.
func goMode(rel string) int64 {
	if strings.HasPrefix(rel, "bin/") || strings.HasPrefix(rel, "pkg/tool/") {
		return 0o755
	}
	return 0o644
}

// GoLayer puts the Go toolchain directory goroot at /usr/local/go, plus the
// empty GOPATH and build cache directories the Go SDK runtime expects.
func GoLayer(tmp, goroot string) (v1.Layer, error) {
	t, err := NewTar(tmp)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"usr", "usr/local"} {
		if err := t.Dir(d); err != nil {
			return nil, err
		}
	}
	if err := t.Tree(goroot, "usr/local/go", goMode); err != nil {
		return nil, fmt.Errorf("adding Go toolchain %s: %w", goroot, err)
	}
	for _, d := range []string{"go", "go/bin", "go/pkg", "go/pkg/mod", "go/src", "root", "root/.cache", "root/.cache/go-build"} {
		if err := t.Dir(d); err != nil {
			return nil, err
		}
	}
	return t.Layer()
}

// GoEnv is the config environment of images that carry Go.
func GoEnv(goVersion string) []string {
	return []string{
		"PATH=/go/bin:/usr/local/go/bin:" + defaultPath,
		"GOPATH=/go",
		"GOLANG_VERSION=" + goVersion,
	}
}

// SDKRuntime writes the Go SDK runtime image as an OCI layout in out and
// returns its manifest digest (the engine finds it by that digest).
func SDKRuntime(out, rootfs, goroot, codegen, goVersion string) (v1.Hash, error) {
	tmp, err := os.MkdirTemp("", "matrix-sdk-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(tmp)
	base, err := LayerFile(rootfs)
	if err != nil {
		return v1.Hash{}, err
	}
	goLayer, err := GoLayer(tmp, goroot)
	if err != nil {
		return v1.Hash{}, err
	}
	t, err := NewTar(tmp)
	if err != nil {
		return v1.Hash{}, err
	}
	for _, d := range []string{"usr", "usr/local", "usr/local/bin"} {
		if err := t.Dir(d); err != nil {
			return v1.Hash{}, err
		}
	}
	if err := t.File("usr/local/bin/codegen", codegen, 0o755); err != nil {
		return v1.Hash{}, fmt.Errorf("adding codegen %s: %w", codegen, err)
	}
	cg, err := t.Layer()
	if err != nil {
		return v1.Hash{}, err
	}
	env := append(GoEnv(goVersion), "GOTOOLCHAIN=auto")
	img, err := Image("amd64", env, nil, base, goLayer, cg)
	if err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("writing layout %s: %w", out, err)
	}
	if err := p.AppendImage(img); err != nil {
		return v1.Hash{}, fmt.Errorf("writing SDK runtime to %s: %w", out, err)
	}
	return img.Digest()
}

// Seed builds debian:bookworm-slim and golang:<minor>-bookworm for every arch
// from rootfs tarballs in rootfsDir (debian-ARCH.tar, golang-ARCH.tar) and the
// toolchain directories goroots[arch], and pushes them to registry.
func Seed(registry, rootfsDir string, goroots map[string]string, goVersion string) error {
	tmp, err := os.MkdirTemp("", "matrix-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	debian, golang := map[string]v1.Image{}, map[string]v1.Image{}
	for _, a := range Arches {
		l, err := LayerFile(filepath.Join(rootfsDir, "debian-"+a+".tar"))
		if err != nil {
			return err
		}
		if debian[a], err = Image(a, []string{"PATH=" + defaultPath}, []string{"bash"}, l); err != nil {
			return err
		}
		gl, err := LayerFile(filepath.Join(rootfsDir, "golang-"+a+".tar"))
		if err != nil {
			return err
		}
		if goroots[a] == "" {
			return fmt.Errorf("no Go toolchain given for %s", a)
		}
		tl, err := GoLayer(tmp, goroots[a])
		if err != nil {
			return err
		}
		if golang[a], err = Image(a, GoEnv(goVersion), []string{"bash"}, gl, tl); err != nil {
			return err
		}
	}
	minor := strings.Join(strings.SplitN(goVersion, ".", 3)[:2], ".")
	for tag, imgs := range map[string]map[string]v1.Image{
		"debian:bookworm-slim":          debian,
		"golang:" + minor + "-bookworm": golang,
	} {
		ref, err := Ref(registry, tag)
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(ref, Index(imgs)); err != nil {
			return fmt.Errorf("pushing %s: %w", ref, err)
		}
	}
	return nil
}
