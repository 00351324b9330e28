package component

import (
	"fmt"
	"slices"
	"strings"
)

// arches are the architectures matrix accepts for linux, with their allowed variants.
var arches = map[string][]string{
	"amd64": {""}, "arm64": {"", "v8"}, "arm": {"v6", "v7"},
	"386": {""}, "ppc64le": {""}, "s390x": {""}, "riscv64": {""},
}

// CheckPlatform accepts os/arch[/variant] platforms matrix can build.
func CheckPlatform(p string) error {
	parts := strings.Split(p, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("%q is not os/arch", p)
	}
	if parts[0] != "linux" {
		return fmt.Errorf("%q: os %q is not supported (only linux)", p, parts[0])
	}
	variants, ok := arches[parts[1]]
	if !ok {
		return fmt.Errorf("%q: unknown architecture %q", p, parts[1])
	}
	v := ""
	if len(parts) == 3 {
		v = parts[2]
	}
	if !slices.Contains(variants, v) {
		return fmt.Errorf("%q: variant %q is not valid for %s", p, v, parts[1])
	}
	return nil
}

// ParsePlatforms splits a comma-separated list and checks each entry.
func ParsePlatforms(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if err := CheckPlatform(p); err != nil {
			return nil, err
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("%s is listed twice", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// mirrors are run-wide build args, passed only to Dockerfiles that declare them.
var mirrors = []string{"APT_MIRROR", "GO_PROXY", "PYPI_INDEX_URL", "NPM_REGISTRY"}

// Mirrors lists the mirror build args a run may set.
func Mirrors() []string { return slices.Clone(mirrors) }

// IsReserved reports whether matrix itself sets build arg name.
func IsReserved(name string) bool {
	return slices.Contains(mirrors, name) || name == "BUILDPLATFORM" || strings.HasPrefix(name, "TARGET")
}
