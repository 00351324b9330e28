// Package mirror copies the third-party images the stack runs with
// (components/third-party.yaml) into the private registry, keeping each
// upstream index and its digests, and moves no final tag unless every image
// holds every requested platform.
package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"

	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// ListName is the list of third-party images, in the components directory.
const ListName = "third-party.yaml"

// DefaultJobs is how many images mirror and import read and push at once.
const DefaultJobs = 4

// DefaultFile is ListName in the default components directory.
const DefaultFile = "components/" + ListName

// Image is one third-party image: one cell per platform.
type Image struct {
	Name      string   // cell name, like a component name
	Source    string   // upstream reference as written, pinned by tag or digest
	Target    string   // repository under the private registry
	Platforms []string // platforms to keep; empty: every requested one
}

// List is a checked third-party list.
type List struct {
	File   string // where it was read, for messages
	Images []Image
}

// Want is the platforms of the run that img is mirrored for, in the run's order.
func (img Image) Want(platforms []string) []string {
	var out []string
	for _, p := range platforms {
		if len(img.Platforms) == 0 || slices.Contains(img.Platforms, p) {
			out = append(out, p)
		}
	}
	return out
}

// Tag is the tag the source names (name:tag or name:tag@sha256:...), or ""
// when it is pinned by digest only.
func (img Image) Tag() string {
	base, _, _ := strings.Cut(img.Source, "@")
	i := strings.LastIndex(base, ":")
	if i < 0 || strings.Contains(base[i+1:], "/") {
		return "" // no tag, or the colon of host:port
	}
	return base[i+1:]
}

// Error is bad input in the list: the file, the entry (images[i] and its
// name), the field, what is wrong and how to fix it.
type Error = component.Error

// raw is the file as written; Parse decodes it with KnownFields.
type raw struct {
	Images []rawImage `yaml:"images"`
}

type rawImage struct {
	Name      string   `yaml:"name"`
	Source    string   `yaml:"source"`
	Target    string   `yaml:"target"`
	Platforms []string `yaml:"platforms"`
}

// entryFields are the keys of one entry, with what a wrong type should be.
var entryFields = map[string]string{
	"name":      "a cell name such as postgres",
	"source":    "an upstream reference such as docker.io/library/postgres:16.4",
	"target":    "a repository name such as postgres",
	"platforms": "a list such as [linux/amd64, linux/arm64]",
}

var entryOrder = []string{"name", "source", "target", "platforms"}

// Load reads and checks the list at path.
func Load(path string) (*List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Problem: component.Problem(err), Fix: "pass --list with the third-party list, default " + DefaultFile}
	}
	return Parse(path, data)
}

// Parse checks the list data; file names it in errors.
func Parse(file string, data []byte) (*List, error) {
	bad := func(entry, field, problem, fix string) error {
		return &Error{File: file, Entry: entry, Field: field, Problem: problem, Fix: fix}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, bad("", "", "malformed YAML: "+strings.TrimPrefix(err.Error(), "yaml: "), "fix the YAML syntax")
	}
	if len(doc.Content) == 0 {
		return nil, bad("", "images", "the file is empty", "list the images under images:")
	}
	if err := checkShape(file, doc.Content[0]); err != nil {
		return nil, err
	}
	// The walk above names the entry and field of a mistake; the strict
	// decode is the one that fills the list.
	var r raw
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return nil, bad("", "", strings.TrimPrefix(err.Error(), "yaml: "), "keep to the keys images, "+strings.Join(entryOrder, ", "))
	}
	if len(r.Images) == 0 {
		return nil, bad("", "images", "is empty", "list at least one image")
	}
	l := &List{File: file}
	names, targets := map[string]string{}, map[string]string{}
	for i, ri := range r.Images {
		entry := fmt.Sprintf("images[%d]", i)
		if ri.Name != "" {
			entry += " (" + ri.Name + ")"
		}
		img, err := check(ri)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.File, e.Entry = file, entry
			}
			return nil, err
		}
		if other, dup := names[img.Name]; dup {
			return nil, bad(entry, "name", fmt.Sprintf("%q is also the name of %s", img.Name, other), "give each image its own name")
		}
		if other, dup := targets[img.Target]; dup {
			return nil, bad(entry, "target", fmt.Sprintf("%q is also the target of %s", img.Target, other), "give each image its own repository")
		}
		names[img.Name], targets[img.Target] = entry, entry
		l.Images = append(l.Images, img)
	}
	return l, nil
}

// checkShape walks the document so an unknown key, a repeated key or a
// wrong type names its entry and field.
func checkShape(file string, top *yaml.Node) error {
	bad := func(entry, field, problem, fix string) error {
		return &Error{File: file, Entry: entry, Field: field, Problem: problem, Fix: fix}
	}
	if top.Kind != yaml.MappingNode {
		return bad("", "", fmt.Sprintf("line %d: the document is not a mapping", top.Line), "start with images: and a list of entries")
	}
	var images *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch {
		case k.Value != "images":
			return bad("", k.Value, fmt.Sprintf("line %d: unknown key", k.Line), "the only top-level key is images")
		case images != nil:
			return bad("", k.Value, fmt.Sprintf("line %d: key given twice", k.Line), "keep one")
		}
		images = v
	}
	if images == nil {
		return bad("", "images", "is missing", "list the images under images:")
	}
	if images.Kind != yaml.SequenceNode {
		return bad("", "images", fmt.Sprintf("line %d: is not a list", images.Line), "write images: followed by - name: ... entries")
	}
	for i, e := range images.Content {
		entry := fmt.Sprintf("images[%d]", i)
		if e.Kind != yaml.MappingNode {
			return bad(entry, "", fmt.Sprintf("line %d: the entry is not a mapping", e.Line), "write name:, source:, target: and optionally platforms:")
		}
		for j := 0; j+1 < len(e.Content); j += 2 {
			if e.Content[j].Value == "name" && e.Content[j+1].Kind == yaml.ScalarNode {
				entry += " (" + e.Content[j+1].Value + ")"
			}
		}
		seen := map[string]bool{}
		for j := 0; j+1 < len(e.Content); j += 2 {
			k, v := e.Content[j], e.Content[j+1]
			want, ok := entryFields[k.Value]
			switch {
			case !ok:
				return bad(entry, k.Value, fmt.Sprintf("line %d: unknown key", k.Line), "known keys: "+strings.Join(entryOrder, ", "))
			case seen[k.Value]:
				return bad(entry, k.Value, fmt.Sprintf("line %d: key given twice", k.Line), "keep one")
			}
			seen[k.Value] = true
			var one rawImage
			if err := (&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, v}}).Decode(&one); err != nil {
				return bad(entry, k.Value, fmt.Sprintf("line %d: wrong type", v.Line), "expected "+want)
			}
		}
	}
	return nil
}

// check validates one entry; the caller fills in the file and entry.
func check(ri rawImage) (Image, error) {
	bad := func(field, problem, fix string) error { return &Error{Field: field, Problem: problem, Fix: fix} }
	img := Image(ri)
	switch {
	case img.Name == "":
		return img, bad("name", "is missing", "name the cell, such as postgres")
	case !component.NameRE.MatchString(img.Name):
		return img, bad("name", fmt.Sprintf("%q is not lower-case letters, digits and dashes", img.Name), "use a name such as postgres or kafka")
	case img.Source == "":
		return img, bad("source", "is missing", "give the upstream reference, such as docker.io/library/postgres:16.4")
	case img.Target == "":
		return img, bad("target", "is missing", "give the repository under the private registry, such as postgres")
	}
	ref, err := name.ParseReference(img.Source)
	if err != nil {
		return img, bad("source", fmt.Sprintf("%q is not an image reference: %v", img.Source, err), "write registry/repository:tag or registry/repository@sha256:...")
	}
	if _, digest := ref.(name.Digest); !digest && (img.Tag() == "" || img.Tag() == "latest") {
		return img, bad("source", fmt.Sprintf("%q is not pinned: latest moves", img.Source), "pin a version tag such as postgres:16.4, or a digest")
	}
	if _, err := name.NewRepository("registry.invalid/"+img.Target, name.StrictValidation); err != nil || strings.ContainsAny(img.Target, ":@") {
		return img, bad("target", fmt.Sprintf("%q is not a repository name", img.Target), "use lower-case letters, digits, '.', '_', '-' and '/', without tag or digest")
	}
	if img.Platforms != nil && len(img.Platforms) == 0 {
		return img, bad("platforms", "is empty", "omit it to mirror every requested platform")
	}
	seen := map[string]bool{}
	for i, p := range img.Platforms {
		if err := component.CheckPlatform(p); err != nil {
			return img, bad(fmt.Sprintf("platforms[%d]", i), err.Error(), "use os/arch such as linux/amd64 or linux/arm64")
		}
		if seen[p] {
			return img, bad(fmt.Sprintf("platforms[%d]", i), p+" is listed twice", "list each platform once")
		}
		seen[p] = true
	}
	return img, nil
}
