package matrix

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// leg is the results of one --push-by-digest run of base and child on platform.
func legOf(rev, platform, registry string) report.Results {
	res := report.Results{Version: "v1", Revision: rev, Platforms: []string{platform}, OK: true}
	for _, c := range []string{"base", "child"} {
		res.Components = append(res.Components, report.ComponentResult{Component: c, Ref: registry + "/ai-infra-" + c,
			Platforms: []report.PlatformResult{{Platform: platform, Status: report.Verified, Digest: "sha256:" + strings.Repeat(platform[6:7], 64)}}})
	}
	return res
}

func TestMergeRefuses(t *testing.T) {
	fsys := fstest.MapFS{
		"base/Dockerfile":      {Data: []byte("FROM scratch\n")},
		"child/Dockerfile":     {Data: []byte("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")},
		"child/component.yaml": {Data: []byte("depends_on: [base]\n")},
	}
	const a, b = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	reg := "127.0.0.1:9/ai-infra" // nothing listens: every case is refused before the registry is asked
	for _, tc := range []struct {
		name string
		legs map[string]report.Results
		code class.Class
		want string
	}{
		{"no legs", map[string]report.Results{}, class.BadInput, "no results files"},
		{"one leg missing", map[string]report.Results{"amd64.json": legOf(a, "linux/amd64", reg)}, class.Failed,
			"do not cover 2 planned cell(s): base linux/arm64 (in no results file), child linux/arm64 (in no results file)"},
		{"two revisions", map[string]report.Results{"amd64.json": legOf(a, "linux/amd64", reg), "arm64.json": legOf(b, "linux/arm64", reg)}, class.BadInput,
			"the results are of 2 revisions (" + a + " in amd64.json; " + b + " in arm64.json)"},
		{"not of a push by digest", map[string]report.Results{"x.json": {Version: "v1"}}, class.BadInput, "x.json has no revision"},
		{"another registry", map[string]report.Results{"amd64.json": legOf(a, "linux/amd64", "other:5000"), "arm64.json": legOf(a, "linux/arm64", reg)},
			class.BadInput, "amd64.json pushed base linux/amd64 to other:5000/ai-infra-base, not 127.0.0.1:9/ai-infra/ai-infra-base"},
		{"a failed cell", func() map[string]report.Results {
			arm := legOf(a, "linux/arm64", reg)
			arm.Components[1].Platforms[0] = report.PlatformResult{Platform: "linux/arm64", Status: report.Failed}
			return map[string]report.Results{"amd64.json": legOf(a, "linux/amd64", reg), "arm64.json": arm}
		}(), class.Failed, "child linux/arm64 (failed in arm64.json)"},
		{"two digests for one cell", func() map[string]report.Results {
			again := legOf(a, "linux/amd64", reg)
			again.Components[0].Platforms[0].Digest = "sha256:" + strings.Repeat("f", 64)
			return map[string]report.Results{"amd64.json": legOf(a, "linux/amd64", reg), "again.json": again, "arm64.json": legOf(a, "linux/arm64", reg)}
		}(), class.BadInput, "give each cell's leg once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(Options{Push: PushOptions{Mode: PushTagged, Registry: reg, Tags: []string{"v1"}}}, component.Tree{FS: fsys, Where: "components"})
			require.NoError(t, err)
			_, err = r.Merge(context.Background(), tc.legs)
			require.Error(t, err)
			assert.Equal(t, tc.code, class.Of(err), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
