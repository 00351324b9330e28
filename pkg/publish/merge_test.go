package publish

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// legs pushes one random image per platform of each component, as two
// --push-by-digest runs would, and returns their digests.
func legs(t *testing.T, tgt Target, images []string, platforms ...string) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]map[string]string{}
	for _, image := range images {
		out[image] = map[string]string{}
		for _, pl := range platforms {
			img := mirrortest.Image(t, pl)
			repo := testRepo(t, tgt, image)
			require.NoError(t, remote.Write(repo.Tag(LegTag(pl, tgt.Revision)), img, tgt.Remote(ctx)...))
			out[image][pl] = digestOf(t, img).String()
		}
	}
	return out
}

func testPlan(t *testing.T, platforms []string, names ...string) *plan.Plan {
	t.Helper()
	var comps []component.Spec
	for _, n := range names {
		comps = append(comps, component.Spec{Name: n, Image: n})
	}
	p, err := plan.New(comps, platforms, nil)
	require.NoError(t, err)
	return p
}

func TestMerge(t *testing.T) {
	ctx := context.Background()
	both := []string{"linux/amd64", "linux/arm64"}
	reg := newTestRegistry(t)
	tgt := reg.target("v1.0.0", "latest")
	tgt.Revision = "1111111111111111111111111111111111111111"
	// Pushed arm64 first: the index still follows the plan's order.
	digests := legs(t, tgt, []string{"apphub", "backend"}, "linux/arm64", "linux/amd64")
	p := testPlan(t, both, "apphub", "backend")

	r := &report.Report{}
	require.NoError(t, Merge(ctx, tgt, p, digests, r))
	require.Len(t, r.Indexes, 2)
	for _, ix := range r.Indexes {
		assert.Equal(t, []string{"v1.0.0", "latest"}, ix.Tags)
		idx, err := remote.Index(testRepo(t, tgt, ix.Component).Tag("latest"), tgt.Remote(ctx)...)
		require.NoError(t, err)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		require.Len(t, m.Manifests, 2)
		for i, pl := range both {
			assert.Equal(t, pl, m.Manifests[i].Platform.String(), "entry %d", i)
			assert.Equal(t, digests[ix.Component][pl], m.Manifests[i].Digest.String())
		}
		assert.Equal(t, tgt.Revision, m.Annotations[AnnotationRevision])
	}
}

func TestMergeRefuses(t *testing.T) {
	ctx := context.Background()
	both := []string{"linux/amd64", "linux/arm64"}
	cases := []struct {
		name    string
		mangle  func(d map[string]map[string]string)
		wantErr string
	}{
		{"a digest the registry lacks", func(d map[string]map[string]string) {
			d["backend"]["linux/arm64"] = "sha256:" + strings.Repeat("0", 64)
		}, "backend linux/arm64: "},
		{"a digest of the other platform", func(d map[string]map[string]string) {
			d["backend"]["linux/arm64"] = d["backend"]["linux/amd64"]
		}, "is linux/amd64, not linux/arm64"},
		{"a platform with no digest", func(d map[string]map[string]string) {
			delete(d["backend"], "linux/arm64")
		}, "backend linux/arm64: no digest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			tgt := reg.target("v1.0.0", "latest")
			digests := legs(t, tgt, []string{"apphub", "backend"}, both...)
			tc.mangle(digests)
			reg.manifestPuts()
			err := Merge(ctx, tgt, testPlan(t, both, "apphub", "backend"), digests, &report.Report{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "no final tag was changed")
			for _, put := range reg.manifestPuts() {
				assert.Contains(t, put, ":"+registry.PendingTag, "only pending indexes are written: %s", put)
			}
		})
	}
}

// TestFloating: latest moves forward only; version tags always move.
func TestFloating(t *testing.T) {
	ctx := context.Background()
	const older, newer, side = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333"
	history := map[[2]string]bool{{older, newer}: true} // newer descends from older; side from neither
	descends := func(_ context.Context, prev, next string) (bool, error) {
		return prev == next || history[[2]string{prev, next}], nil
	}
	both := []string{"linux/amd64", "linux/arm64"}
	reg := newTestRegistry(t)
	publishAt := func(rev, version string) (*report.Report, error) {
		tgt := reg.target(version, "latest")
		tgt.Revision, tgt.Floating, tgt.Descends = rev, DefaultFloating, descends
		r := &report.Report{}
		return r, Merge(ctx, tgt, testPlan(t, both, "apphub"), legs(t, tgt, []string{"apphub"}, both...), r)
	}
	latest := func() string {
		tgt := reg.target()
		idx, err := remote.Index(testRepo(t, tgt, "apphub").Tag("latest"), tgt.Remote(ctx)...)
		require.NoError(t, err)
		m, err := idx.IndexManifest()
		require.NoError(t, err)
		return m.Annotations[AnnotationRevision]
	}
	version := func(tag string) string {
		tgt := reg.target()
		_, err := remote.Head(testRepo(t, tgt, "apphub").Tag(tag), tgt.Remote(ctx)...)
		if err != nil {
			return "missing"
		}
		return "there"
	}

	_, err := publishAt(newer, "v2")
	require.NoError(t, err)
	assert.Equal(t, newer, latest())

	for _, tc := range []struct{ rev, version, reason string }{
		{older, "v1", "does not descend from " + newer},
		{side, "v1-side", "does not descend from " + newer},
	} {
		r, err := publishAt(tc.rev, tc.version)
		require.NoError(t, err)
		assert.Equal(t, newer, latest(), "latest stays at the newer revision")
		assert.Equal(t, "there", version(tc.version), "the version tag is written")
		require.Len(t, r.Indexes, 1)
		assert.Equal(t, []string{tc.version}, r.Indexes[0].Tags)
		require.Len(t, r.Indexes[0].Kept, 1)
		assert.Equal(t, "latest", r.Indexes[0].Kept[0].Tag)
		assert.Contains(t, r.Indexes[0].Kept[0].Reason, tc.reason)
	}

	const newest = "4444444444444444444444444444444444444444"
	history[[2]string{newer, newest}] = true
	r, err := publishAt(newest, "v3")
	require.NoError(t, err)
	assert.Equal(t, newest, latest(), "a descendant moves latest")
	assert.Empty(t, r.Indexes[0].Kept)
}
