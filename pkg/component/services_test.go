package component

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// consumer is a Dockerfile that fetches from a served component's URL.
const consumer = `FROM debian:bookworm-slim
ARG HUB_URL
ARG OTHER_URL
RUN echo "$HUB_URL"
`

// withConsumer makes components/<name> with the consumer Dockerfile and
// the given component.yaml.
func withConsumer(t *testing.T, root, name, yaml string) string {
	t.Helper()
	dir := component(t, root, name, yaml)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(consumer), 0o644))
	return dir
}

// TestReadServices: services: gives each served component, its port, the
// build arg of its URL and the wait, 2m unless given.
func TestReadServices(t *testing.T) {
	dir := withConsumer(t, t.TempDir(), "slurm-master", `
services:
  - {component: hub, port: 8080, arg: HUB_URL}
  - {component: backend/backend, port: 80, arg: OTHER_URL, wait: 45s}
`)
	c, err := read(dir)
	require.NoError(t, err)
	assert.Equal(t, []Service{
		{Component: "hub", Port: 8080, Arg: "HUB_URL", Wait: DefaultServiceWait},
		{Component: "backend/backend", Port: 80, Arg: "OTHER_URL", Wait: 45 * time.Second},
	}, c.Services)
	assert.Equal(t, []string{"hub", "backend/backend"}, c.Served())
	assert.Empty(t, c.DependsOn, "a service is not a dependency: nothing is built FROM it")
}

// TestReadServicesErrors: every mistake in services: is bad input naming
// the file, the field and the fix.
func TestReadServicesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty list", "services: []\n", []string{"field services: is empty", "omit services:"}},
		{"not a list", "services: hub\n", []string{"field services: line 1: wrong type", "expected a list such as [{component: apphub, port: 80, arg: APPHUB_URL}]"}},
		{"unknown key", "services:\n  - {component: hub, port: 80, arg: HUB_URL, host: x}\n", []string{"field services[0].host: line 2: unknown key", "known keys: arg, component, port, wait"}},
		{"missing component", "services:\n  - {port: 80, arg: HUB_URL}\n", []string{"field services[0].component: is missing"}},
		{"bad component", "services:\n  - {component: Hub, port: 80, arg: HUB_URL}\n", []string{`field services[0].component: "Hub" is not a component name`}},
		{"served to itself", "services:\n  - {component: slurm-master, port: 80, arg: HUB_URL}\n",
			[]string{"field services[0].component: a component cannot be served to itself", "name another component of the run"}},
		{"served twice", "services:\n  - {component: hub, port: 80, arg: HUB_URL}\n  - {component: hub, port: 81, arg: OTHER_URL}\n",
			[]string{"field services[1].component: hub is served twice"}},
		{"missing port", "services:\n  - {component: hub, arg: HUB_URL}\n", []string{"field services[0].port: is missing or not a port (1-65535)", "give the port hub serves on"}},
		{"port out of range", "services:\n  - {component: hub, port: 70000, arg: HUB_URL}\n", []string{"field services[0].port: is missing or not a port"}},
		{"port not a number", "services:\n  - {component: hub, port: http, arg: HUB_URL}\n", []string{"field services[0].port: line 2: wrong type", "expected the port it serves on"}},
		{"missing arg", "services:\n  - {component: apphub, port: 80}\n", []string{"field services[0].arg: is missing", "such as APPHUB_URL"}},
		{"arg not declared", "services:\n  - {component: hub, port: 80, arg: NOPE_URL}\n",
			[]string{"field services[0].arg: ", "Dockerfile declares no ARG NOPE_URL", "add ARG NOPE_URL to the stage that fetches from hub"}},
		{"arg also under args", "args: {HUB_URL: x}\nservices:\n  - {component: hub, port: 80, arg: HUB_URL}\n",
			[]string{"field services[0].arg: HUB_URL is also set under args:", "remove it from args:"}},
		{"arg reserved", "services:\n  - {component: hub, port: 80, arg: BUILDPLATFORM}\n", []string{"field services[0].arg: BUILDPLATFORM is set by matrix"}},
		{"one arg for two services", "services:\n  - {component: hub, port: 80, arg: HUB_URL}\n  - {component: other, port: 80, arg: HUB_URL}\n",
			[]string{"field services[1].arg: HUB_URL receives another service's URL"}},
		{"bad wait", "services:\n  - {component: hub, port: 80, arg: HUB_URL, wait: soon}\n", []string{`field services[0].wait: "soon" is not a duration between 1s and 30m0s`, "such as 90s or 2m"}},
		{"wait beyond the bound", "services:\n  - {component: hub, port: 80, arg: HUB_URL, wait: 2h}\n", []string{`field services[0].wait: "2h" is not a duration`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := withConsumer(t, t.TempDir(), "slurm-master", tc.yaml)
			_, err := read(dir)
			require.Error(t, err)
			assert.Equal(t, class.BadInput, class.Of(err))
			assert.Contains(t, err.Error(), filepath.Join(dir, FileName)+": ", "names the file")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
