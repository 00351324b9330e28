package component

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"go.yaml.in/yaml/v3"
)

// AnnotationsFile, beside the component folders, holds the annotation
// defaults of every component; a component.yaml's annotations override
// them for that component.
const AnnotationsFile = "annotations.yaml"

// AnnotationPrefix is the OCI namespace of the image annotations.
const AnnotationPrefix = "org.opencontainers.image."

// Settable are the annotations annotations.yaml and component.yaml may
// set, by their short names, with what each holds. Title defaults to the
// component name.
var Settable = map[string]string{
	"title":         "a short name",
	"description":   "one sentence",
	"licenses":      "an SPDX expression such as Apache-2.0 or MIT OR Apache-2.0",
	"source":        "the source repository URL",
	"url":           "the project's home page URL",
	"documentation": "the documentation URL",
	"vendor":        "who distributes the image",
	"authors":       "who to contact",
}

// Computed are the annotations matrix sets itself, from the run and the
// Dockerfile: never from a file.
var Computed = []string{"revision", "version", "created", "base.name", "base.digest"}

// Annotations reads AnnotationsFile from fsys (the components directory;
// missing is none) and checks it; where names fsys in errors.
func Annotations(fsys fs.FS, where string) (map[string]string, error) {
	file := path.Join(where, AnnotationsFile)
	data, err := fs.ReadFile(fsys, AnnotationsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{File: file, Problem: Problem(err)}
	}
	var m map[string]string
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, &Error{File: file, Problem: "malformed YAML: " + strings.TrimPrefix(err.Error(), "yaml: "),
			Fix: "write short annotation names and strings, such as licenses: Apache-2.0"}
	}
	return checkAnnotations(file, "", m)
}

// checkAnnotations checks short-named annotations m of file, under field
// (empty at the top level), and returns them by their full keys.
func checkAnnotations(file, field string, m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, f := strings.TrimSpace(m[k]), k
		if field != "" {
			f = field + "." + k
		}
		bad := func(problem, fix string) error { return &Error{File: file, Field: f, Problem: problem, Fix: fix} }
		if _, ok := Settable[k]; !ok {
			if slices.Contains(Computed, k) {
				return nil, bad("is set by matrix", "remove it; it comes from the run and the Dockerfile")
			}
			return nil, bad("is not an annotation matrix sets", "use the short names "+strings.Join(settable(), ", "))
		}
		if v == "" {
			return nil, bad("is empty", "give "+Settable[k]+", or remove it")
		}
		switch k {
		case "licenses":
			if ok, invalid := spdxexp.ValidateLicenses([]string{v}); !ok {
				return nil, bad(fmt.Sprintf("%q is not a valid SPDX expression (%s)", v, strings.Join(invalid, ", ")),
					"use SPDX identifiers such as Apache-2.0, or LicenseRef-<name>, joined by AND, OR, WITH")
			}
		case "source", "url", "documentation":
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, bad(fmt.Sprintf("%q is not an http(s) URL", v), "give a URL such as https://github.com/owner/repo")
			}
		}
		out[AnnotationPrefix+k] = v
	}
	return out, nil
}

func settable() []string { return slices.Sorted(maps.Keys(Settable)) }

// WithDefaults is c with the defaults (full keys) under its own
// annotations, and its title defaulting to its name (an image of images:,
// its own name: backend-init of backend/backend-init).
func (c Spec) WithDefaults(defaults map[string]string) Spec {
	out := map[string]string{AnnotationPrefix + "title": path.Base(c.Name)}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range c.Annotations {
		out[k] = v
	}
	c.Annotations = out
	return c
}
