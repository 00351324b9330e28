package component

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
)

// FileName is the optional per-component file.
const FileName = "component.yaml"

// Spec is one image of a component and how to build it: the component
// itself (a buildable directory), or one entry of its component.yaml's
// images: list, each a target of the same Dockerfile.
type Spec struct {
	// Name is the image's address in flags and reports: the component's
	// name, or component/image for an entry of images:.
	Name       string
	Dir        string   // the component directory
	Image      string   // repository name, default ai-infra-<name> (ai-infra-<image> for an entry of images:)
	Platforms  []string // supported platforms; empty means every requested one
	Dockerfile string   // relative to Dir
	Target     string
	Args       []Arg    // sorted by name, so build inputs never depend on map order
	Secrets    []string // BuildKit secret ids
	DependsOn  []string
	Services   []Service         // components of the run served while this one builds
	Smoke      []string          // argv that must succeed in every variant
	Declared   []string          // ARG names the Dockerfile declares; mirrors go only to these
	Lint       []lint.Finding    // what matrix lint finds in the Dockerfile, less the ignored rules
	LintIgnore map[string]string // rule id → why it does not apply here (lint.ignore)
	// Annotations are the OCI annotations by full key: AnnotationsFile's
	// defaults under component.yaml's (after Load).
	Annotations map[string]string
	Base        string   // the final stage's base image, when the Dockerfile names one ("" for FROM ${ARG} or scratch)
	Scratch     bool     // the final stage is built FROM scratch: no base gives its image config
	Labels      []string // the label keys the Dockerfile sets in the final stage (matrix adds no label of these)
	// imageField is the component.yaml field that gives Image ("" for
	// image, or its default), for the error when another image has it too.
	imageField string
	// Context is the cell's build context inside Set.Upload ("." for the
	// shared context, else the component's folder), and ContextDockerfile
	// the Dockerfile's path inside that context.
	Context, ContextDockerfile string
}

// Component is the component c is an image of: its folder's name.
func (c Spec) Component() string { return ComponentOf(c.Name) }

// ComponentOf is the component of an address: backend for backend/backend-init
// (one of its images), and for backend.
func ComponentOf(address string) string {
	comp, _, _ := strings.Cut(address, "/")
	return comp
}

// Service is an entry of component.yaml's services: a component of the run
// whose variant of the same platform is served while this one builds, on
// Port, its URL (http://HOST:PORT) passed as build arg Arg. Wait bounds the
// wait for the port to answer.
type Service struct {
	Component string        `json:"component"`
	Port      int           `json:"port"`
	Arg       string        `json:"arg"`
	Wait      time.Duration `json:"wait"`
}

// DefaultServiceWait is a service's wait when component.yaml gives none.
const DefaultServiceWait = 2 * time.Minute

// maxServiceWait bounds what component.yaml may ask: a wait is a bound, not a hang.
const maxServiceWait = 30 * time.Minute

// Served are the components c's builds are served: its services'.
func (c Spec) Served() []string {
	out := make([]string, len(c.Services))
	for i, s := range c.Services {
		out[i] = s.Component
	}
	return out
}

// Arg is an explicit build arg; Value may hold ${VERSION}.
type Arg struct{ Name, Value string }

// HasArg tells whether c sets build arg name itself.
func (c Spec) HasArg(name string) bool {
	return slices.ContainsFunc(c.Args, func(a Arg) bool { return a.Name == name })
}

// Credential tells a build arg name that looks like a credential: it must
// be a secret, for build args end up in the image history.
func Credential(name string) bool { return secretish.MatchString(name) }

// Supports reports whether c builds for platform p.
func (c Spec) Supports(p string) bool {
	return len(c.Platforms) == 0 || slices.Contains(c.Platforms, p)
}

// Error is bad input: which file, which entry of a list file (may be
// empty), which field, what is wrong and how to fix it.
type Error struct {
	File, Entry, Field, Problem, Fix string
}

// Class is bad input.
func (*Error) Class() class.Class { return class.BadInput }

func (e *Error) Error() string {
	s := e.File
	if e.Entry != "" {
		s += ": entry " + e.Entry
	}
	if e.Field != "" {
		s += ": field " + e.Field
	}
	s += ": " + e.Problem
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// NameRE and SecretRE are what a component (or image) name and a secret
// id look like, for the flags that name them too (--secret); AddressRE is
// what names a component or one of its images (--components,
// depends_on): backend, or backend/backend-init.
var (
	NameRE    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	SecretRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	AddressRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)?$`)
)

var (
	imageRE = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	argRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// secretish names carry credentials; they must be secrets, not build args.
	secretish = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)`)
)

// Problem is err without the fs.PathError's path, which means nothing to
// the user: the Error names the file.
func Problem(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// raw is component.yaml as written.
type raw struct {
	Image      *string           `yaml:"image"`
	Platforms  []string          `yaml:"platforms"`
	Dockerfile *string           `yaml:"dockerfile"`
	Target     *string           `yaml:"target"`
	Args       map[string]string `yaml:"args"`
	Secrets    []string          `yaml:"secrets"`
	DependsOn  []string          `yaml:"depends_on"`
	Smoke      []string          `yaml:"smoke"`
	Lint       *struct {
		Ignore map[string]string `yaml:"ignore"`
	} `yaml:"lint"`
	Annotations map[string]string `yaml:"annotations"`
	Images      []yaml.Node       `yaml:"images"`
	Services    []yaml.Node       `yaml:"services"`
}

// rawService is an entry of component.yaml's services: as written.
type rawService struct {
	Component *string `yaml:"component"`
	Port      *int    `yaml:"port"`
	Arg       *string `yaml:"arg"`
	Wait      *string `yaml:"wait"`
}

// serviceFields are the keys of an entry of services:, with the fix shown for a wrong type.
var serviceFields = map[string]string{
	"component": "a component of the run, such as apphub",
	"port":      "the port it serves on, such as 80",
	"arg":       "the build arg that receives http://HOST:PORT, such as APPHUB_URL",
	"wait":      "a duration such as 2m",
}

// rawImage is an entry of component.yaml's images: as written.
type rawImage struct {
	Name   *string  `yaml:"name"`
	Image  *string  `yaml:"image"`
	Target *string  `yaml:"target"`
	Smoke  []string `yaml:"smoke"`
}

// imageFields are the keys of an entry of images:, with the fix shown for a wrong type.
var imageFields = map[string]string{
	"name":   "a name such as backend-init",
	"image":  "a string such as ai-infra-backend-init",
	"target": "a build stage name",
	"smoke":  "a command as a list, such as [migrate, --help]",
}

// fields are the keys of component.yaml, with the fix shown for a wrong type.
var fields = map[string]string{
	"image":       "a string such as ai-infra-backend",
	"platforms":   "a list such as [linux/amd64, linux/arm64]",
	"dockerfile":  "a path relative to the component directory",
	"target":      "a build stage name",
	"args":        "a map of NAME: value",
	"secrets":     "a list of secret names",
	"depends_on":  "a list of component names",
	"smoke":       "a command as a list, such as [nginx, -t]",
	"lint":        "a mapping such as {ignore: {unpinned-base: why it does not apply}}",
	"annotations": "a mapping of short annotation names, such as {licenses: MIT, description: ...}",
	"images":      "a list of images such as [{name: backend, target: backend}, {name: backend-init, target: backend-init}]",
	"services":    "a list such as [{component: apphub, port: 80, arg: APPHUB_URL}]",
}

// Read reads component name, a folder of fsys, as its images: one Spec, or
// one per entry of its images: list; where names fsys in errors.
func Read(fsys fs.FS, name, where string) ([]Spec, error) {
	dir := path.Join(where, name)
	file := path.Join(dir, FileName)
	if !NameRE.MatchString(name) {
		return nil, &Error{File: dir, Problem: fmt.Sprintf("component name %q is not lower-case letters, digits and dashes", name), Fix: "rename the directory"}
	}
	data, err := fs.ReadFile(fsys, name+"/"+FileName)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{File: file, Problem: Problem(err)}
	}
	sub, err := fs.Sub(fsys, name)
	if err != nil {
		return nil, &Error{File: dir, Problem: Problem(err)}
	}
	return decode(sub, name, dir, data)
}

// decode checks and applies component.yaml content data (may be empty) to
// the defaults of component name, whose folder is fsys; dir names it in
// errors. It gives one Spec, or one per entry of images:.
func decode(fsys fs.FS, name, dir string, data []byte) ([]Spec, error) {
	file := path.Join(dir, FileName)
	c := Spec{Name: name, Dir: dir, Image: "ai-infra-" + name, Dockerfile: "Dockerfile"}
	var r raw
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(file, data, fields, &r); err != nil {
			return nil, err
		}
	}
	bad := func(field, problem, fix string) error {
		return &Error{File: file, Field: field, Problem: problem, Fix: fix}
	}
	if r.Image != nil {
		if !imageRE.MatchString(*r.Image) {
			return nil, bad("image", fmt.Sprintf("%q is not a valid repository name", *r.Image), "use lower-case letters, digits, '.', '_', '-' and '/'")
		}
		c.Image = *r.Image
	}
	seen := map[string]bool{}
	for i, p := range r.Platforms {
		if err := CheckPlatform(p); err != nil {
			return nil, bad(fmt.Sprintf("platforms[%d]", i), err.Error(), "use os/arch such as linux/amd64 or linux/arm64")
		}
		if seen[p] {
			return nil, bad(fmt.Sprintf("platforms[%d]", i), fmt.Sprintf("%s is listed twice", p), "list each platform once")
		}
		seen[p] = true
	}
	c.Platforms = r.Platforms
	if r.Platforms != nil && len(r.Platforms) == 0 {
		return nil, bad("platforms", "is empty", "omit it to build for every requested platform")
	}
	if r.Dockerfile != nil {
		c.Dockerfile = *r.Dockerfile
	}
	if err := checkInside(fsys, c.Dockerfile); err != nil {
		return nil, bad("dockerfile", err.Error(), "name a file inside the component directory")
	}
	if r.Images != nil {
		for field, set := range map[string]bool{"image": r.Image != nil, "target": r.Target != nil} {
			if set {
				return nil, bad(field, "is set beside images:", "give each image its "+field+" under images:")
			}
		}
	}
	if r.Target != nil {
		c.Target = *r.Target
	}
	df, err := fs.ReadFile(fsys, c.Dockerfile)
	dockerfile := path.Join(dir, c.Dockerfile)
	switch {
	case err != nil && r.Dockerfile != nil:
		return nil, bad("dockerfile", fmt.Sprintf("%s: %s", c.Dockerfile, Problem(err)), "add the Dockerfile or name it in component.yaml")
	case err != nil:
		// No component.yaml names it: the message must not name one either.
		return nil, &Error{File: dockerfile, Problem: Problem(err), Fix: "add the Dockerfile, or name another with dockerfile: in " + file}
	}
	unparsable := func(err error) error {
		return &Error{File: dockerfile, Problem: "cannot be parsed: " + strings.TrimPrefix(err.Error(), dockerfile+": "), Fix: "fix the Dockerfile syntax"}
	}
	if c.Declared, err = lint.Args(dockerfile, df); err != nil {
		return nil, unparsable(err)
	}
	if err := c.final(dockerfile, df); err != nil {
		return nil, bad("target", err.Error(), "name a stage of the Dockerfile, or omit target for the last one")
	}
	if c.Annotations, err = checkAnnotations(file, "annotations", r.Annotations); err != nil {
		return nil, err
	}
	if r.Lint != nil {
		for id, why := range r.Lint.Ignore {
			if _, ok := lint.RuleByID(id); !ok {
				return nil, bad("lint.ignore."+id, "is not a lint rule", "rules: "+strings.Join(lint.IDs(), ", "))
			}
			if strings.TrimSpace(why) == "" {
				return nil, bad("lint.ignore."+id, "gives no reason", "say why the rule does not apply to this component")
			}
		}
		c.LintIgnore = r.Lint.Ignore
	}
	_, ignoreErr := fs.Stat(fsys, ".dockerignore")
	if err := c.lint(df, ignoreErr == nil); err != nil {
		return nil, unparsable(err)
	}
	for k, v := range r.Args {
		switch {
		case !argRE.MatchString(k):
			return nil, bad("args."+k, "is not a valid build arg name", "use letters, digits and _")
		case secretish.MatchString(k):
			return nil, bad("args."+k, "looks like a credential; build args end up in image history", "declare it under secrets and mount it with RUN --mount=type=secret")
		case IsReserved(k):
			return nil, bad("args."+k, "is set by matrix", "remove it; run-wide mirrors are options of the run")
		}
		c.Args = append(c.Args, Arg{Name: k, Value: v})
	}
	sort.Slice(c.Args, func(i, j int) bool { return c.Args[i].Name < c.Args[j].Name })
	for i, s := range r.Secrets {
		if !SecretRE.MatchString(s) {
			return nil, bad(fmt.Sprintf("secrets[%d]", i), fmt.Sprintf("%q is not a valid secret id", s), "use letters, digits, '.', '_' and '-'")
		}
	}
	c.Secrets = r.Secrets
	for i, d := range r.DependsOn {
		if !AddressRE.MatchString(d) {
			return nil, bad(fmt.Sprintf("depends_on[%d]", i), fmt.Sprintf("%q is not a component name", d), "name a directory under components/, or one of its images as component/image")
		}
		if ComponentOf(d) == name {
			return nil, bad(fmt.Sprintf("depends_on[%d]", i), "a component cannot depend on itself", "remove it")
		}
	}
	c.DependsOn = r.DependsOn
	if c.Services, err = c.services(file, dockerfile, r.Services); err != nil {
		return nil, err
	}
	if r.Smoke != nil && (len(r.Smoke) == 0 || strings.TrimSpace(r.Smoke[0]) == "") {
		return nil, bad("smoke", "is empty", "give a command such as [nginx, -t], or omit the field")
	}
	c.Smoke = r.Smoke
	if r.Images != nil {
		return c.images(file, dockerfile, df, r.Images)
	}
	return []Spec{c}, nil
}

// services checks component.yaml's services: entries (in file) of c, whose
// Dockerfile must declare each one's arg.
func (c Spec) services(file, dockerfile string, entries []yaml.Node) ([]Service, error) {
	if entries != nil && len(entries) == 0 {
		return nil, &Error{File: file, Field: "services", Problem: "is empty", Fix: "list the components served while this one builds, or omit services:"}
	}
	var out []Service
	for i := range entries {
		entry := fmt.Sprintf("services[%d]", i)
		bad := func(field, problem, fix string) error {
			return &Error{File: file, Field: entry + "." + field, Problem: problem, Fix: fix}
		}
		var r rawService
		if err := decodeNode(file, entry, &entries[i], serviceFields, &r); err != nil {
			return nil, err
		}
		s := Service{Wait: DefaultServiceWait}
		switch {
		case r.Component == nil || *r.Component == "":
			return nil, bad("component", "is missing", "name the component served while "+c.Name+" builds, such as apphub")
		case !AddressRE.MatchString(*r.Component):
			return nil, bad("component", fmt.Sprintf("%q is not a component name", *r.Component), "name a directory under components/, or one of its images as component/image")
		case ComponentOf(*r.Component) == c.Component():
			return nil, bad("component", "a component cannot be served to itself", "name another component of the run")
		case slices.ContainsFunc(out, func(o Service) bool { return o.Component == *r.Component }):
			return nil, bad("component", *r.Component+" is served twice", "list each served component once")
		}
		s.Component = *r.Component
		if r.Port == nil || *r.Port < 1 || *r.Port > 65535 {
			return nil, bad("port", "is missing or not a port (1-65535)", "give the port "+s.Component+" serves on, such as 80")
		}
		s.Port = *r.Port
		switch {
		case r.Arg == nil || *r.Arg == "":
			return nil, bad("arg", "is missing", "name the build arg that receives http://HOST:PORT, such as "+strings.ToUpper(strings.ReplaceAll(path.Base(s.Component), "-", "_"))+"_URL")
		case !argRE.MatchString(*r.Arg):
			return nil, bad("arg", fmt.Sprintf("%q is not a valid build arg name", *r.Arg), "use letters, digits and _")
		case IsReserved(*r.Arg):
			return nil, bad("arg", *r.Arg+" is set by matrix", "name another build arg")
		case c.HasArg(*r.Arg):
			return nil, bad("arg", *r.Arg+" is also set under args:", "remove it from args: (the run sets it to the service's URL)")
		case !slices.Contains(c.Declared, *r.Arg):
			return nil, bad("arg", fmt.Sprintf("%s declares no ARG %s", dockerfile, *r.Arg), "add ARG "+*r.Arg+" to the stage that fetches from "+s.Component)
		case slices.ContainsFunc(out, func(o Service) bool { return o.Arg == *r.Arg }):
			return nil, bad("arg", *r.Arg+" receives another service's URL", "give each service its own build arg")
		}
		s.Arg = *r.Arg
		if r.Wait != nil {
			d, err := time.ParseDuration(*r.Wait)
			if err != nil || d <= 0 || d > maxServiceWait {
				return nil, bad("wait", fmt.Sprintf("%q is not a duration between 1s and %s", *r.Wait, maxServiceWait), "give a duration such as 90s or 2m")
			}
			s.Wait = d
		}
		out = append(out, s)
	}
	return out, nil
}

// final reads from the Dockerfile df what the stage c builds ends in: its
// base, the labels it sets, and whether it is FROM scratch.
func (c *Spec) final(dockerfile string, df []byte) (err error) {
	if c.Base, c.Labels, err = lint.Final(dockerfile, df, c.Target); err != nil {
		return err
	}
	c.Scratch, err = lint.Scratch(dockerfile, df, c.Target)
	return err
}

// images expands c, whose component.yaml (file) lists images, into one Spec
// per entry: the same Dockerfile, context and build inputs, so the stages
// they have in common are built once; each its own name (component/image),
// repository, target and, when given, smoke command.
func (c Spec) images(file, dockerfile string, df []byte, entries []yaml.Node) ([]Spec, error) {
	if len(entries) == 0 {
		return nil, &Error{File: file, Field: "images", Problem: "is empty", Fix: "list one entry per image, or omit images: for one image"}
	}
	stages, err := lint.Stages(dockerfile, df)
	if err != nil { // parsed before: not expected
		return nil, &Error{File: dockerfile, Problem: err.Error(), Fix: "fix the Dockerfile syntax"}
	}
	fix := "name one of its stages: " + strings.Join(stages, ", ")
	if len(stages) == 0 {
		fix = "name its stages (FROM ... AS <target>), one per image"
	}
	var out []Spec
	for i := range entries {
		entry := fmt.Sprintf("images[%d]", i)
		bad := func(field, problem, fix string) error {
			return &Error{File: file, Field: entry + "." + field, Problem: problem, Fix: fix}
		}
		var r rawImage
		if err := decodeNode(file, entry, &entries[i], imageFields, &r); err != nil {
			return nil, err
		}
		switch {
		case r.Name == nil || *r.Name == "":
			return nil, bad("name", "is missing", "name the image, such as "+c.Name+"-init; it is addressed as "+c.Name+"/<name>")
		case !NameRE.MatchString(*r.Name):
			return nil, bad("name", fmt.Sprintf("%q is not lower-case letters, digits and dashes", *r.Name), "rename the image")
		}
		img := c
		img.Name, img.Image, img.imageField = c.Name+"/"+*r.Name, "ai-infra-"+*r.Name, entry+".name"
		img.Args, img.Lint = slices.Clone(c.Args), slices.Clone(c.Lint) // a run adds its arg-file keys to each
		if other := slices.IndexFunc(out, func(o Spec) bool { return o.Name == img.Name }); other >= 0 {
			return nil, bad("name", fmt.Sprintf("%s is also the name of images[%d]", *r.Name, other), "give each image its own name")
		}
		if r.Image != nil {
			if !imageRE.MatchString(*r.Image) {
				return nil, bad("image", fmt.Sprintf("%q is not a valid repository name", *r.Image), "use lower-case letters, digits, '.', '_', '-' and '/'")
			}
			img.Image, img.imageField = *r.Image, entry+".image"
		}
		switch {
		case r.Target == nil || *r.Target == "":
			return nil, bad("target", "is missing: it names the stage of "+dockerfile+" that gives the image", fix)
		case !slices.ContainsFunc(stages, func(s string) bool { return strings.EqualFold(s, *r.Target) }):
			return nil, bad("target", fmt.Sprintf("%q is not a stage of %s", *r.Target, dockerfile), fix)
		}
		img.Target = *r.Target
		if err := img.final(dockerfile, df); err != nil {
			return nil, bad("target", err.Error(), fix)
		}
		if r.Smoke != nil {
			if len(r.Smoke) == 0 || strings.TrimSpace(r.Smoke[0]) == "" {
				return nil, bad("smoke", "is empty", "give a command such as [migrate, --help], or omit the field for the component's smoke")
			}
			img.Smoke = r.Smoke
		}
		out = append(out, img)
	}
	return out, nil
}

// lint finds what matrix lint finds in the Dockerfile df, less the rules
// component.yaml ignores; dockerignore tells whether one applies to its context.
func (c *Spec) lint(df []byte, dockerignore bool) error {
	found, err := lint.File(path.Join(c.Dir, c.Dockerfile), df, dockerignore)
	if err != nil {
		return err
	}
	c.Lint = nil
	for _, f := range found {
		if _, ignored := c.LintIgnore[f.Rule]; !ignored {
			c.Lint = append(c.Lint, f)
		}
	}
	return nil
}

// decodeStrict decodes a YAML mapping into r key by key, so an error can
// name the field; fields are the known keys, with the fix shown for a wrong type.
func decodeStrict(file string, data []byte, fields map[string]string, r any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return &Error{File: file, Problem: "malformed YAML: " + strings.TrimPrefix(err.Error(), "yaml: "), Fix: "fix the YAML syntax"}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return decodeNode(file, "", doc.Content[0], fields, r)
}

// decodeNode is decodeStrict of the mapping m, the document (at "") or the
// value of field at (such as images[0]), whose keys errors name under it.
func decodeNode(file, at string, m *yaml.Node, fields map[string]string, r any) error {
	if m.Kind != yaml.MappingNode {
		if at == "" {
			return &Error{File: file, Problem: fmt.Sprintf("line %d: the document is not a mapping", m.Line), Fix: "write key: value pairs such as smoke: [true]"}
		}
		return &Error{File: file, Field: at, Problem: fmt.Sprintf("line %d: is not a mapping", m.Line), Fix: "write key: value pairs such as {name: backend-init, target: backend-init}"}
	}
	name := func(key string) string {
		if at == "" {
			return key
		}
		return at + "." + key
	}
	one := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if _, ok := fields[k.Value]; !ok {
			return &Error{File: file, Field: name(k.Value), Problem: fmt.Sprintf("line %d: unknown key", k.Line), Fix: "known keys: " + strings.Join(slices.Sorted(maps.Keys(fields)), ", ")}
		}
		if _, dup := one[k.Value]; dup {
			return &Error{File: file, Field: name(k.Value), Problem: fmt.Sprintf("line %d: key given twice", k.Line), Fix: "keep one"}
		}
		one[k.Value] = v
		wrap := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, v}}
		if err := wrap.Decode(r); err != nil {
			return &Error{File: file, Field: name(k.Value), Problem: fmt.Sprintf("line %d: wrong type", v.Line), Fix: "expected " + fields[k.Value]}
		}
	}
	return nil
}

// checkInside rejects a path that leaves the component directory, by name or
// through a symlink. Any symlink on the way is refused: the engine's copy of
// the directory cannot say where a link points, and both entry points must
// give the same answer.
func checkInside(fsys fs.FS, rel string) error {
	if rel == "" || filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return fmt.Errorf("%q leaves the component directory", rel)
	}
	p := ""
	for _, part := range strings.Split(path.Clean(filepath.ToSlash(rel)), "/") {
		p = path.Join(p, part)
		info, err := fs.Lstat(fsys, p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // reading the Dockerfile reports it missing
			}
			return fmt.Errorf("%q: %s", rel, Problem(err))
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%q is a symlink, which may point outside the component directory", p)
		}
	}
	return nil
}
