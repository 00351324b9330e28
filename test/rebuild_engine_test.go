//go:build engine

package system_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
)

// TestRebuildEngineRegistry: --rebuild through both entry points. A publish
// records the fixtures' keys in --cache-repo; then build-all --rebuild leaf,
// by the CLI and by `dagger call`, builds leaf whatever the cache holds and
// reuses base (engine, registry, dagger call).
func TestRebuildEngineRegistry(t *testing.T) {
	t.Parallel() // its own repository; see ci/test.sh
	ctx := enginetest.Context(t)
	registry := enginetest.Registry(t)
	bin := buildCLI(t)
	comps := enginetest.Components(t, map[string]map[string]string{
		"base": {"Dockerfile": "FROM debian:bookworm-slim\nCOPY base.txt /\n", "base.txt": "1\n", "component.yaml": "image: rebuild-base\nsmoke: [cat, /base.txt]\n"},
		"leaf": {"Dockerfile": "FROM debian:bookworm-slim\nCOPY leaf.txt /\n", "leaf.txt": "1\n", "component.yaml": "image: rebuild-leaf\nsmoke: [cat, /leaf.txt]\n"},
	})
	project := registry + "/" + enginetest.Unique("rebuild")
	run := []string{"--platforms", "linux/amd64", "--cache-repo", project + "/matrix-cache"}
	code, out := cli(t, bin, append([]string{"--components-dir", comps, "--registry", project, "publish", "--tags", "v1", "--no-attest"}, run...)...)
	require.Equal(t, 0, code, out)

	row := regexp.MustCompile(`(?m)^(base|leaf)\s+linux/amd64\s+verified( \(reused\))?`)
	check := func(entry, out string) {
		reused := map[string]bool{}
		for _, m := range row.FindAllStringSubmatch(out, -1) {
			reused[m[1]] = m[2] != ""
		}
		assert.Equal(t, map[string]bool{"base": true, "leaf": false}, reused, "%s: --rebuild leaf builds leaf and reuses base:\n%s", entry, out)
	}
	code, out = cli(t, bin, append([]string{"--components-dir", comps, "build-all", "--rebuild", "leaf"}, run...)...)
	require.Equal(t, 0, code, out)
	check("matrix", out)
	out, code = dagger(t, ctx, append([]string{"call", "--components-dir", comps, "--registry-service", "tcp://" + registry, "build-all", "--rebuild", "leaf"}, run...)...)
	require.Equal(t, 0, code, out)
	check("dagger call", out)
}
