package component

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnnotationsDefaultsAndOverrides(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, AnnotationsFile), []byte("licenses: Apache-2.0\nvendor: AI-Infra-Matrix\n"), 0o644))
	component(t, root, "nginx", "annotations: {licenses: BSD-2-Clause, description: The reverse proxy.}\n")
	component(t, root, "plain", "")
	cs, err := load(os.DirFS(root), root)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, map[string]string{
		AnnotationPrefix + "title":       "nginx",
		AnnotationPrefix + "licenses":    "BSD-2-Clause",
		AnnotationPrefix + "vendor":      "AI-Infra-Matrix",
		AnnotationPrefix + "description": "The reverse proxy.",
	}, cs[0].Annotations, "component.yaml over the defaults")
	assert.Equal(t, map[string]string{
		AnnotationPrefix + "title":    "plain",
		AnnotationPrefix + "licenses": "Apache-2.0",
		AnnotationPrefix + "vendor":   "AI-Infra-Matrix",
	}, cs[1].Annotations, "the defaults, title from the name")
}

func TestAnnotationsRejects(t *testing.T) {
	cases := []struct {
		name, defaults, yaml, want string
	}{
		{"bad licence", "", "annotations: {licenses: Apache 2}\n", `component.yaml: field annotations.licenses: "Apache 2" is not a valid SPDX expression`},
		{"unknown licence id", "", "annotations: {licenses: MIT OR Fancy-1.0}\n", "Fancy-1.0"},
		{"computed key", "", "annotations: {revision: abc}\n", "field annotations.revision: is set by matrix"},
		{"unknown key", "", "annotations: {colour: blue}\n", "field annotations.colour: is not an annotation matrix sets"},
		{"empty value", "", "annotations: {description: \"\"}\n", "field annotations.description: is empty"},
		{"not a URL", "", "annotations: {source: github.com/x/y}\n", `field annotations.source: "github.com/x/y" is not an http(s) URL`},
		{"wrong type", "", "annotations: [a]\n", "field annotations: line 1: wrong type"},
		{"defaults bad licence", "licenses: GPL-9\n", "", AnnotationsFile + ": field licenses: \"GPL-9\" is not a valid SPDX expression"},
		{"defaults computed", "created: now\n", "", AnnotationsFile + ": field created: is set by matrix"},
		{"defaults malformed", "licenses: [\n", "", AnnotationsFile + ": malformed YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.defaults != "" {
				require.NoError(t, os.WriteFile(filepath.Join(root, AnnotationsFile), []byte(tc.defaults), 0o644))
			}
			component(t, root, "a", tc.yaml)
			_, err := load(os.DirFS(root), root)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var ce *Error
			assert.ErrorAs(t, err, &ce)
		})
	}
}

func TestComponentsAnnotations(t *testing.T) {
	cs, err := load(os.DirFS("../../components"), "components")
	require.NoError(t, err)
	for _, c := range cs {
		for _, k := range []string{"title", "description", "licenses", "source"} {
			assert.NotEmpty(t, c.Annotations[AnnotationPrefix+k], "%s has no %s", c.Name, k)
		}
	}
}
