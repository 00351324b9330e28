package lint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFetches: a RUN that passes a variable to curl or wget fetches from
// that address while the image builds; other commands do not count.
func TestFetches(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		want             []Fetch
	}{
		{"curl with a URL arg", "FROM debian\nARG APPHUB_URL\nRUN apt-get update && curl -fsSL \"${APPHUB_URL}/pkgs/slurm-deb\" -o /tmp/x.deb\n",
			[]Fetch{{Line: 3, Tool: "curl", Var: "APPHUB_URL"}}},
		{"wget by path, $VAR form", "FROM debian\nRUN /usr/bin/wget -q $HUB_URL/a $HUB_URL/b\n",
			[]Fetch{{Line: 2, Tool: "wget", Var: "HUB_URL"}}},
		{"heredoc script", "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\nset -e\ncurl -f ${APPHUB_URL}/x\nEOF\n",
			[]Fetch{{Line: 3, Tool: "curl", Var: "APPHUB_URL"}}},
		{"a variable not passed to a fetcher", "FROM debian\nARG APPHUB_URL\nRUN echo $APPHUB_URL && curl -f https://example.com/x\n", nil},
		{"no RUN", "FROM debian\nCOPY a /a\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Fetches("Dockerfile", []byte(tc.dockerfile))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := Fetches("Dockerfile", []byte("FROM\n"))
	assert.Error(t, err)
}

// TestPorts: the TCP ports the last stage EXPOSEs, each once.
func TestPorts(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		want             []int
	}{
		{"one port", "FROM nginx\nEXPOSE 80\n", []int{80}},
		{"several, tcp and udp, twice", "FROM debian\nEXPOSE 8080/tcp 53/udp\nEXPOSE 8080 9090\n", []int{8080, 9090}},
		{"only the last stage's", "FROM golang AS build\nEXPOSE 6060\nFROM debian\nEXPOSE 80\n", []int{80}},
		{"a variable", "FROM debian\nARG PORT=80\nEXPOSE $PORT\n", nil},
		{"none", "FROM debian\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Ports("Dockerfile", []byte(tc.dockerfile))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
