package system_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Taskfile.yml is the one source of truth for the `dagger call` lines a
// developer types; the GitHub workflow and the GitLab pipeline must run the
// very same lines. TestCIFiles parses the three files, extracts every
// `dagger call` line and compares them after a small, explicit normalisation:
//
//   - whitespace collapsed, quotes dropped, --flag=value read as --flag value;
//   - Taskfile variables {{.NAME}} and shell variables $NAME / ${NAME} both
//     become NAME, so the CI files name their variables as the Taskfile does
//     (VERSION, REGISTRY);
//   - {{.PLATFORMS}} in the Taskfile becomes its default
//     (linux/amd64,linux/arm64), which the CI files write out;
//   - Taskfile conditionals {{if ...}}...{{end}} are dropped: they add flags
//     for a developer's loopback registry only (--registry-service);
//   - the CI-only credential flags below are dropped from the CI lines.
//
// Then every CI line must equal the Taskfile line of the same function.
const (
	ciTaskfile = "Taskfile.yml"
	ciWorkflow = ".github/workflows/ci.yml"
	ciGitLab   = ".gitlab-ci.yml"
)

// ciOnlyFlags are passed by CI only: credentials for a remote registry.
var ciOnlyFlags = []string{"--username", "--password"}

// ciSettingsVars are set in GitLab's CI/CD settings, not in the file.
var ciSettingsVars = []string{"REGISTRY", "REGISTRY_USERNAME", "REGISTRY_PASSWORD"}

var (
	ciTaskCond     = regexp.MustCompile(`\{\{-?\s*if\b.*?\{\{-?\s*end\s*-?\}\}`)
	ciTaskVar      = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	ciShellVar     = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	ciContinuation = regexp.MustCompile(`\\\r?\n[ \t]*`)
	ciVersionTag   = regexp.MustCompile(`@v\d+\.\d+\.\d+$`)
	ciTaskDefault  = regexp.MustCompile(`default\s+"([^"]*)"`)
)

// ciCall is one `dagger call` line found in a file.
type ciCall struct {
	where string   // file and job, for messages
	job   string   // the job (or task) that runs it
	raw   string   // the line as written
	ctor  []string // the module's constructor flags, before the function
	fn    string   // the function called
	args  []string // normalised tokens after the function name
	vars  []string // variables the line references
	scope []string // variables defined where it runs (CI files only)
}

func (c ciCall) line() string { return c.lineWith(c.args) }

// key is the Taskfile line a call follows: its function, and a leg of a
// fan-out release (build-all --push-by-digest) is a line of its own.
func (c ciCall) key() string {
	if c.fn == "build-all" && slices.Contains(c.args, "--push-by-digest") {
		return ciLeg
	}
	return c.fn
}

// ciLeg is the key of a release leg's line.
const ciLeg = "build-all --push-by-digest"

// without is c less flags (the CI-only ones), before or after the function.
func (c ciCall) without(flags []string) ciCall {
	c.ctor, c.args = ciDropFlags(c.ctor, flags), ciDropFlags(c.args, flags)
	return c
}

// lineWith is the line with other arguments to the function.
func (c ciCall) lineWith(args []string) string {
	return strings.Join(append(append(append([]string(nil), c.ctor...), c.fn), args...), " ")
}

// ciParseCall normalises one line starting at "dagger call"; subst replaces
// whole tokens (the Taskfile's PLATFORMS default).
func ciParseCall(t *testing.T, where, job, raw string, subst map[string]string) ciCall {
	t.Helper()
	s := ciTaskCond.ReplaceAllString(raw, "")
	var vars []string
	for _, m := range ciTaskVar.FindAllStringSubmatch(s, -1) {
		vars = append(vars, m[1])
	}
	for _, m := range ciShellVar.FindAllStringSubmatch(s, -1) {
		vars = append(vars, m[1])
	}
	s = ciTaskVar.ReplaceAllString(s, "$1")
	s = ciShellVar.ReplaceAllString(s, "$1")
	s = strings.NewReplacer(`"`, "", `'`, "").Replace(s)
	var toks []string
	for _, f := range strings.Fields(s) {
		if name, val, ok := strings.Cut(f, "="); ok && strings.HasPrefix(name, "--") {
			toks = append(toks, name, val)
			continue
		}
		if v, ok := subst[f]; ok {
			f = v
		}
		toks = append(toks, f)
	}
	require.GreaterOrEqual(t, len(toks), 3, "%s: %q", where, raw)
	require.Equal(t, []string{"dagger", "call"}, toks[:2], "%s: %q", where, raw)
	i := 2 // constructor flags (--components-dir DIR) come before the function
	for i+1 < len(toks) && strings.HasPrefix(toks[i], "--") {
		i += 2
	}
	require.Less(t, i, len(toks), "%s: no function in %q", where, raw)
	return ciCall{where: where, job: job, raw: raw, ctor: toks[2:i], fn: toks[i], args: toks[i+1:], vars: vars}
}

// ciScriptCalls finds the `dagger call` lines of a shell script (comments
// skipped, backslash continuations joined).
func ciScriptCalls(t *testing.T, where, job, script string, scope []string) []ciCall {
	t.Helper()
	var out []ciCall
	for _, l := range strings.Split(ciContinuation.ReplaceAllString(script, " "), "\n") {
		l = strings.TrimSpace(l)
		i := strings.Index(l, "dagger call ")
		if i < 0 || strings.HasPrefix(l, "#") {
			continue
		}
		c := ciParseCall(t, where, job, l[i:], nil)
		c.scope = scope
		out = append(out, c)
	}
	return out
}

func ciReadYAML(t *testing.T, path string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, v), "%s is not valid YAML", path)
	return b
}

// --- Taskfile.yml ---

type ciTaskfileDoc struct {
	Vars  map[string]any `yaml:"vars"`
	Tasks map[string]struct {
		Cmds []any `yaml:"cmds"`
	} `yaml:"tasks"`
}

func ciTaskfileCalls(t *testing.T) map[string]ciCall {
	var doc ciTaskfileDoc
	ciReadYAML(t, ciTaskfile, &doc)
	platforms, _ := doc.Vars["PLATFORMS"].(string)
	m := ciTaskDefault.FindStringSubmatch(platforms)
	require.NotNil(t, m, "%s: vars.PLATFORMS has no default: %q", ciTaskfile, platforms)
	subst := map[string]string{"PLATFORMS": m[1]}

	calls := map[string]ciCall{}
	for name, task := range doc.Tasks {
		for _, cmd := range task.Cmds {
			s, ok := cmd.(string)
			i := strings.Index(s, "dagger call ")
			if !ok || i < 0 {
				continue
			}
			c := ciParseCall(t, ciTaskfile+": task "+name, name, s[i:], subst)
			prev, dup := calls[c.key()]
			require.False(t, dup, "%s: `dagger call %s` in two tasks (%s, %s): which one does CI follow?", ciTaskfile, c.key(), prev.job, name)
			calls[c.key()] = c
		}
	}
	return calls
}

// --- .github/workflows/ci.yml ---

type ciWorkflowDoc struct {
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]struct {
		Needs          any               `yaml:"needs"`
		TimeoutMinutes int               `yaml:"timeout-minutes"`
		Env            map[string]string `yaml:"env"`
		Steps          []struct {
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			Env  map[string]string `yaml:"env"`
			With map[string]any    `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func ciKeys(maps ...map[string]string) []string {
	var out []string
	for _, m := range maps {
		for k := range m {
			out = append(out, k)
		}
	}
	return out
}

func ciWorkflowCalls(t *testing.T, doc ciWorkflowDoc) []ciCall {
	var calls []ciCall
	for _, name := range ciSortedKeys(doc.Jobs) {
		job := doc.Jobs[name]
		for i, st := range job.Steps {
			where := fmt.Sprintf("%s: job %s, step %d", ciWorkflow, name, i+1)
			scope := ciKeys(doc.Env, job.Env, st.Env)
			calls = append(calls, ciScriptCalls(t, where, name, st.Run, scope)...)
			// The action's own way: `call:`, or `args:` with verb call.
			if strings.HasPrefix(st.Uses, "dagger/dagger-for-github@") {
				verb, _ := st.With["verb"].(string)
				args, _ := st.With["args"].(string)
				if call, _ := st.With["call"].(string); call != "" {
					args, verb = call, "call"
				}
				if args != "" && (verb == "" || verb == "call") {
					c := ciParseCall(t, where, name, "dagger call "+ciContinuation.ReplaceAllString(args, " "), nil)
					c.scope = scope
					calls = append(calls, c)
				}
			}
		}
	}
	return calls
}

// --- .gitlab-ci.yml ---

func ciGitLabCalls(t *testing.T, doc map[string]any) []ciCall {
	var calls []ciCall
	global := ciStringMap(doc["variables"])
	for _, name := range ciSortedKeys(doc) {
		job, ok := doc[name].(map[string]any)
		if !ok {
			continue
		}
		scope := append(ciKeys(global), ciSettingsVars...)
		scope = append(scope, ciGitLabVars(doc, job, 0)...)
		// A template's script runs in the jobs extending it: what every one
		// of them defines is defined there.
		scope = append(scope, ciGitLabHeirVars(doc, name)...)
		for _, key := range []string{"before_script", "script", "after_script"} {
			for _, s := range ciStrings(job[key]) {
				calls = append(calls, ciScriptCalls(t, fmt.Sprintf("%s: job %s, %s", ciGitLab, name, key), name, s, scope)...)
			}
		}
	}
	return calls
}

// ciGitLabVars lists the variables of a job and of the templates it extends.
func ciGitLabVars(doc map[string]any, job map[string]any, depth int) []string {
	out := ciKeys(ciStringMap(job["variables"]))
	if depth > 10 {
		return out
	}
	for _, parent := range ciStrings(job["extends"]) {
		if p, ok := doc[parent].(map[string]any); ok {
			out = append(out, ciGitLabVars(doc, p, depth+1)...)
		}
	}
	return out
}

// ciGitLabHeirVars lists the variables every job extending template name
// defines itself (none when no job extends it).
func ciGitLabHeirVars(doc map[string]any, name string) []string {
	var common []string
	first := true
	for _, other := range ciSortedKeys(doc) {
		job, ok := doc[other].(map[string]any)
		if !ok || !slices.Contains(ciStrings(job["extends"]), name) {
			continue
		}
		vars := ciKeys(ciStringMap(job["variables"]))
		if first {
			common, first = vars, false
			continue
		}
		common = slices.DeleteFunc(common, func(v string) bool { return !slices.Contains(vars, v) })
	}
	return common
}

// ciStrings reads a string or a list of strings.
func ciStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func ciStringMap(v any) map[string]string {
	out := map[string]string{}
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			out[k] = fmt.Sprint(e)
		}
	}
	return out
}

func ciSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ciDropFlags removes flags (with their values) from normalised tokens.
func ciDropFlags(args []string, flags []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if slices.Contains(flags, args[i]) {
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// ciFlag returns the value of a flag in normalised tokens.
func ciFlag(args []string, flag string) (string, bool) {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return "", false
	}
	return args[i+1], true
}

// ciEngineVersion is the module's engineVersion from dagger.json, without the v.
func ciEngineVersion(t *testing.T) string {
	b, err := os.ReadFile("dagger.json")
	require.NoError(t, err)
	var mod struct {
		EngineVersion string `json:"engineVersion"`
	}
	require.NoError(t, json.Unmarshal(b, &mod))
	require.NotEmpty(t, mod.EngineVersion, "dagger.json has no engineVersion")
	return strings.TrimPrefix(mod.EngineVersion, "v")
}

func TestCIFiles(t *testing.T) {
	task := ciTaskfileCalls(t)
	require.Contains(t, task, "build-all", "%s has no `dagger call build-all` line", ciTaskfile)
	for _, fn := range []string{"publish", "merge", ciLeg} {
		require.Contains(t, task, fn, "%s has no `dagger call %s` line", ciTaskfile, fn)
	}

	var wf ciWorkflowDoc
	wfText := ciReadYAML(t, ciWorkflow, &wf)
	var gl map[string]any
	glText := ciReadYAML(t, ciGitLab, &gl)

	files := map[string][]ciCall{
		ciWorkflow: ciWorkflowCalls(t, wf),
		ciGitLab:   ciGitLabCalls(t, gl),
	}

	for _, fn := range ciSortedKeys(task) {
		t.Logf("%s: dagger call %s", task[fn].where, task[fn].line())
	}
	for _, file := range ciSortedKeys(files) {
		for _, c := range files[file] {
			t.Logf("%s: dagger call %s", c.where, c.line())
		}
	}

	t.Run("build-all lines agree", func(t *testing.T) {
		want := task["build-all"]
		assert.Contains(t, want.line(), "--platforms linux/amd64,linux/arm64", "%s: build-all must cover both platforms", ciTaskfile)
		for _, file := range ciSortedKeys(files) {
			n := 0
			for _, c := range files[file] {
				// report is build-all that keeps the report (GitLab's test report)
				if c.fn == "build-all" || c.fn == "report" {
					n++
				}
				if c.key() == "build-all" {
					assert.Equal(t, want.line(), c.line(), "%s: %q\ndiffers from %s: %q", c.where, c.raw, want.where, want.raw)
				}
			}
			assert.GreaterOrEqual(t, n, 2, "%s: want build-all (or report) for merge/pull requests and for tags", file)
		}
	})

	// A release fans out: one leg line (build-all --push-by-digest, run per
	// platform) and one merge line, in a job that needs the legs' jobs.
	t.Run("release lines agree", func(t *testing.T) {
		leg := task[ciLeg]
		for _, f := range []string{"--platforms", "--revision", "--version", "-o"} {
			assert.Contains(t, leg.args, f, "%s: the leg without %s", leg.where, f)
		}
		for _, f := range []string{"--results", "--tags"} {
			assert.Contains(t, task["merge"].args, f, "%s: merge without %s", task["merge"].where, f)
		}
		for _, c := range []ciCall{leg, task["merge"]} {
			assert.Contains(t, c.ctor, "--registry", "%s: the registry is run-wide, before the function", c.where)
		}
		for _, file := range ciSortedKeys(files) {
			jobs := map[string]string{}
			for _, key := range []string{ciLeg, "merge"} {
				var found []ciCall
				for _, c := range files[file] {
					if c.key() == key {
						found = append(found, c)
					}
				}
				require.Len(t, found, 1, "%s: want exactly one `dagger call %s` line", file, key)
				c, want := found[0], task[key]
				jobs[key] = c.job
				assert.Equal(t, want.line(), c.without(ciOnlyFlags).line(),
					"%s: %q\ndiffers from %s: %q (CI may add only %v)", c.where, c.raw, want.where, want.raw, ciOnlyFlags)
				pw, ok := ciFlag(c.ctor, "--password")
				assert.True(t, ok && pw == "env:REGISTRY_PASSWORD", "%s: the password must reach Dagger as a secret, --password env:REGISTRY_PASSWORD; got %q", c.where, pw)
				user, _ := ciFlag(c.ctor, "--username")
				assert.Equal(t, "REGISTRY_USERNAME", user, "%s: --username", c.where)
			}
			assert.Empty(t, slices.DeleteFunc(slices.Clone(files[file]), func(c ciCall) bool { return c.fn != "publish" }),
				"%s: a release publishes through its legs and the merge, not publish", file)
			// The merge job starts only after every leg succeeded.
			var needs []string
			switch file {
			case ciWorkflow:
				needs = ciStrings(wf.Jobs[jobs["merge"]].Needs)
				assert.Equal(t, []string{jobs[ciLeg]}, needs, "%s: job %s must need the leg job %s", file, jobs["merge"], jobs[ciLeg])
			case ciGitLab:
				merge, _ := gl[jobs["merge"]].(map[string]any)
				needs = ciStrings(merge["needs"])
				legs := 0
				for _, n := range needs {
					job, _ := gl[n].(map[string]any)
					if slices.Contains(ciStrings(job["extends"]), jobs[ciLeg]) {
						legs++
					}
				}
				assert.Equal(t, 2, legs, "%s: job %s must need both legs (jobs extending %s), has %v", file, jobs["merge"], jobs[ciLeg], needs)
			}
		}
	})

	t.Run("every CI line is a Taskfile line with its variables defined", func(t *testing.T) {
		for _, file := range ciSortedKeys(files) {
			for _, c := range files[file] {
				assert.NotContains(t, c.raw, "${{", "%s: pass expressions through env:, not into the script", c.where)
				want, ok := task[c.key()]
				if !assert.True(t, ok, "%s: `dagger call %s` has no line in %s", c.where, c.key(), ciTaskfile) {
					continue
				}
				if c.fn != "build-all" && c.fn != "merge" { // those are checked above
					assert.Equal(t, want.line(), c.lineWith(ciDropFlags(c.args, ciOnlyFlags)), "%s: %q", c.where, c.raw)
				}
				for _, v := range c.vars {
					assert.Contains(t, c.scope, v, "%s: $%s is not defined for this job", c.where, v)
				}
			}
		}
	})

	// Every job that runs `dagger call` first runs the one Docker-road
	// set-up, as the README's Docker quick start does.
	t.Run("docker road set-up before dagger call", func(t *testing.T) {
		const setup = "sh ci/world/docker.sh up"
		for _, name := range ciSortedKeys(wf.Jobs) {
			setupAt, callAt := -1, -1
			for i, st := range wf.Jobs[name].Steps {
				if strings.TrimSpace(st.Run) == setup && setupAt < 0 {
					setupAt = i
				}
				if strings.Contains(st.Run, "dagger call") && callAt < 0 {
					callAt = i
				}
			}
			if callAt >= 0 {
				assert.True(t, setupAt >= 0 && setupAt < callAt, "%s: job %s must run `%s` before its first dagger call", ciWorkflow, name, setup)
			}
		}
		tmpl, _ := gl[".dagger"].(map[string]any)
		before := ciStrings(tmpl["before_script"])
		i := slices.Index(before, setup)
		assert.True(t, i >= 0 && i+1 < len(before) && before[i+1] == `. "$MATRIX_DOCKER_ENV"`, "%s: .dagger before_script must run `%s`, then source its env", ciGitLab, setup)
		for _, name := range ciSortedKeys(gl) {
			job, ok := gl[name].(map[string]any)
			if !ok || !strings.Contains(strings.Join(ciStrings(job["script"]), "\n"), "dagger call") {
				continue
			}
			assert.Contains(t, ciStrings(job["extends"]), ".dagger", "%s: job %s runs dagger call without the .dagger set-up", ciGitLab, name)
		}
	})

	t.Run("workflow pins", func(t *testing.T) {
		engine := ciEngineVersion(t)
		assert.Contains(t, wf.On, "pull_request")
		push, _ := wf.On["push"].(map[string]any)
		assert.Equal(t, []any{"v*"}, push["tags"], "release on v* tags")
		assert.Equal(t, map[string]string{"contents": "read"}, wf.Permissions, "minimal permissions")
		daggerSteps := 0
		for _, name := range ciSortedKeys(wf.Jobs) {
			job := wf.Jobs[name]
			assert.Positive(t, job.TimeoutMinutes, "job %s: timeout-minutes", name)
			for _, st := range job.Steps {
				if st.Uses == "" {
					continue
				}
				assert.Regexp(t, ciVersionTag, st.Uses, "job %s: %s must be pinned to a full version tag (vX.Y.Z), not a branch or a major", name, st.Uses)
				if strings.HasPrefix(st.Uses, "dagger/dagger-for-github@") {
					daggerSteps++
					assert.Equal(t, engine, st.With["version"], "job %s: dagger-for-github must install the CLI of dagger.json's engineVersion", name)
				}
				if img, ok := st.With["image"].(string); ok {
					assert.NotRegexp(t, `:latest$|^[^:]+$`, img, "job %s: %s image must be pinned", name, st.Uses)
				}
			}
		}
		assert.GreaterOrEqual(t, daggerSteps, 2, "both jobs install Dagger with dagger-for-github")
		assert.Contains(t, string(wfText), `version: "`+engine+`"`, "%s: want the quoted input version: %q", ciWorkflow, engine)
	})

	t.Run("gitlab pins", func(t *testing.T) {
		engine := ciEngineVersion(t)
		install := "curl -fsSL https://dl.dagger.io/dagger/install.sh | BIN_DIR=/usr/local/bin DAGGER_VERSION=" + engine + " sh"
		assert.Contains(t, string(glText), install, "%s: want the Dagger CLI of dagger.json's engineVersion: %s", ciGitLab, install)
		dind := regexp.MustCompile(`^docker:(\d+\.\d+\.\d+)$`)
		n := 0
		for _, name := range ciSortedKeys(gl) {
			job, ok := gl[name].(map[string]any)
			if !ok || job["services"] == nil {
				continue
			}
			n++
			img, _ := job["image"].(string)
			m := dind.FindStringSubmatch(img)
			if assert.NotNil(t, m, "%s: image %q must be docker:X.Y.Z", name, img) {
				assert.Equal(t, []string{"docker:" + m[1] + "-dind"}, ciStrings(job["services"]), "%s: the dind service must match the image", name)
			}
			vars := ciStringMap(job["variables"])
			assert.Equal(t, "tcp://docker:2376", vars["DOCKER_HOST"], name)
			assert.Equal(t, "/certs", vars["DOCKER_TLS_CERTDIR"], name)
			before := strings.Join(ciStrings(job["before_script"]), "\n")
			assert.Regexp(t, `docker run --privileged --rm tonistiigi/binfmt:qemu-v[0-9][^ ]* --install arm64`, before, "%s: binfmt pinned by tag", name)
		}
		assert.Positive(t, n, "a Docker-in-Docker job template")
	})
}
