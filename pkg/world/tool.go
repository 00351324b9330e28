package world

import (
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// SeedTool pushes the stand-in of an upstream tool image, such as
// anchore/syft: FROM scratch with the binary at /NAME as its entrypoint,
// the CA bundle and a /tmp, as upstream ships it. binaries maps each arch
// to the tool compiled for it; the index holds those arches only.
func SeedTool(registry, image, name string, binaries map[string]string) error {
	tmp, err := os.MkdirTemp("", "matrix-tool-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var arches []string
	images := map[string]v1.Image{}
	for _, a := range Arches {
		bin := binaries[a]
		if bin == "" {
			continue
		}
		t, err := NewTar(tmp)
		if err != nil {
			return err
		}
		if err := toolFiles(t, name, bin); err != nil {
			return fmt.Errorf("%s for %s: %w", image, a, err)
		}
		l, err := t.Layer()
		if err != nil {
			return err
		}
		img, err := Image(a, []string{"PATH=/"}, nil, l)
		if err != nil {
			return err
		}
		if images[a], err = entrypoint(img, "/"+name); err != nil {
			return err
		}
		arches = append(arches, a)
	}
	if len(arches) == 0 {
		return fmt.Errorf("%s: no binary given for any of %v", image, Arches)
	}
	ref, err := Ref(registry, image)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(ref, IndexOf(arches, images)); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

func toolFiles(t *TarWriter, name, bin string) error {
	for _, d := range []string{"etc", "etc/ssl", "etc/ssl/certs"} {
		if err := t.Dir(d); err != nil {
			return err
		}
	}
	if err := t.File("etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt", 0o644); err != nil {
		return err
	}
	if err := t.DirMode("tmp", 0o1777); err != nil {
		return err
	}
	return t.File(name, bin, 0o755)
}

func entrypoint(img v1.Image, path string) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = []string{path}
	return mutate.ConfigFile(img, cf)
}
