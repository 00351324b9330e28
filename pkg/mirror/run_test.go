package mirror_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/mirror/mirrortest"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/world"
)

var both = []string{"linux/amd64", "linux/arm64"}

func target(reg *mirrortest.Registry, tags ...string) registry.Client {
	return registry.Client{Registry: reg.Host + "/proj", Tags: tags, Jobs: 2, Retry: registry.Retry{Attempts: 1}}
}

func TestMirrorRun(t *testing.T) {
	type upstream struct {
		ref     string
		entries []mirrortest.Entry
	}
	for _, tc := range []struct {
		name      string
		upstreams []upstream
		images    []mirror.Image
		failed    map[string]string // cell "name platform" -> step
		tags      []string          // final tags per image when all succeed
	}{
		{
			name:      "both platforms present",
			upstreams: []upstream{{"library/postgres:15", mirrortest.Same(both...)}, {"library/redis:7", mirrortest.Same(append(both, "linux/s390x")...)}},
			images:    []mirror.Image{{Name: "postgres", Source: "library/postgres:15", Target: "postgres"}, {Name: "redis", Source: "library/redis:7", Target: "cache/redis"}},
			tags:      []string{"v1"},
		},
		{
			name:      "arm64 variant v8 and a platform the entry leaves out",
			upstreams: []upstream{{"x/kafka:3.7", []mirrortest.Entry{{Desc: "linux/amd64", Config: "linux/amd64"}, {Desc: "linux/arm64/v8", Config: "linux/arm64/v8"}}}, {"x/ui:1", mirrortest.Same("linux/amd64")}},
			images:    []mirror.Image{{Name: "kafka", Source: "x/kafka:3.7", Target: "kafka"}, {Name: "ui", Source: "x/ui:1", Target: "ui", Platforms: []string{"linux/amd64"}}},
		},
		{
			name:      "a platform missing upstream",
			upstreams: []upstream{{"library/postgres:15", mirrortest.Same(both...)}, {"osixia/openldap:1.5.0", mirrortest.Same("linux/amd64")}},
			images:    []mirror.Image{{Name: "postgres", Source: "library/postgres:15", Target: "postgres"}, {Name: "openldap", Source: "osixia/openldap:1.5.0", Target: "openldap"}},
			failed:    map[string]string{"openldap linux/arm64": mirror.StepPlatform},
		},
		{
			name:      "an entry whose config says another arch",
			upstreams: []upstream{{"library/redis:7", []mirrortest.Entry{{Desc: "linux/amd64", Config: "linux/amd64"}, {Desc: "linux/arm64", Config: "linux/amd64"}}}},
			images:    []mirror.Image{{Name: "redis", Source: "library/redis:7", Target: "redis"}},
			failed:    map[string]string{"redis linux/arm64": mirror.StepArch},
		},
		{
			name:   "an upstream that is not there",
			images: []mirror.Image{{Name: "minio", Source: "minio/minio:RELEASE.1", Target: "minio"}},
			failed: map[string]string{"minio linux/amd64": mirror.StepResolve, "minio linux/arm64": mirror.StepResolve},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, dst := mirrortest.New(t), mirrortest.New(t)
			digests := map[string]string{}
			for _, u := range tc.upstreams {
				digests[u.ref] = up.Push(t, u.ref, u.entries).String()
			}
			l := &mirror.List{File: "third-party.yaml"}
			for _, img := range tc.images {
				img.Source = up.Host + "/" + img.Source
				l.Images = append(l.Images, img)
			}
			r := &report.Report{}
			err := mirror.Run(context.Background(), l, both, target(dst, tc.tags...), "", r)
			for _, c := range r.Cells {
				if step, ok := tc.failed[c.Component+" "+c.Platform]; ok {
					assert.Equal(t, report.Failed, c.Status, c)
					assert.Equal(t, step, c.Step, c)
					assert.NotEmpty(t, c.Error)
				} else {
					assert.Contains(t, []string{report.Verified, report.NotRequested}, c.Status, c)
				}
			}
			if len(tc.failed) > 0 {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "no final tag was changed")
				assert.Empty(t, dst.Catalog(t), "nothing is pushed, no tag moves")
				return
			}
			require.NoError(t, err)
			require.Len(t, r.Indexes, len(tc.images))
			for _, img := range tc.images {
				want := digests[img.Source]
				tags := append([]string{img.Tag()}, tc.tags...)
				for _, tag := range tags {
					got, err := dst.Digest(t, "proj/"+img.Target+":"+tag)
					require.NoError(t, err, tag)
					assert.Equal(t, want, got.String(), "%s:%s is the upstream index, digest unchanged", img.Target, tag)
				}
			}
			for _, i := range r.Indexes {
				assert.Contains(t, i.Source, "@sha256:", "the tag is resolved and recorded")
				assert.Equal(t, digests[strings.TrimPrefix(strings.Split(i.Source, "@")[0], up.Host+"/")+":"+i.Tags[0]], i.Digest)
				assert.NotEmpty(t, i.Platforms)
			}
			// Again: everything is there, nothing is written.
			dst.Writes()
			require.NoError(t, mirror.Run(context.Background(), l, both, target(dst, tc.tags...), "", &report.Report{}))
			assert.Zero(t, dst.Writes(), "a second mirror writes nothing")
		})
	}
}

func TestMirrorPushFails(t *testing.T) {
	up, dst := mirrortest.New(t), mirrortest.New(t)
	up.Push(t, "library/postgres:15", mirrortest.Same(both...))
	up.Push(t, "library/redis:7", mirrortest.Same(both...))
	dst.Refuse("proj/redis")
	l := &mirror.List{Images: []mirror.Image{
		{Name: "postgres", Source: up.Host + "/library/postgres:15", Target: "postgres"},
		{Name: "redis", Source: up.Host + "/library/redis:7", Target: "redis"},
	}}
	r := &report.Report{}
	err := mirror.Run(context.Background(), l, both, target(dst, "v1"), "", r)
	require.Error(t, err)
	c, _ := r.Get("redis", "linux/arm64")
	assert.Equal(t, mirror.StepPush, c.Step)
	assert.Contains(t, c.Error, "refused by the test")
	for _, tag := range []string{"15", "v1"} {
		_, err := dst.Digest(t, "proj/postgres:"+tag)
		assert.Error(t, err, "postgres:%s: no final tag moves when another image fails", tag)
	}
	_, err = dst.Digest(t, "proj/postgres:"+registry.PendingTag)
	assert.NoError(t, err, "postgres waits under the pending tag")
}

func TestMirrorPinnedByDigest(t *testing.T) {
	up, dst := mirrortest.New(t), mirrortest.New(t)
	d := up.Push(t, "library/postgres:15", mirrortest.Same(both...))
	l := &mirror.List{Images: []mirror.Image{{Name: "postgres", Source: up.Host + "/library/postgres:15@" + d.String(), Target: "postgres"}}}
	r := &report.Report{}
	require.NoError(t, mirror.Run(context.Background(), l, both, target(dst), "", r))
	got, err := dst.Digest(t, "proj/postgres:15")
	require.NoError(t, err)
	assert.Equal(t, d, got)
	assert.Equal(t, up.Host+"/library/postgres@"+d.String(), r.Indexes[0].Source)
}

// TestMirrorSeededUpstream mirrors the world's stand-ins (world.SeedUpstream)
// with the test fixture list.
func TestMirrorSeededUpstream(t *testing.T) {
	up, dst := mirrortest.New(t), mirrortest.New(t)
	require.NoError(t, world.SeedUpstream(context.Background(), up.Host))
	first := up.Writes()
	require.NoError(t, world.SeedUpstream(context.Background(), up.Host))
	assert.NotZero(t, first)
	assert.Zero(t, up.Writes(), "seeding again writes nothing")

	data, err := os.ReadFile("testdata/third-party.yaml")
	require.NoError(t, err)
	data = []byte(strings.ReplaceAll(string(data), "127.0.0.1:5000", up.Host))
	l, err := mirror.Parse("testdata/third-party.yaml", data)
	require.NoError(t, err)
	r := &report.Report{}
	require.NoError(t, mirror.Run(context.Background(), l, both, target(dst), "", r))
	assert.Equal(t, "3/3 cells verified", r.Summary())
	c, _ := r.Get("amd64only", "linux/arm64")
	assert.Equal(t, report.NotRequested, c.Status)

	// Without its platforms line, amd64only fails on arm64 and no tag moves.
	l.Images[1].Platforms = nil
	dst2 := mirrortest.New(t)
	r = &report.Report{}
	require.Error(t, mirror.Run(context.Background(), l, both, target(dst2), "", r))
	c, _ = r.Get("amd64only", "linux/arm64")
	assert.Equal(t, report.Failed, c.Status)
	assert.Equal(t, mirror.StepPlatform, c.Step)
	assert.Contains(t, c.Error, "no linux/arm64 entry")
	assert.Empty(t, dst2.Catalog(t))
}

// TestMirrorUpstreamVia reads an upstream named by a loopback address that
// answers nothing (as the caller's localhost:5000 looks from inside the
// module) through the tunnel given as via.
func TestMirrorUpstreamVia(t *testing.T) {
	up, dst := mirrortest.New(t), mirrortest.New(t)
	d := up.Push(t, "upstream/standin:1.0", mirrortest.Same(both...))
	l := &mirror.List{Images: []mirror.Image{{Name: "standin", Source: "localhost:1/upstream/standin:1.0", Target: "standin"}}}
	for _, tc := range []struct {
		via string
		ok  bool
	}{{"", false}, {up.Host, true}} {
		r := &report.Report{}
		err := mirror.Run(context.Background(), l, both, target(dst), tc.via, r)
		if !tc.ok {
			require.Error(t, err)
			c, _ := r.Get("standin", "linux/amd64")
			assert.Equal(t, mirror.StepResolve, c.Step)
			continue
		}
		require.NoError(t, err)
		got, err := dst.Digest(t, "proj/standin:1.0")
		require.NoError(t, err)
		assert.Equal(t, d, got)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"registry-1.docker.io": false, "10.0.0.1": false, "localhost.example.com": false} {
		assert.Equal(t, want, mirror.IsLoopback(host), host)
	}
}
