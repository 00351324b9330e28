package publish

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefer writes referrers to go-containerregistry's in-process registry
// without the referrers API (like Debian's registry 2.8: the fallback tag),
// reads them back with remote.Referrers, and writes nothing the second time.
func TestRefer(t *testing.T) {
	ctx := context.Background()
	reg, tgt, repo, desc := subject(t)
	refs := []Referrer{
		{ArtifactType: "application/spdx+json", Data: []byte(`{"spdxVersion":"SPDX-2.3"}`)},
		{ArtifactType: "application/vnd.in-toto+json", Data: []byte(`{"_type":"https://in-toto.io/Statement/v1"}`),
			Annotations: map[string]string{AnnotationCreated: "2026-12-01T10:00:00Z"}},
	}
	reg.manifestPuts()
	first, err := tgt.Refer(ctx, repo, *desc, refs)
	require.NoError(t, err)
	require.Len(t, first, 2)
	assert.Len(t, reg.manifestPuts(), 4, "two referrers, each with its fallback tag update")

	idx, err := remote.Referrers(repo.Digest(desc.Digest.String()), tgt.Remote(ctx)...)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	types := map[string]v1.Hash{}
	for _, d := range m.Manifests {
		types[d.ArtifactType] = d.Digest
	}
	assert.Equal(t, map[string]v1.Hash{"application/spdx+json": first[0], "application/vnd.in-toto+json": first[1]}, types)

	got, err := remote.Image(repo.Digest(first[0].String()), tgt.Remote(ctx)...)
	require.NoError(t, err)
	mf, err := got.Manifest()
	require.NoError(t, err)
	require.NotNil(t, mf.Subject)
	assert.Equal(t, desc.Digest, mf.Subject.Digest, "the subject is the image")
	layers, err := got.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)

	again, err := tgt.Refer(ctx, repo, *desc, refs)
	require.NoError(t, err)
	assert.Equal(t, first, again, "the same referrers give the same digests")
	assert.Empty(t, reg.manifestPuts(), "a no-op publish writes no referrer again")
}

// TestReferConcurrent: many writers about one subject at once all end up
// listed in its fallback tag (the writes are serialised per subject).
func TestReferConcurrent(t *testing.T) {
	ctx := context.Background()
	_, tgt, repo, desc := subject(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tgt.Refer(ctx, repo, *desc, []Referrer{{ArtifactType: "application/x-test", Data: []byte(fmt.Sprint(i))}})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	idx, err := remote.Referrers(repo.Digest(desc.Digest.String()), tgt.Remote(ctx)...)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	assert.Len(t, m.Manifests, 8)
}

// subject is an image pushed to a new in-process registry, to refer to.
func subject(t *testing.T) (*testRegistry, Target, name.Repository, *v1.Descriptor) {
	t.Helper()
	ctx := context.Background()
	reg := newTestRegistry(t)
	tgt := reg.target()
	repo := testRepo(t, tgt, "app")
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	require.NoError(t, remote.Write(repo.Tag("x"), img, tgt.Remote(ctx)...))
	desc, err := remote.Head(repo.Tag("x"), tgt.Remote(ctx)...)
	require.NoError(t, err)
	return reg, tgt, repo, desc
}
