package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Referrer is one artifact about an image (an SBOM, a provenance
// statement, a signature): written as an OCI 1.1 manifest of its own whose
// subject is the image, never as an entry of the image's index (which
// breaks clients that read every entry as a platform).
type Referrer struct {
	ArtifactType string // also the media type of its one layer
	Data         []byte
	Annotations  map[string]string
}

// emptyConfig is the OCI 1.1 empty descriptor's content, the config of
// every referrer.
var emptyConfig = []byte("{}")

const emptyMediaType = "application/vnd.oci.empty.v1+json"

// rawManifest is a manifest written as given (remote.Put takes any Taggable).
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error) { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}

// manifest is r's manifest about subject, and its layer.
func (r Referrer) manifest(subject v1.Descriptor) ([]byte, v1.Layer, error) {
	layer := static.NewLayer(r.Data, types.MediaType(r.ArtifactType))
	ld, err := layer.Digest()
	if err != nil {
		return nil, nil, err
	}
	cd, size, err := v1.SHA256(bytes.NewReader(emptyConfig))
	if err != nil {
		return nil, nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  r.ArtifactType,
		Config:        v1.Descriptor{MediaType: emptyMediaType, Digest: cd, Size: size, Data: emptyConfig},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(r.ArtifactType), Digest: ld, Size: int64(len(r.Data))}},
		Annotations:   r.Annotations,
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	raw, err := json.Marshal(m)
	return raw, layer, err
}

// subjects serialises the writes about one subject: on a registry without
// the referrers API, each write rewrites the subject's fallback tag (read,
// add, write), and two at once would lose one.
var subjects sync.Map // subject digest → *sync.Mutex

// Refer writes refs about subject, a manifest or index in repo, unless the
// registry lists a referrer of the same digest already (a no-op publish
// writes none again), then reads the subject's referrers back and checks
// every one is listed. It returns the referrers' digests, in refs' order.
func (t Target) Refer(ctx context.Context, repo name.Repository, subject v1.Descriptor, refs []Referrer) ([]v1.Hash, error) {
	mu, _ := subjects.LoadOrStore(repo.String()+"@"+subject.Digest.String(), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	opts := t.Remote(ctx)
	at := repo.Digest(subject.Digest.String())
	listed := func() (map[v1.Hash]bool, error) {
		idx, err := remote.Referrers(at, opts...)
		if err != nil {
			return nil, fmt.Errorf("listing the referrers of %s: %w", at, err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		out := map[v1.Hash]bool{}
		for _, d := range m.Manifests {
			out[d.Digest] = true
		}
		return out, nil
	}
	digests := make([]v1.Hash, len(refs))
	raws := make([][]byte, len(refs))
	layers := make([]v1.Layer, len(refs))
	for i, r := range refs {
		var err error
		if raws[i], layers[i], err = r.manifest(subject); err != nil {
			return nil, err
		}
		if digests[i], _, err = v1.SHA256(bytes.NewReader(raws[i])); err != nil {
			return nil, err
		}
	}
	// Another process may rewrite the fallback tag between our read and
	// write and drop our entry: write what is not listed, read back, and
	// again, a few times.
	for attempt := 0; ; attempt++ {
		have, err := listed()
		if err != nil {
			return nil, err
		}
		var missing []int
		for i, d := range digests {
			if !have[d] {
				missing = append(missing, i)
			}
		}
		if len(missing) == 0 {
			return digests, nil
		}
		if attempt == 3 {
			i := missing[0]
			return nil, fmt.Errorf("reading back the referrers of %s: the %s referrer %s is not listed", at, refs[i].ArtifactType, digests[i])
		}
		for _, i := range missing {
			err := t.Retry.Do(ctx, func() error {
				if err := remote.WriteLayer(repo, static.NewLayer(emptyConfig, emptyMediaType), opts...); err != nil {
					return err
				}
				if err := remote.WriteLayer(repo, layers[i], opts...); err != nil {
					return err
				}
				return remote.Put(repo.Digest(digests[i].String()), rawManifest(raws[i]), opts...)
			})
			if err != nil {
				return nil, fmt.Errorf("writing the %s referrer of %s: %w", refs[i].ArtifactType, at, err)
			}
		}
	}
}
