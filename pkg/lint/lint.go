// Package lint finds, before any build, the Dockerfile patterns that waste
// emulation or ship the wrong architecture. Dockerfiles are read with
// BuildKit's own parser; each rule looks at parsed instructions, and at the
// shell words of RUN commands, never at raw lines.
package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// Severity orders findings: a run chooses the lowest that counts.
type Severity int

// The severities, lowest first.
const (
	Note Severity = iota
	Warning
	Error
)

// DefaultSeverity is the lowest severity that counts when a run names none.
const DefaultSeverity = Warning

// AtLeast keeps the findings of severity min or above, in order.
func AtLeast(found []Finding, min Severity) []Finding {
	var out []Finding
	for _, f := range found {
		if f.Severity >= min {
			out = append(out, f)
		}
	}
	return out
}

func (s Severity) String() string { return [...]string{"note", "warning", "error"}[s] }

// MarshalText writes the severity by name in JSON reports.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads note, warning or error.
func ParseSeverity(s string) (Severity, error) {
	for v := Note; v <= Error; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, class.BadInput.Errorf("%q is not a severity: use note, warning or error", s)
}

// Rule is one check, with why it matters and how to fix it.
type Rule struct {
	ID       string
	Severity Severity
	Why      string
	Fix      string
}

// Rules are every check, by id.
var Rules = []Rule{
	{"compile-on-target", Warning, "this stage compiles or bundles on the target platform, so for a foreign platform it runs emulated (7x slower measured for Go)",
		"build in a `FROM --platform=$BUILDPLATFORM` stage and cross-compile for $TARGETARCH, then COPY the result into the target stage"},
	{"go-arch", Error, "the Go binary's architecture does not follow the target: it is the build platform's, or hard-coded",
		"set GOOS=$TARGETOS GOARCH=$TARGETARCH (with ARG TARGETOS TARGETARCH in the stage)"},
	{"fixed-arch-download", Warning, "a download, copy or package is fixed to one architecture, so the other platforms get the wrong one",
		"select it from $TARGETARCH (or `uname -m` in a target stage)"},
	{"unpinned-base", Warning, "a base with no tag, or :latest, changes under the build without notice",
		"pin a version tag or a digest, e.g. debian:bookworm-slim or debian@sha256:..."},
	{"undeclared-platform-arg", Error, "a platform arg used in a stage that does not declare it expands to an empty string",
		"declare it in the stage: ARG TARGETARCH (and the others it uses)"},
	{"whole-context", Warning, "COPY . or ADD . with no .dockerignore sends and copies the whole context, .git and build output included",
		"add a .dockerignore, or copy only what the build needs"},
	{"syntax", Error, "BuildKit's parser cannot read this file, so nothing can build from it",
		"fix the syntax; a fragment that another file is assembled from is not a Dockerfile: name it so it does not match Dockerfile.* or *.Dockerfile"},
}

// RuleByID returns the rule named id.
func RuleByID(id string) (Rule, bool) {
	i := slices.IndexFunc(Rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return Rules[i], true
}

// IDs lists the rule ids.
func IDs() []string {
	out := make([]string, len(Rules))
	for i, r := range Rules {
		out[i] = r.ID
	}
	return out
}

// Finding is one rule matching one instruction.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Stage    string   `json:"stage"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Why      string   `json:"why"`
	Fix      string   `json:"fix"`
	Detail   string   `json:"detail,omitempty"` // what matched
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s:%d: %s [%s] stage %s: %s", f.File, f.Line, f.Severity, f.Rule, f.Stage, f.Why)
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s + "; fix: " + f.Fix
}

// platformArgs are the args BuildKit sets, which a stage must declare to use.
var platformArgs = []string{"TARGETARCH", "TARGETOS", "TARGETPLATFORM", "TARGETVARIANT", "BUILDPLATFORM", "BUILDARCH", "BUILDOS"}

// parse reads a Dockerfile into its stages and global ARGs.
func parse(file string, data []byte) ([]instructions.Stage, []instructions.ArgCommand, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return stages, metaArgs, nil
}

// Stages lists the names of a Dockerfile's named stages (FROM ... AS name),
// in order: the targets it can build.
func Stages(file string, data []byte) ([]string, error) {
	stages, _, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range stages {
		if s.Name != "" {
			out = append(out, s.Name)
		}
	}
	return out, nil
}

// Args lists the names of a Dockerfile's ARG instructions, global and per
// stage, in order, each once.
func Args(file string, data []byte) ([]string, error) {
	stages, metaArgs, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(a instructions.ArgCommand) {
		for _, kv := range a.Args {
			if !slices.Contains(out, kv.Key) {
				out = append(out, kv.Key)
			}
		}
	}
	for _, a := range metaArgs {
		add(a)
	}
	for _, st := range stages {
		for _, c := range st.Commands {
			if a, ok := c.(*instructions.ArgCommand); ok {
				add(*a)
			}
		}
	}
	return out, nil
}

// File lints one Dockerfile. file names it in findings; dockerignore tells
// whether its context has a .dockerignore.
func File(file string, data []byte, dockerignore bool) ([]Finding, error) {
	stages, metaArgs, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	l := &linter{file: file, dockerignore: dockerignore, meta: map[string]string{}, names: map[string]bool{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				l.meta[kv.Key] = *kv.Value
			}
		}
	}
	for i, s := range stages {
		l.stage(i, s)
		if s.Name != "" {
			l.names[strings.ToLower(s.Name)] = true
		}
	}
	return l.out, nil
}

type linter struct {
	file         string
	dockerignore bool
	meta         map[string]string // global ARG defaults, for FROM lines
	names        map[string]bool   // earlier stage names
	out          []Finding
}

func (l *linter) add(rule string, line int, stage, detail string) {
	r, _ := RuleByID(rule)
	l.addAs(r.Severity, rule, line, stage, detail)
}

// addAs records a finding of rule at a severity other than the rule's.
func (l *linter) addAs(sev Severity, rule string, line int, stage, detail string) {
	r, _ := RuleByID(rule)
	l.out = append(l.out, Finding{File: l.file, Line: line, Stage: stage, Rule: r.ID, Severity: sev, Why: r.Why, Fix: r.Fix, Detail: detail})
}

func line(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// stage runs every rule over one stage.
func (l *linter) stage(i int, s instructions.Stage) {
	name := s.Name
	if name == "" {
		name = fmt.Sprint(i)
	}
	from := line(s.Location)
	l.base(s, name, from)
	onBuild := strings.Contains(s.Platform, "BUILDPLATFORM")
	declared := map[string]bool{}
	env := map[string]string{} // ENV of the stage, for GOARCH
	compiled := false
	for _, cmd := range s.Commands {
		at := line(cmd.Location())
		switch c := cmd.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				declared[kv.Key] = true
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
				l.platformRefs(kv.Value, declared, name, at)
			}
		case *instructions.RunCommand:
			text := strings.Join(c.CmdLine, " ")
			l.platformRefs(text, declared, name, at)
			vars := maps.Clone(env) // plus what this RUN exports as it goes
			for _, sc := range commands(text) {
				if cmd := command(sc); len(cmd) > 0 && cmd[0] == "export" {
					for _, a := range assignments(sc) {
						k, v, _ := strings.Cut(a, "=")
						vars[k] = v
					}
				}
				if what := compiler(sc); what != "" {
					if !onBuild && !compiled {
						l.add("compile-on-target", at, name, what)
						compiled = true
					}
					if what == "go build" {
						l.goArch(sc, vars, onBuild, name, at)
					}
				}
			}
			l.fixedArch(text, name, at)
		case *instructions.CopyCommand:
			l.copyAdd(c.SourcePaths, c.From == "", name, at)
		case *instructions.AddCommand:
			l.copyAdd(c.SourcePaths, true, name, at)
		}
	}
}

// base checks the FROM reference, expanded with the global ARG defaults.
func (l *linter) base(s instructions.Stage, stage string, at int) {
	lex := shell.NewLex('\\')
	ref, _, err := lex.ProcessWord(s.BaseName, mapEnv(l.meta))
	if err != nil || ref == "" || ref == "scratch" || l.names[strings.ToLower(ref)] {
		return // set at build time (a dependency matrix passes), scratch, or an earlier stage
	}
	if strings.Contains(ref, "@sha256:") {
		return
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	switch {
	case !ok:
		l.add("unpinned-base", at, stage, ref+" has no tag")
	case tag == "latest":
		l.add("unpinned-base", at, stage, ref)
	}
}

// platformRefs reports platform args used but not declared in the stage.
func (l *linter) platformRefs(text string, declared map[string]bool, stage string, at int) {
	for _, v := range varRefs(text) {
		if slices.Contains(platformArgs, v) && !declared[v] {
			l.add("undeclared-platform-arg", at, stage, "$"+v)
			declared[v] = true // once per stage
		}
	}
}

// goArch checks where a `go build` gets GOARCH: from TARGETARCH, or not at all
// on the build platform (a binary of the wrong architecture), or hard-coded.
func (l *linter) goArch(sc []string, env map[string]string, onBuild bool, stage string, at int) {
	vars := maps.Clone(env)
	for _, a := range assignments(sc) {
		k, v, _ := strings.Cut(a, "=")
		vars[k] = v
	}
	arch, hasArch := vars["GOARCH"]
	_, hasOS := vars["GOOS"]
	switch {
	case hasArch && !strings.Contains(arch, "TARGETARCH"):
		l.add("go-arch", at, stage, "GOARCH="+arch+" is hard-coded")
	case !hasArch && onBuild:
		l.add("go-arch", at, stage, "go build on $BUILDPLATFORM without GOARCH builds for the build platform")
	case !hasArch && hasOS:
		l.addAs(Warning, "go-arch", at, stage, "GOOS is set without GOARCH")
	}
}

// archWords name one architecture in a URL, file or package name.
var archWords = map[string]string{"amd64": "amd64", "x86_64": "amd64", "x64": "amd64", "aarch64": "arm64", "arm64": "arm64"}

// fixedArch reports a RUN whose words name one architecture with no
// selection from TARGETARCH or `uname -m`; naming several is a loop over
// them, at most a note.
func (l *linter) fixedArch(text, stage string, at int) {
	if selectsArch(text) {
		return
	}
	families, hit := map[string]bool{}, ""
	for _, sc := range commands(text) {
		for _, w := range sc {
			if a := archIn(w); a != "" {
				families[archWords[a]] = true
				if hit == "" {
					hit = w
				}
			}
		}
	}
	switch {
	case len(families) > 1:
		l.addAs(Note, "fixed-arch-download", at, stage, "names several architectures: "+hit)
	case len(families) == 1:
		l.add("fixed-arch-download", at, stage, hit)
	}
}

// copyAdd checks COPY/ADD sources for the whole context and fixed architectures.
func (l *linter) copyAdd(srcs []string, fromContext bool, stage string, at int) {
	for _, s := range srcs {
		if fromContext && (s == "." || s == "./") && !l.dockerignore {
			l.add("whole-context", at, stage, "COPY "+s)
		}
		if a := archIn(s); a != "" && !selectsArch(s) {
			l.add("fixed-arch-download", at, stage, s)
		}
	}
}

// selectsArch tells a command that picks the architecture at build time.
func selectsArch(text string) bool {
	for _, v := range varRefs(text) {
		if v == "TARGETARCH" || v == "TARGETPLATFORM" {
			return true
		}
	}
	for _, sc := range commands(text) {
		if len(sc) > 0 && (sc[0] == "arch" || sc[0] == "uname" && slices.Contains(sc, "-m") ||
			sc[0] == "dpkg" && slices.Contains(sc, "--print-architecture")) {
			return true
		}
	}
	return false
}

// archIn returns the architecture word a URL, path or package name holds
// as one of its parts, or "".
func archIn(w string) string {
	if !strings.ContainsAny(w, "/.:_-") {
		return "" // a bare word, e.g. a case label, is not a file or URL
	}
	parts := strings.FieldsFunc(strings.ToLower(w), func(r rune) bool {
		return r == '/' || r == '.' || r == '-' || r == ':' || r == '=' || r == '+' || r == '?' || r == '&'
	})
	for _, p := range parts {
		for a := range archWords {
			// x86_64 holds the separator _, so _ bounds a match too.
			if p == a || strings.HasPrefix(p, a+"_") || strings.HasSuffix(p, "_"+a) || strings.Contains(p, "_"+a+"_") {
				return a
			}
		}
	}
	return ""
}

func mapEnv(m map[string]string) shell.EnvGetter {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	return shell.EnvsFromSlice(kv)
}

// Dir lints every Dockerfile under fsys: files named Dockerfile,
// *.Dockerfile or Dockerfile.*, each with the .dockerignore beside it.
// where names fsys in findings and errors. A file the parser cannot read is
// a syntax finding on that file, and the others are still linted; one that
// cannot be read at all is an error.
func Dir(fsys fs.FS, where string) ([]Finding, error) {
	var out []Finding
	n := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(base, ".") || base == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if base != "Dockerfile" && !strings.HasSuffix(base, ".Dockerfile") && !strings.HasPrefix(base, "Dockerfile.") {
			return nil
		}
		n++
		file := path.Join(where, p)
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		_, ignoreErr := fs.Stat(fsys, path.Join(path.Dir(p), ".dockerignore"))
		found, err := File(file, data, ignoreErr == nil)
		if err != nil {
			found = []Finding{syntax(file, err)}
		}
		out = append(out, found...)
		return nil
	})
	if err != nil {
		return nil, class.BadInput.Errorf("linting %s: %w", where, err)
	}
	if n == 0 {
		return nil, class.BadInput.Errorf("%s: no Dockerfile found (looked for Dockerfile, *.Dockerfile, Dockerfile.*)", where)
	}
	return out, nil
}

// syntax is the finding of a file the parser cannot read: at the line the
// parser names, if it names one.
func syntax(file string, err error) Finding {
	at := 0
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		at = le.Locations[0][0].Start.Line
	}
	r, _ := RuleByID("syntax")
	return Finding{File: file, Line: at, Stage: "-", Rule: r.ID, Severity: r.Severity, Why: r.Why, Fix: r.Fix,
		Detail: strings.TrimPrefix(err.Error(), file+": ")}
}

// Write renders findings as table (one line each, then a count) or json.
func Write(w io.Writer, findings []Finding, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []Finding{}
		}
		return enc.Encode(findings)
	}
	for _, f := range findings {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d finding(s)\n", len(findings))
	return err
}

// Final reads the stage a build ends in (target, or the last stage): the
// base image it names, expanded with the global ARG defaults ("" when that
// is an ARG without a default, scratch, or an earlier stage whose own base
// it then is), and the label keys it and the stages it is built FROM set.
func Final(file string, data []byte, target string) (base string, labels []string, err error) {
	ref, labels, err := final(file, data, target)
	if ref == "scratch" {
		ref = ""
	}
	return ref, labels, err
}

// Scratch tells whether the stage a build ends in (target, or the last
// stage) is built FROM scratch, directly or through earlier stages: its
// image has no base whose config could say the platform.
func Scratch(file string, data []byte, target string) (bool, error) {
	ref, _, err := final(file, data, target)
	return ref == "scratch", err
}

// final follows the stage a build ends in back through the earlier stages
// it is built FROM to the first one whose base is not a stage, and returns
// that base expanded with the global ARG defaults ("" for an ARG without a
// default), and the label keys set on the way.
func final(file string, data []byte, target string) (base string, labels []string, err error) {
	stages, metaArgs, err := parse(file, data)
	if err != nil {
		return "", nil, err
	}
	meta := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				meta[kv.Key] = *kv.Value
			}
		}
	}
	i := len(stages) - 1
	if target != "" {
		i = slices.IndexFunc(stages, func(s instructions.Stage) bool { return strings.EqualFold(s.Name, target) })
		if i < 0 {
			return "", nil, fmt.Errorf("%s has no stage %q", file, target)
		}
	}
	lex := shell.NewLex('\\')
	for ; i >= 0; i-- {
		s := stages[i]
		for _, cmd := range s.Commands {
			if l, ok := cmd.(*instructions.LabelCommand); ok {
				for _, kv := range l.Labels {
					if !slices.Contains(labels, kv.Key) {
						labels = append(labels, kv.Key)
					}
				}
			}
		}
		ref, _, err := lex.ProcessWord(s.BaseName, mapEnv(meta))
		if err != nil || ref == "" || strings.Contains(ref, "$") {
			return "", labels, nil
		}
		if strings.EqualFold(ref, "scratch") {
			return "scratch", labels, nil
		}
		earlier := slices.IndexFunc(stages[:i], func(p instructions.Stage) bool { return strings.EqualFold(p.Name, ref) })
		if earlier < 0 {
			return ref, labels, nil
		}
		i = earlier + 1 // the loop's i-- steps onto it
	}
	return "", labels, nil
}

// From is one external base of a Dockerfile: its reference and the platform
// its stage asks for ("" the build's), both expanded.
type From struct{ Ref, Platform string }

// Bases lists the external images a Dockerfile's stages are built FROM,
// expanded with its global ARG defaults under args; a stage, scratch, or a
// reference still holding an ARG (another component's image) is left out.
func Bases(file string, data []byte, args map[string]string) ([]From, error) {
	stages, metaArgs, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				env[kv.Key] = *kv.Value
			}
		}
	}
	maps.Copy(env, args)
	lex := shell.NewLex('\\')
	var out []From
	for i, s := range stages {
		ref, _, err := lex.ProcessWord(s.BaseName, mapEnv(env))
		if err != nil || ref == "" || strings.Contains(ref, "$") || strings.EqualFold(ref, "scratch") ||
			slices.ContainsFunc(stages[:i], func(p instructions.Stage) bool { return strings.EqualFold(p.Name, ref) }) {
			continue
		}
		pl, _, _ := lex.ProcessWord(s.Platform, mapEnv(env))
		if f := (From{Ref: ref, Platform: pl}); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}
