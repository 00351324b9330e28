package lint

import (
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Source is a path a COPY or ADD takes from the build context.
type Source struct {
	Line        int
	Instruction string // COPY or ADD
	Path        string // as written, its variables expanded
}

// Sources lists the build-context sources of the COPY and ADD instructions
// in the stages a build of target (or of the last stage) runs. args are the
// build args given; ARG defaults and ENV fill the rest. Sources that cannot
// be checked before the build are left out: a variable without a value, a
// URL, a git source, a heredoc, a COPY --from.
func Sources(file string, data []byte, target string, args map[string]string) ([]Source, error) {
	stages, metaArgs, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := args[kv.Key]; ok {
				meta[kv.Key] = v
			} else if kv.Value != nil {
				meta[kv.Key] = *kv.Value
			}
		}
	}
	lex := shell.NewLex('\\')
	var out []Source
	for _, i := range needed(stages, meta, target) {
		env := map[string]string{}
		for _, cmd := range stages[i].Commands {
			switch c := cmd.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					if v, ok := args[kv.Key]; ok {
						env[kv.Key] = v
					} else if kv.Value != nil {
						env[kv.Key] = *kv.Value
					} else if v, ok := meta[kv.Key]; ok {
						env[kv.Key] = v
					}
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = kv.Value
				}
			case *instructions.CopyCommand:
				if c.From == "" {
					out = append(out, sources(lex, env, "COPY", line(c.Location()), c.SourcePaths)...)
				}
			case *instructions.AddCommand:
				out = append(out, sources(lex, env, "ADD", line(c.Location()), c.SourcePaths)...)
			}
		}
	}
	return out, nil
}

// sources are the checkable paths of one instruction.
func sources(lex *shell.Lex, env map[string]string, instr string, at int, paths []string) []Source {
	var out []Source
	for _, p := range paths {
		res, err := lex.ProcessWordWithMatches(p, mapEnv(env))
		if err != nil || len(res.Unmatched) > 0 || res.Result == "" || remote(res.Result) {
			continue
		}
		out = append(out, Source{Line: at, Instruction: instr, Path: res.Result})
	}
	return out
}

// remote tells an ADD source fetched by URL or git, not from the context.
func remote(p string) bool {
	return strings.Contains(p, "://") || strings.HasPrefix(p, "git@")
}

// needed are the indexes of the stages a build of target runs, in order:
// the target, the stages it is built FROM, copies from and mounts.
func needed(stages []instructions.Stage, meta map[string]string, target string) []int {
	byName := func(ref string) int {
		if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < len(stages) {
			return n
		}
		return slices.IndexFunc(stages, func(s instructions.Stage) bool { return s.Name != "" && strings.EqualFold(s.Name, ref) })
	}
	last := len(stages) - 1
	if target != "" {
		if last = byName(target); last < 0 {
			return nil
		}
	}
	lex := shell.NewLex('\\')
	want := map[int]bool{}
	var visit func(int)
	visit = func(i int) {
		if i < 0 || want[i] {
			return
		}
		want[i] = true
		if base, _, err := lex.ProcessWord(stages[i].BaseName, mapEnv(meta)); err == nil {
			if j := byName(base); j < i {
				visit(j)
			}
		}
		for _, cmd := range stages[i].Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					visit(byName(c.From))
				}
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					if m.From != "" {
						visit(byName(m.From))
					}
				}
			}
		}
	}
	visit(last)
	var out []int
	for i := range stages {
		if want[i] {
			out = append(out, i)
		}
	}
	return out
}
