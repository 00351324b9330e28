package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/stretchr/testify/assert"
)

func TestClientValidate(t *testing.T) {
	for _, tc := range []struct {
		c   Client
		err string
	}{
		{Client{Registry: "localhost:5000", Tags: []string{"v1.2.3", "latest"}}, ""},
		{Client{Registry: "harbor.example.com/ai-infra", Tags: []string{"v1"}}, ""},
		{Client{Registry: "", Tags: []string{"v1"}}, "registry is empty"},
		{Client{Registry: "Harbor Example", Tags: []string{"v1"}}, "not host[:port][/project]"},
		{Client{Registry: "localhost:5000", Tags: nil}, "no tags"},
		{Client{Registry: "localhost:5000", Tags: []string{"v1 2"}}, `tag "v1 2" is not valid`},
		{Client{Registry: "localhost:5000", Tags: []string{strings.Repeat("a", 129)}}, "is not valid"},
		{Client{Registry: "localhost:5000", Tags: []string{PendingTag}}, "is not valid"},
	} {
		err := tc.c.Validate()
		if tc.err == "" {
			assert.NoError(t, err, tc.c.Registry)
			continue
		}
		assert.ErrorContains(t, err, tc.err)
		assert.Equal(t, class.BadInput, class.Of(err), "%v", err)
	}
}

func TestPing(t *testing.T) {
	answers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // any answer will do
	}))
	defer answers.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, tc := range []struct {
		name  string
		c     Client
		class class.Class
		want  string
	}{
		{"answers 401", Client{Registry: strings.TrimPrefix(answers.URL, "http://") + "/proj"}, class.None, ""},
		{"through Via", Client{Registry: "registry.invalid:5000", Via: strings.TrimPrefix(answers.URL, "http://")}, class.None, ""},
		{"nothing listens", Client{Registry: strings.TrimPrefix(gone.URL, "http://")}, class.Unreachable, "does not answer"},
		{"nothing listens at Via", Client{Registry: "registry.invalid:5000", Via: strings.TrimPrefix(gone.URL, "http://")}, class.Unreachable, "(through 127.0.0.1:"},
		{"not a registry", Client{Registry: "Not A Host"}, class.BadInput, "Not A Host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Ping(context.Background())
			assert.Equal(t, tc.class, class.Of(err), "%v", err)
			if tc.want != "" {
				assert.ErrorContains(t, err, tc.want)
			}
			if tc.class == class.Unreachable {
				assert.ErrorContains(t, err, "start it, or check --registry", "the fix is named")
			}
		})
	}
}
