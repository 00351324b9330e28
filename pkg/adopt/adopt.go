// Package adopt reads a tree that a build script built (components as
// folders with a Dockerfile, and the conventions AI-Infra-Matrix's build.sh
// kept beside them) and gives the matrix configuration that builds it: what
// `matrix init` writes. It works on an fs.FS and writes through a function,
// so the host CLI and the module share it.
package adopt

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/mirror"
)

// The conventions a tree built with a build script carries.
const (
	// TargetsFile, in a component folder, lists the images its Dockerfile
	// gives: one "<target> <image>" per line.
	TargetsFile = "build-targets.conf"
	// DependencyFile, alone in a folder, names an upstream image to pull
	// and re-tag (IMAGE=name:tag, or name:tag).
	DependencyFile = "dependency.conf"
	// ArgFile, at the root, holds the build args (and much else).
	ArgFile = ".env.example"
)

// File is a file init writes.
type File struct {
	Path string // a slash path inside the tree
	Data []byte
}

// Adoption is what init writes into a tree, and what it found there.
type Adoption struct {
	// Components is the components directory inside the tree ("." for
	// the tree itself), as --components-path names it.
	Components string
	Files      []File   // what init writes, in a fixed order
	ArgFile    string   // ArgFile's path inside the tree when there is one: the --build-arg-file to pass
	Notes      []string // what to look at: services: candidates, images left out
}

// folder is a folder of the components directory as init reads it.
type folder struct {
	name       string
	dockerfile []byte // nil: not a component
}

// Scan reads the tree fsys (where names it in messages and the files) and
// gives the configuration that builds it. components is the components
// directory inside it; empty: the directory whose folders hold the most
// Dockerfiles. A tree it cannot adopt is bad input naming the path and the fix.
func Scan(fsys fs.FS, where, components string) (*Adoption, error) {
	found, err := dockerfiles(fsys)
	if err != nil {
		return nil, &component.Error{File: where, Problem: component.Problem(err), Fix: "give the repository to adopt: matrix init DIR"}
	}
	a := &Adoption{}
	if a.Components, err = componentsDir(fsys, where, components, found); err != nil {
		return nil, err
	}
	var outside []string
	for _, p := range found {
		if path.Dir(path.Dir(p)) != a.Components {
			outside = append(outside, path.Join(where, p))
		}
	}
	if len(outside) > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("not in a component folder of %s, so left out: %s (--components-path chooses another directory)",
			path.Join(where, a.Components), strings.Join(outside, ", ")))
	}
	folders, ignore, thirdParty, err := a.read(fsys, where)
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(fsys, ArgFile); err == nil {
		a.ArgFile = ArgFile
	}
	ctx, err := a.context(fsys, where, folders)
	if err != nil {
		return nil, err
	}
	a.Files = append(a.Files, File{Path: path.Join(a.Components, component.ConfigFile), Data: a.config(ctx, ignore, len(thirdParty) > 0)})
	served := a.services(where, folders)
	for _, f := range folders {
		images, err := a.images(fsys, where, f)
		if err != nil {
			return nil, err
		}
		if file := a.componentFile(f, images, served[f.name]); file != nil {
			a.Files = append(a.Files, *file)
		}
	}
	if len(thirdParty) > 0 {
		a.Files = append(a.Files, File{Path: path.Join(a.Components, mirror.ListName), Data: thirdPartyList(thirdParty)})
	}
	return a, nil
}

// dockerfiles lists the files named Dockerfile under fsys, outside hidden
// folders and node_modules.
func dockerfiles(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules"):
			return fs.SkipDir
		case !d.IsDir() && d.Name() == "Dockerfile":
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// componentsDir is the components directory: the one given, or the one
// whose folders hold the most of the Dockerfiles found.
func componentsDir(fsys fs.FS, where, given string, found []string) (string, error) {
	if given != "" {
		dir := path.Clean(given)
		if info, err := fs.Stat(fsys, dir); err != nil || !info.IsDir() || !fs.ValidPath(dir) {
			return "", &component.Error{File: path.Join(where, given), Problem: "is not a directory of the tree",
				Fix: "give --components-path as the folder inside DIR that holds one folder per component, such as src"}
		}
		if !slices.ContainsFunc(found, func(p string) bool { return path.Dir(path.Dir(p)) == dir }) {
			return "", &component.Error{File: path.Join(where, dir), Problem: "no component folder in it holds a Dockerfile",
				Fix: "add " + path.Join(where, dir, "<name>", "Dockerfile") + ", or name another directory with --components-path"}
		}
		return dir, nil
	}
	count := map[string]int{}
	for _, p := range found {
		if path.Dir(p) != "." {
			count[path.Dir(path.Dir(p))]++
		}
	}
	if len(count) == 0 {
		fix := "give the repository whose component folders hold a Dockerfile each, such as src/<name>/Dockerfile"
		if len(found) > 0 {
			fix = "a Dockerfile at the root is one image, not a tree of components: " + fix
		}
		return "", &component.Error{File: where, Problem: "no Dockerfile in a folder of it", Fix: fix}
	}
	var best []string
	for _, dir := range slices.Sorted(maps.Keys(count)) {
		switch {
		case len(best) == 0 || count[dir] > count[best[0]]:
			best = []string{dir}
		case count[dir] == count[best[0]]:
			best = append(best, dir)
		}
	}
	if len(best) > 1 {
		var each []string
		for _, dir := range best {
			each = append(each, fmt.Sprintf("%s (%d)", path.Join(where, dir), count[dir]))
		}
		return "", &component.Error{File: where, Problem: "as many component folders with a Dockerfile in " + strings.Join(each, " as in "),
			Fix: "name the components directory with --components-path, such as --components-path " + best[0]}
	}
	return best[0], nil
}

// read sorts the folders of the components directory: components (a
// Dockerfile, or a component.yaml already there), and the rest, which go
// under ignore:, among them the upstream images of dependency.conf folders.
func (a *Adoption) read(fsys fs.FS, where string) (comps []folder, ignore []string, thirdParty []mirror.Image, err error) {
	entries, err := fs.ReadDir(fsys, a.Components)
	if err != nil {
		return nil, nil, nil, &component.Error{File: path.Join(where, a.Components), Problem: component.Problem(err)}
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := path.Join(a.Components, e.Name())
		df, err := fs.ReadFile(fsys, path.Join(dir, "Dockerfile"))
		_, specErr := fs.Stat(fsys, path.Join(dir, component.FileName))
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, nil, nil, &component.Error{File: path.Join(where, dir, "Dockerfile"), Problem: component.Problem(err)}
		case (err == nil || specErr == nil) && !component.NameRE.MatchString(e.Name()):
			ignore = append(ignore, e.Name())
			a.Notes = append(a.Notes, fmt.Sprintf("%s: listed under ignore:, for a component name is lower-case letters, digits and dashes: rename the folder to build it", path.Join(where, dir)))
		case err == nil || specErr == nil:
			comps = append(comps, folder{name: e.Name(), dockerfile: df})
		default:
			ignore = append(ignore, e.Name())
			if img, ok := a.dependency(fsys, where, e.Name()); ok {
				thirdParty = append(thirdParty, img)
			}
		}
	}
	return comps, ignore, thirdParty, nil
}

// dependency reads folder name's dependency.conf, if it has one, as an
// entry of third-party.yaml; an image that entry cannot hold (not pinned)
// is left out with a note.
func (a *Adoption) dependency(fsys fs.FS, where, name string) (mirror.Image, bool) {
	file := path.Join(a.Components, name, DependencyFile)
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return mirror.Image{}, false
	}
	leftOut := func(why string) (mirror.Image, bool) {
		a.Notes = append(a.Notes, fmt.Sprintf("%s: %s, so it is not in %s: add it there by hand, pinned to a version",
			path.Join(where, file), why, path.Join(where, a.Components, mirror.ListName)))
		return mirror.Image{}, false
	}
	src := component.DependencyImage(data)
	if src == "" {
		return leftOut("names no image with a tag or digest")
	}
	img := mirror.Image{Name: name, Source: src, Target: repository(src)}
	if _, err := mirror.Parse(file, thirdPartyList([]mirror.Image{img})); err != nil {
		var e *component.Error
		if errors.As(err, &e) {
			return leftOut(fmt.Sprintf("%s %s", e.Field, e.Problem))
		}
		return leftOut(err.Error())
	}
	return img, true
}

// repository is the repository of an upstream reference, as the private
// registry holds it: confluentinc/cp-kafka, postgres (Docker Hub's library/
// dropped). ref is one DependencyImage parsed.
func repository(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(r.Context().RepositoryStr(), "library/")
}

// evidence is a COPY or ADD source that says where the build context is.
type evidence struct {
	at, instruction, path string
}

// context is the shared build context, relative to the components directory
// ("" for each component's folder): the tree's root when a Dockerfile
// COPYs or ADDs a path found from the root and not in its own folder. It
// returns the first such source of each component, for the comment.
func (a *Adoption) context(fsys fs.FS, where string, comps []folder) ([]evidence, error) {
	var root, local []evidence
	for _, f := range comps {
		if f.dockerfile == nil {
			continue
		}
		dir := path.Join(a.Components, f.name)
		file := path.Join(dir, "Dockerfile") // as matrix.yaml names it: inside the tree
		srcs, err := sources(file, f.dockerfile)
		if err != nil {
			return nil, &component.Error{File: path.Join(where, file), Problem: "cannot be parsed: " + strings.TrimPrefix(err.Error(), file+": "), Fix: "fix the Dockerfile syntax"}
		}
		seenRoot, seenLocal := false, false
		for _, s := range srcs {
			p := path.Clean("./" + strings.TrimPrefix(s.Path, "/"))
			if p == "." || !fs.ValidPath(p) {
				continue
			}
			e := evidence{at: fmt.Sprintf("%s:%d", file, s.Line), instruction: s.Instruction, path: s.Path}
			inFolder, atRoot := exists(fsys, path.Join(dir, p)), exists(fsys, p)
			switch {
			case atRoot && !inFolder && !seenRoot:
				root, seenRoot = append(root, e), true
			case inFolder && !atRoot && !seenLocal:
				local, seenLocal = append(local, e), true
			}
		}
	}
	if len(root) == 0 {
		return nil, nil
	}
	for _, e := range local {
		a.Notes = append(a.Notes, fmt.Sprintf("%s/%s: %s %s is in the component's folder, not at the root, the build context of every component: "+
			"write it from the root", where, e.at, e.instruction, e.path))
	}
	return root, nil
}

// sources are the context sources of every stage of a Dockerfile.
func sources(file string, df []byte) ([]lint.Source, error) {
	stages, err := lint.Stages(file, df)
	if err != nil {
		return nil, err
	}
	var out []lint.Source
	for _, target := range append(stages, "") {
		srcs, err := lint.Sources(file, df, target, nil)
		if err != nil {
			return nil, err
		}
		for _, s := range srcs {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y lint.Source) int { return x.Line - y.Line })
	return out, nil
}

// exists tells whether p, a path or a glob inside fsys, names something.
func exists(fsys fs.FS, p string) bool {
	if strings.ContainsAny(p, `*?[`) {
		m, err := fs.Glob(fsys, p)
		return err == nil && len(m) > 0
	}
	_, err := fs.Stat(fsys, p)
	return err == nil
}

// contextPath is the tree's root relative to the components directory.
func (a *Adoption) contextPath() string {
	if a.Components == "." {
		return "."
	}
	return strings.TrimSuffix(strings.Repeat("../", strings.Count(a.Components, "/")+1), "/")
}

// componentFile is folder f's component.yaml, when it needs one: its
// images (from build-targets.conf) and the components served while it
// builds (from its fetches).
func (a *Adoption) componentFile(f folder, images []image, services []service) *File {
	var from []string
	var fields []field
	if len(images) > 0 {
		from = append(from, TargetsFile+": one image per target of the\nDockerfile, addressed "+f.name+"/<name>")
		fields = append(fields, field{key: "images", value: images})
	}
	if len(services) > 0 {
		from = append(from, "its fetches from another component's URL while it\nbuilds: that component is served then")
		fields = append(fields, field{key: "services", value: services})
	}
	if fields == nil {
		return nil
	}
	head := "Written by matrix init from " + strings.Join(from, ";\nand from ") + " (see docs/components.md)."
	return &File{Path: path.Join(a.Components, f.name, component.FileName), Data: render(head, fields...)}
}

// images are the entries of images: of a component whose folder has a
// build-targets.conf, one per line; none without one.
func (a *Adoption) images(fsys fs.FS, where string, f folder) ([]image, error) {
	dir := path.Join(a.Components, f.name)
	conf := path.Join(dir, TargetsFile)
	data, err := fs.ReadFile(fsys, conf)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	name := path.Join(where, conf)
	if err != nil {
		return nil, &component.Error{File: name, Problem: component.Problem(err)}
	}
	if f.dockerfile == nil {
		return nil, &component.Error{File: name, Problem: "lists images of a Dockerfile the folder does not have", Fix: "add " + path.Join(where, dir, "Dockerfile") + ", or remove " + TargetsFile}
	}
	stages, err := lint.Stages(path.Join(where, dir, "Dockerfile"), f.dockerfile)
	if err != nil {
		return nil, &component.Error{File: path.Join(where, dir, "Dockerfile"), Problem: "cannot be parsed: " + err.Error(), Fix: "fix the Dockerfile syntax"}
	}
	var images []image
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(problem, fix string) error {
			return &component.Error{File: fmt.Sprintf("%s:%d", name, i+1), Problem: problem, Fix: fix}
		}
		words := strings.Fields(line)
		if len(words) != 2 {
			return nil, bad(fmt.Sprintf("%q is not <target> <image>", line), "write one image per line: a stage of the Dockerfile, then its repository name, such as backend-init ai-infra-backend-init")
		}
		img := image{Name: strings.ToLower(words[0]), Target: words[0], Image: words[1]}
		switch {
		case !slices.ContainsFunc(stages, func(s string) bool { return strings.EqualFold(s, img.Target) }):
			return nil, bad(fmt.Sprintf("target %q is not a stage of %s", img.Target, path.Join(where, dir, "Dockerfile")), "name one of its stages: "+strings.Join(stages, ", "))
		case !component.NameRE.MatchString(img.Name):
			return nil, bad(fmt.Sprintf("target %q cannot name an image: a name is lower-case letters, digits and dashes", img.Target), "write "+path.Join(where, dir, component.FileName)+" by hand")
		case slices.ContainsFunc(images, func(o image) bool { return o.Name == img.Name }):
			return nil, bad(fmt.Sprintf("target %s is listed twice", img.Target), "list each target once")
		}
		images = append(images, img)
	}
	if len(images) == 0 {
		return nil, &component.Error{File: name, Problem: "lists no image", Fix: "write one <target> <image> per line, or remove it"}
	}
	return images, nil
}

// image is an entry of component.yaml's images:.
type image struct {
	Name   string `yaml:"name"`
	Target string `yaml:"target"`
	Image  string `yaml:"image"`
}

// config is matrix.yaml: the shared context, and the folders that are not components.
func (a *Adoption) config(ctx []evidence, ignore []string, thirdParty bool) []byte {
	comps := "the components directory"
	if a.Components != "." {
		comps = a.Components + "/"
	}
	head := "Written by matrix init: the run-wide defaults of the components in " + comps + "\n(see docs/adoption.md)."
	var fields []field
	if len(ctx) > 0 {
		c := "The build context of every component is the root of the tree: these\nCOPY and ADD paths are found from there, not in the component's folder."
		for _, e := range ctx {
			c += fmt.Sprintf("\n  %s: %s %s", e.at, e.instruction, e.path)
		}
		fields = append(fields, field{comment: c, key: "context", value: a.contextPath()})
	}
	if len(ignore) > 0 {
		c := "Folders of " + comps + " that are not components: no Dockerfile."
		if thirdParty {
			c += "\nThose holding a " + DependencyFile + " are upstream images, in " + mirror.ListName + "."
		}
		fields = append(fields, field{comment: c, key: "ignore", value: ignore, flow: true})
	}
	return render(head, fields...)
}

// thirdPartyList is third-party.yaml listing images.
func thirdPartyList(images []mirror.Image) []byte {
	type entry struct {
		Name   string `yaml:"name"`
		Source string `yaml:"source"`
		Target string `yaml:"target"`
	}
	var entries []entry
	for _, img := range images {
		entries = append(entries, entry{Name: img.Name, Source: img.Source, Target: img.Target})
	}
	head := "Written by matrix init from the folders holding a " + DependencyFile + ": the\n" +
		"upstream images the stack runs with, which matrix mirror copies and\nmatrix export bundles (see docs/bundles.md)."
	return render(head, field{key: "images", value: entries})
}

// service is an entry of component.yaml's services:.
type service struct {
	Component string `yaml:"component"`
	Port      int    `yaml:"port"`
	Arg       string `yaml:"arg"`
}

// services finds the Dockerfiles that fetch from another component while
// they build (curl ${APPHUB_URL}/... needs apphub serving), and gives each
// folder's entries of services:. A fetch whose server's port or build arg
// cannot be told is pointed out instead, with its line.
func (a *Adoption) services(where string, comps []folder) map[string][]service {
	out := map[string][]service{}
	for _, f := range comps {
		if f.dockerfile == nil {
			continue
		}
		file := path.Join(where, a.Components, f.name, "Dockerfile")
		fetches, err := lint.Fetches(file, f.dockerfile)
		if err != nil {
			continue // parsed before
		}
		declared, _ := lint.Args(file, f.dockerfile)
		for _, fe := range fetches {
			server := ""
			for _, o := range comps {
				prefix := strings.ToUpper(strings.ReplaceAll(o.name, "-", "_")) + "_"
				if o.name != f.name && strings.HasPrefix(fe.Var, prefix) && len(o.name) > len(server) {
					server = o.name
				}
			}
			if server == "" || slices.ContainsFunc(out[f.name], func(s service) bool { return s.Component == server || s.Arg == fe.Var }) {
				continue
			}
			why := ""
			var ports []int
			if o := comps[slices.IndexFunc(comps, func(o folder) bool { return o.name == server })]; o.dockerfile != nil {
				ports, _ = lint.Ports(path.Join(where, a.Components, server, "Dockerfile"), o.dockerfile)
			}
			switch {
			case !slices.Contains(declared, fe.Var):
				why = fmt.Sprintf("the Dockerfile declares no ARG %s: declare it, then add {component: %s, port: <its port>, arg: %s}", fe.Var, server, fe.Var)
			case len(ports) != 1:
				why = fmt.Sprintf("%s's Dockerfile EXPOSEs %d ports: add {component: %s, port: <the port it serves on>, arg: %s}", server, len(ports), server, fe.Var)
			}
			if why == "" {
				out[f.name] = append(out[f.name], service{Component: server, Port: ports[0], Arg: fe.Var})
				continue
			}
			a.Notes = append(a.Notes, fmt.Sprintf("%s:%d: a RUN fetches from ${%s} with %s while the image builds, so %s must be serving: "+
				"a candidate for services: in %s (%s)",
				file, fe.Line, fe.Var, fe.Tool, server, path.Join(where, a.Components, f.name, component.FileName), why))
		}
	}
	return out
}

// Status is what Write did to a file.
type Status string

// The statuses of a file.
const (
	Created     Status = "created"
	Unchanged   Status = "unchanged"
	Overwritten Status = "overwritten"
)

// Change is what Write did to one file.
type Change struct {
	Path   string // inside the tree
	Status Status
}

// WriteFunc writes data to the file p, a slash path inside the tree.
type WriteFunc func(p string, data []byte) error

// Write writes a's files into the tree fsys with write, where the tree does
// not hold them already. A file there that differs is overwritten only with
// force: otherwise nothing is written and the error names each file (bad
// input). Run again, it writes nothing.
func (a *Adoption) Write(fsys fs.FS, where string, force bool, write WriteFunc) ([]Change, error) {
	var changes []Change
	var differ []string
	for _, f := range a.Files {
		old, err := fs.ReadFile(fsys, f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			changes = append(changes, Change{f.Path, Created})
		case err != nil:
			return nil, &component.Error{File: path.Join(where, f.Path), Problem: component.Problem(err)}
		case bytes.Equal(old, f.Data):
			changes = append(changes, Change{f.Path, Unchanged})
		default:
			changes = append(changes, Change{f.Path, Overwritten})
			differ = append(differ, path.Join(where, f.Path))
		}
	}
	if len(differ) > 0 && !force {
		return nil, class.BadInput.Errorf("%s: already there and not what init writes; nothing written (pass --force to overwrite, or move them away first)",
			strings.Join(differ, ", "))
	}
	for i, c := range changes {
		if c.Status == Unchanged {
			continue
		}
		if err := write(c.Path, a.Files[i].Data); err != nil {
			return changes[:i], fmt.Errorf("writing %s: %w", path.Join(where, c.Path), err)
		}
	}
	return changes, nil
}
