package lint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBases: each external FROM once, expanded; stages, scratch and another
// component's image left out.
func TestBases(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		args             map[string]string
		want             []From
	}{
		{"one base", "FROM debian:bookworm-slim\n", nil, []From{{Ref: "debian:bookworm-slim"}}},
		{"global arg default", "ARG GO=1.26\nFROM golang:${GO}-bookworm\n", nil, []From{{Ref: "golang:1.26-bookworm"}}},
		{"arg given", "ARG GO=1.26\nFROM golang:${GO}-bookworm\n", map[string]string{"GO": "1.27"}, []From{{Ref: "golang:1.27-bookworm"}}},
		{"build platform", "FROM --platform=$BUILDPLATFORM golang AS b\nFROM debian\nCOPY --from=b /x /x\n",
			map[string]string{"BUILDPLATFORM": "linux/amd64"}, []From{{Ref: "golang", Platform: "linux/amd64"}, {Ref: "debian"}}},
		{"stage and scratch", "FROM debian AS a\nFROM a\nFROM scratch\nCOPY --from=a /x /x\n", nil, []From{{Ref: "debian"}}},
		{"dependency image", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n", nil, nil},
		{"twice", "FROM debian AS a\nFROM debian\n", nil, []From{{Ref: "debian"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Bases("Dockerfile", []byte(tc.dockerfile), tc.args)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
