package mirror

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThirdPartyListParse(t *testing.T) {
	const good = "images:\n  - name: postgres\n    source: docker.io/library/postgres:15-alpine\n    target: postgres\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string // every one must be in the error; none means no error
	}{
		{"good", good, nil},
		{"unknown key in an entry", good + "    sourc: x\n", []string{"third-party.yaml", "images[0] (postgres)", "field sourc", "unknown key", "known keys: name, source, target, platforms"}},
		{"unknown top-level key", good + "extra: 1\n", []string{"field extra", "unknown key", "the only top-level key is images"}},
		{"wrong type", "images:\n  - name: redis\n    source: [a]\n    target: redis\n", []string{"images[0] (redis)", "field source", "wrong type", "expected an upstream reference"}},
		{"missing source", "images:\n  - name: redis\n    target: redis\n", []string{"images[0] (redis)", "field source", "is missing"}},
		{"missing target", "images:\n  - name: redis\n    source: redis:7\n", []string{"field target", "is missing"}},
		{"bad name", "images:\n  - name: Redis\n    source: redis:7\n    target: redis\n", []string{"field name", "lower-case"}},
		{"implicit latest", "images:\n  - name: redis\n    source: docker.io/library/redis\n    target: redis\n", []string{"field source", "not pinned", "pin a version tag"}},
		{"latest", "images:\n  - name: redis\n    source: redis:latest\n    target: redis\n", []string{"field source", "not pinned"}},
		{"bad reference", "images:\n  - name: redis\n    source: 'Redis:7'\n    target: redis\n", []string{"field source", "not an image reference"}},
		{"bad target", "images:\n  - name: redis\n    source: redis:7\n    target: 'redis:7'\n", []string{"field target", "not a repository name"}},
		{"bad platform", good + "    platforms: [linux/amd65]\n", []string{"images[0] (postgres)", "field platforms[0]", "unknown architecture"}},
		{"platform twice", good + "    platforms: [linux/amd64, linux/amd64]\n", []string{"field platforms[1]", "listed twice"}},
		{"empty platforms", good + "    platforms: []\n", []string{"field platforms", "is empty", "omit it"}},
		{"name twice", good + "  - name: postgres\n    source: postgres:16\n    target: postgres16\n", []string{"images[1] (postgres)", "field name", "also the name of images[0]"}},
		{"target twice", good + "  - name: pg16\n    source: postgres:16\n    target: postgres\n", []string{"images[1] (pg16)", "field target", "also the target"}},
		{"key twice", good + "    target: again\n", []string{"field target", "key given twice"}},
		{"not a list", "images: postgres\n", []string{"field images", "is not a list"}},
		{"empty list", "images: []\n", []string{"field images", "is empty"}},
		{"empty file", "", []string{"the file is empty"}},
		{"malformed", "images: [\n", []string{"malformed YAML"}},
		{"entry not a mapping", "images:\n  - postgres\n", []string{"images[0]", "not a mapping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse("components/third-party.yaml", []byte(tc.yaml))
			if tc.want == nil {
				require.NoError(t, err)
				require.Len(t, l.Images, 1)
				assert.Equal(t, Image{Name: "postgres", Source: "docker.io/library/postgres:15-alpine", Target: "postgres"}, l.Images[0])
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestThirdPartyFiles(t *testing.T) {
	for _, file := range []string{"../../components/third-party.yaml", "testdata/third-party.yaml"} {
		l, err := Load(file)
		require.NoError(t, err, file)
		for _, img := range l.Images {
			assert.NotEmpty(t, img.Tag(), "%s: %s is pinned by tag", file, img.Name)
		}
	}
	_, err := Load("testdata/nope.yaml")
	assert.ErrorContains(t, err, "testdata/nope.yaml: no such file")
}

func TestThirdPartyTagAndWant(t *testing.T) {
	for _, tc := range []struct{ source, tag string }{
		{"docker.io/library/postgres:15-alpine", "15-alpine"},
		{"127.0.0.1:5000/upstream/standin:1.0", "1.0"},
		{"127.0.0.1:5000/upstream/standin@sha256:" + sixtyFour, ""},
		{"postgres:16@sha256:" + sixtyFour, "16"},
	} {
		assert.Equal(t, tc.tag, Image{Source: tc.source}.Tag(), tc.source)
	}
	img := Image{Platforms: []string{"linux/arm64", "linux/amd64"}}
	assert.Equal(t, []string{"linux/amd64"}, img.Want([]string{"linux/amd64"}))
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, img.Want([]string{"linux/amd64", "linux/arm64"}), "in the run's order")
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, Image{}.Want([]string{"linux/amd64", "linux/arm64"}))
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
