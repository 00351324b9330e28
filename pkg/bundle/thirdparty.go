package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// WriteThirdParty writes each image of l as one archive in dir: its upstream
// index, unchanged, with every platform the run's platforms want of it
// checked first. opts read the upstreams (default mirror.Upstreams). It
// returns the entries for bundle.json and SHA256SUMS (see Write); an image
// that lacks a wanted platform fails the whole call, and what it wrote is
// removed.
func WriteThirdParty(ctx context.Context, l *mirror.List, platforms []string, dir string, opts ...remote.Option) ([]Entry, error) {
	if len(opts) == 0 {
		opts = mirror.Upstreams(ctx, registry.Retry{}, "")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []Entry
	var errs []error
	for _, img := range l.Images {
		want := img.Want(platforms)
		if len(want) == 0 {
			continue
		}
		u := mirror.Resolve(ctx, img, want, opts...)
		if !u.OK() {
			for _, c := range u.Cells() {
				if c.Status == report.Failed {
					errs = append(errs, fmt.Errorf("%s %s failed at %s: %s", c.Component, c.Platform, c.Step, c.Error))
				}
			}
			continue
		}
		e, err := writeOne(dir, u)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", img.Name, err))
			continue
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		for _, e := range out {
			os.Remove(filepath.Join(dir, e.File))
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func writeOne(dir string, u *mirror.Upstream) (Entry, error) {
	digest, err := u.Index.Digest()
	if err != nil {
		return Entry{}, err
	}
	e := Entry{File: archiveName(u.Image, digest), Kind: KindThirdParty, Name: u.Image.Name, Repository: u.Image.Target,
		Source: u.Pinned.String(), Platforms: u.Want, Digest: digest.String(), PlatformDigests: mirror.Digests(u.Found),
		Tags: mirror.Tags(u.Image, nil)}
	if e.SHA256, err = archive.Write(filepath.Join(dir, e.File), u.Index); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// archiveName is <target>_<tag>.oci.tar, or with the digest's first 12
// hex digits for a source pinned by digest only.
func archiveName(img mirror.Image, digest v1.Hash) string {
	version := img.Tag()
	if version == "" {
		version = digest.Algorithm + "-" + digest.Hex[:12]
	}
	return strings.ReplaceAll(img.Target, "/", "_") + "_" + version + ".oci.tar"
}

// digests are root's digest and each platform's manifest digest, every
// platform checked (see mirror.Check).
func digests(root remote.Taggable, platforms []string) (string, []report.PlatformDigest, error) {
	found, err := mirror.Check(root, platforms)
	if err != nil {
		return "", nil, err
	}
	d, err := registry.DigestOf(root)
	if err != nil {
		return "", nil, err
	}
	return d.String(), mirror.Digests(found), nil
}
