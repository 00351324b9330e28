package world

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Upstreams are the stand-in upstream images SeedUpstream pushes, by
// reference under the registry, with the arches each holds: one with every
// platform, one that lacks linux/arm64 (a mirror of it must fail that cell).
var Upstreams = map[string][]string{
	"upstream/standin:1.0":   {"amd64", "arm64"},
	"upstream/amd64only:1.0": {"amd64"},
}

// SeedUpstream pushes the stand-in upstream images to registry (host:port,
// plain HTTP), for the third-party mirror and bundle to copy in the world.
// The images are built the same every time, so an image already there is
// left alone.
func SeedUpstream(ctx context.Context, registry string) error {
	tmp, err := os.MkdirTemp("", "matrix-upstream-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for ref, arches := range Upstreams {
		idx, err := standin(tmp, ref, arches)
		if err != nil {
			return err
		}
		r, err := Ref(registry, ref)
		if err != nil {
			return err
		}
		want, err := idx.Digest()
		if err != nil {
			return err
		}
		if d, err := remote.Head(r, remote.WithContext(ctx)); err == nil && d.Digest == want {
			continue
		}
		if err := remote.WriteIndex(r, idx, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("pushing %s: %w", r, err)
		}
	}
	return nil
}

// standin is a small index of one image per arch, each a layer with one
// file that says what it is.
func standin(tmp, ref string, arches []string) (v1.ImageIndex, error) {
	images := map[string]v1.Image{}
	for _, a := range arches {
		note := filepath.Join(tmp, "note")
		if err := os.WriteFile(note, []byte("matrix stand-in upstream "+ref+" for linux/"+a+"\n"), 0o644); err != nil {
			return nil, err
		}
		t, err := NewTar(tmp)
		if err != nil {
			return nil, err
		}
		if err := t.File("standin.txt", note, 0o644); err != nil {
			return nil, err
		}
		l, err := t.Layer()
		if err != nil {
			return nil, err
		}
		if images[a], err = Image(a, []string{"PATH=" + defaultPath}, []string{"cat", "/standin.txt"}, l); err != nil {
			return nil, err
		}
	}
	return IndexOf(arches, images), nil
}
