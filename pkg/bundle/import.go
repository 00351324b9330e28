package bundle

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sourcegraph/conc/pool"

	"github.com/ai-infra-matrix/matrix/pkg/archive"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Dir is a bundle's directory: Path, where it is read, and Name, how the
// caller named it (the module's --bundle, read from its own copy); the
// messages name files under Name, or under Path without one.
type Dir struct{ Path, Name string }

// badBundle is bad input naming the file (a *component.Error).
func badBundle(d Dir, file, problem, fix string) error {
	return &component.Error{File: filepath.Join(cmp.Or(d.Name, d.Path), file), Problem: problem, Fix: fix}
}

const fixRewrite = "write the bundle again with matrix export, or copy it again"

// Verify checks the bundle in d before anything is pushed: SHA256SUMS and
// bundle.json list the same archives, every listed file is there with its
// sum, no other file is, and each archive holds the index, platforms and
// blobs bundle.json says. Every error is a *component.Error (bad input)
// naming the file.
func Verify(d Dir) (*Manifest, error) {
	bad := func(file, problem, fix string) error { return badBundle(d, file, problem, fix) }
	dir := d.Path
	data, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		return nil, bad(SumsFile, "cannot be read: "+component.Problem(err), "give the directory matrix export wrote")
	}
	sums, order, err := parseSums(data)
	if err != nil {
		return nil, bad(SumsFile, err.Error(), fixRewrite)
	}
	if _, ok := sums[ManifestFile]; !ok {
		return nil, bad(SumsFile, "does not list "+ManifestFile, fixRewrite)
	}
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil, bad("", component.Problem(err), "")
	}
	present := map[string]bool{}
	for _, f := range list {
		if _, listed := sums[f.Name()]; !listed && f.Name() != SumsFile {
			return nil, bad(f.Name(), "is not listed in "+SumsFile, "remove it: a bundle holds only what SHA256SUMS lists")
		}
		present[f.Name()] = f.Type().IsRegular()
	}
	for _, file := range order {
		regular, ok := present[file]
		switch {
		case !ok:
			return nil, bad(file, "is missing (listed in "+SumsFile+")", "copy the whole bundle")
		case !regular:
			return nil, bad(file, "is not a regular file", "copy the whole bundle")
		}
		got, err := archive.Sum(filepath.Join(dir, file))
		if err != nil {
			return nil, bad(file, "cannot be read: "+component.Problem(err), "")
		}
		if got != sums[file] {
			return nil, bad(file, fmt.Sprintf("is corrupt: its sha256 is %s, %s says %s", got, SumsFile, sums[file]), fixRewrite)
		}
	}
	m, err := readManifest(d)
	if err != nil {
		return nil, err
	}
	inManifest := map[string]bool{}
	for _, e := range m.Archives {
		if err := checkEntry(e); err != nil {
			return nil, bad(ManifestFile, fmt.Sprintf("archive %s: %v", e.File, err), fixRewrite)
		}
		if inManifest[e.File] {
			return nil, bad(ManifestFile, fmt.Sprintf("archive %s is listed twice", e.File), fixRewrite)
		}
		inManifest[e.File] = true
		if sum, ok := sums[e.File]; !ok || sum != e.SHA256 {
			return nil, bad(e.File, fmt.Sprintf("%s and %s disagree on it", ManifestFile, SumsFile), fixRewrite)
		}
		if err := checkArchive(dir, e); err != nil {
			return nil, bad(e.File, err.Error(), fixRewrite)
		}
	}
	for _, file := range order {
		if file != ManifestFile && !inManifest[file] {
			return nil, bad(file, "is listed in "+SumsFile+" but not in "+ManifestFile, fixRewrite)
		}
	}
	return m, nil
}

// readManifest decodes bundle.json strictly.
func readManifest(d Dir) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(d.Path, ManifestFile))
	if err != nil {
		return nil, badBundle(d, ManifestFile, "cannot be read: "+component.Problem(err), fixRewrite)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, badBundle(d, ManifestFile, "is not a bundle manifest: "+err.Error(), fixRewrite)
	}
	if m.Version != ManifestVersion {
		return nil, badBundle(d, ManifestFile, fmt.Sprintf("is version %d, this matrix reads %d", m.Version, ManifestVersion),
			"import it with the matrix that wrote it")
	}
	return &m, nil
}

// checkEntry checks the fields of one bundle.json entry.
func checkEntry(e Entry) error {
	switch {
	case e.Kind != KindComponent && e.Kind != KindThirdParty:
		return fmt.Errorf("kind %q is not %s or %s", e.Kind, KindComponent, KindThirdParty)
	case !component.AddressRE.MatchString(e.Name):
		return fmt.Errorf("name %q is not a component-like name", e.Name)
	case len(e.Platforms) == 0 || len(e.PlatformDigests) != len(e.Platforms):
		return fmt.Errorf("%d platforms and %d platform digests", len(e.Platforms), len(e.PlatformDigests))
	}
	if _, err := name.NewRepository("registry.invalid/"+e.Repository, name.StrictValidation); err != nil {
		return fmt.Errorf("repository %q: %w", e.Repository, err)
	}
	if _, err := v1.NewHash(e.Digest); err != nil {
		return fmt.Errorf("digest %q: %w", e.Digest, err)
	}
	for i, p := range e.Platforms {
		if err := component.CheckPlatform(p); err != nil {
			return err
		}
		if e.PlatformDigests[i].Platform != p {
			return fmt.Errorf("platform digest %d is for %s, want %s", i, e.PlatformDigests[i].Platform, p)
		}
	}
	for _, tag := range e.Tags {
		if _, err := name.NewTag("registry.invalid/x:"+tag, name.StrictValidation); err != nil || tag == registry.PendingTag {
			return fmt.Errorf("tag %q is not valid", tag)
		}
	}
	return nil
}

// checkArchive checks that the archive holds what e says, completely.
func checkArchive(dir string, e Entry) error {
	a, err := archive.Open(filepath.Join(dir, e.File))
	if err != nil {
		return err
	}
	defer a.Close()
	root, err := a.Root()
	if err != nil {
		return err
	}
	d, pds, err := digests(root, e.Platforms)
	if err != nil {
		return err
	}
	if d != e.Digest {
		return fmt.Errorf("holds %s, %s says %s", d, ManifestFile, e.Digest)
	}
	if !slices.Equal(pds, e.PlatformDigests) {
		return fmt.Errorf("holds platforms %v, %s says %v", pds, ManifestFile, e.PlatformDigests)
	}
	return a.Complete(root)
}

// Result is what an import did: each archive's index where it now is, and
// the references it wrote and found already there.
type Result struct {
	Indexes []report.Index `json:"indexes"`
	Written []string       `json:"written"` // repo@digest of each index pushed, repo:tag of each tag moved
	Present []string       `json:"present"` // the same, already there: nothing written
}

// Table writes what an import wrote and what was already there, then one
// line per index imported, and the counts.
func (r *Result) Table(w io.Writer) error {
	for _, ref := range r.Written {
		fmt.Fprintf(w, "wrote    %s\n", ref)
	}
	for _, ref := range r.Present {
		fmt.Fprintf(w, "present  %s\n", ref)
	}
	for _, i := range r.Indexes {
		fmt.Fprintf(w, "imported %s@%s tags %s\n", i.Ref, i.Digest, strings.Join(i.Tags, ","))
	}
	_, err := fmt.Fprintf(w, "%d archive(s) imported: %d reference(s) written, %d already there\n", len(r.Indexes), len(r.Written), len(r.Present))
	return err
}

// Import checks the bundle in d (Verify: nothing is pushed from a bundle
// that does not check out), then pushes every archive into t's registry
// with all its platforms, under registry.PendingTag, reads each back (its
// digest must be the one bundle.json gives), and only then moves the final
// tags of all of them: each entry's tags and t.Tags. What the registry
// already holds by digest or tag is not written again, so a second import
// of the same bundle writes nothing. A bundle that does not check out is
// bad input, a registry that does not answer unreachable (see class).
func Import(ctx context.Context, d Dir, t registry.Client) (*Result, error) {
	m, err := Verify(d)
	if err != nil {
		return nil, err
	}
	if err := t.Ping(ctx); err != nil {
		return nil, err
	}
	opts := t.Remote(ctx)
	res := &Result{}
	all := make([]pushed, len(m.Archives))
	defer func() {
		for _, p := range all {
			if p.a != nil {
				_ = p.a.Close() // read-only
			}
		}
	}()
	wg := pool.New().WithErrors().WithMaxGoroutines(max(t.Jobs, 1))
	for i, e := range m.Archives {
		wg.Go(func() error {
			all[i].e = e
			return all[i].push(d.Path, t, opts)
		})
	}
	if err := wg.Wait(); err != nil {
		return res, fmt.Errorf("no final tag was changed: %w", err)
	}
	for _, p := range all {
		ref := p.repo.Digest(p.e.Digest).String()
		if p.wrote {
			res.Written = append(res.Written, ref)
		} else {
			res.Present = append(res.Present, ref)
		}
	}
	unlock, err := registry.LockTags(ctx, t.Registry, t.Notify)
	if err != nil {
		return res, err
	}
	defer unlock()
	for _, p := range all {
		digest, _ := v1.NewHash(p.e.Digest) // checked by Verify
		tags := mirror.AddTags(slices.Clone(p.e.Tags), t.Tags)
		moved, present, err := registry.MoveTags(p.repo, p.root, digest, tags, opts)
		res.Written, res.Present = append(res.Written, moved...), append(res.Present, present...)
		if err != nil {
			return res, fmt.Errorf("%s: %w", p.e.File, err)
		}
		res.Indexes = append(res.Indexes, report.Index{Component: p.e.Name, Ref: p.repo.String(), Digest: p.e.Digest,
			Tags: tags, Platforms: p.e.PlatformDigests, Source: p.e.Source})
	}
	sort.Slice(res.Indexes, func(i, j int) bool { return res.Indexes[i].Component < res.Indexes[j].Component })
	return res, nil
}

// pushed is one archive on its way: in the registry under the pending tag
// (or already there by digest) and read back.
type pushed struct {
	e     Entry
	a     *archive.Archive
	root  remote.Taggable
	repo  name.Repository
	wrote bool
}

func (p *pushed) push(dir string, t registry.Client, opts []remote.Option) error {
	var err error
	if p.a, err = archive.Open(filepath.Join(dir, p.e.File)); err != nil {
		return err
	}
	if p.root, err = p.a.Root(); err != nil {
		return err
	}
	if p.repo, err = name.NewRepository(t.Repo(p.e.Repository)); err != nil {
		return fmt.Errorf("%s: repository %q: %w", p.e.File, t.Repo(p.e.Repository), err)
	}
	if p.wrote, err = registry.Pending(p.repo, p.root, opts); err == nil {
		err = mirror.ReadBack(p.repo, p.root, p.e.Platforms, opts)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.e.File, err)
	}
	return nil
}
