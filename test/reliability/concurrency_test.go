//go:build engine

package reliability

import (
	"strings"
	"sync"
	"testing"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/enginetest"
	"github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// TestConcurrentRuns: two publishing runs of different versions at the same
// time on one engine and registry both finish, and the final tags end
// consistent: all of them are one run's complete indexes, never a mix.
func TestConcurrentRuns(t *testing.T) {
	clients := []*dagger.Client{enginetest.Connect(t), enginetest.Connect(t)} // two sessions, as two processes
	registry := enginetest.Registry(t)
	ctx := testCtx(t)
	dir := enginetest.Fixtures(t, false)
	repo := enginetest.Unique("concurrent")
	var mu sync.Mutex
	var waits []string
	reports := make([]*report.Report, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := matrix.Options{Run: matrix.RunOptions{Jobs: 2, Version: []string{"run-a", "run-b"}[i], StageRegistry: registry},
				Push:   matrix.PushOptions{Mode: matrix.PushTagged, Registry: registry + "/" + repo, Tags: tags},
				Notify: func(m string) { mu.Lock(); waits = append(waits, m); mu.Unlock() }}
			res, err := enginetest.Local(t, opts, dir).Publish(ctx, c, c.Host().Directory(dir))
			if res != nil {
				reports[i] = res.Report
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range reports {
		require.NoError(t, errs[i])
		require.True(t, reports[i].OK(), "run %d: %s", i, reports[i].Summary())
	}
	final := finalDigests(t, registry, repo)
	one := func(r *report.Report) map[string]string {
		m := map[string]string{}
		for _, ix := range r.Indexes {
			for _, tag := range tags {
				m[ix.Ref+":"+tag] = ix.Digest
			}
		}
		return m
	}
	a, b := one(reports[0]), one(reports[1])
	assert.NotEqual(t, a, b, "the two runs built different versions")
	assert.True(t, equalMaps(final, a) || equalMaps(final, b), "final tags are one run's, not a mix:\n%v", final)
	for ref := range final {
		r, err := name.ParseReference(ref)
		require.NoError(t, err)
		img := strings.TrimSuffix(strings.TrimSuffix(r.Context().RepositoryStr()[len(repo)+1:], ":v1"), ":latest")
		_, err = publish.ReadBack(ctx, r, images[img])
		assert.NoError(t, err, "%s is complete", ref)
	}
	t.Logf("figures: concurrent_runs=2 both_ok=true tag_phase_waits=%d", len(waits))
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
