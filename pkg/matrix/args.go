package matrix

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/builder"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/dotenv"
	"github.com/ai-infra-matrix/matrix/pkg/plan"
)

// ArgFile is one --build-arg-file: how the run names it, and what it holds.
type ArgFile struct {
	Name string
	Data []byte
}

// fileArg is a key of an --build-arg-file and where it was set.
type fileArg struct {
	value, file string
	line        int
}

// parseArgFiles reads --build-arg-file in order; a later file's key wins.
// Errors name the line, never a value.
func (o *RunOptions) parseArgFiles() error {
	o.fileArgs = map[string]fileArg{}
	for _, f := range o.BuildArgFiles {
		vars, err := dotenv.Parse(f.Data)
		if err != nil {
			return class.BadInput.Errorf("--build-arg-file %s: %w (write KEY=value lines; # starts a comment; quote a value with ' or \")", f.Name, err)
		}
		for _, v := range vars {
			o.fileArgs[v.Key] = fileArg{value: v.Value, file: f.Name, line: v.Line}
		}
	}
	return nil
}

// inputs gives each planned component the keys of the arg files its
// Dockerfile declares (component.yaml's args win), then checks its build
// context and records, per cell, the args and the context size. Keys no
// Dockerfile declares are never passed.
func (o *RunOptions) inputs(set *component.Set, p *plan.Plan) error {
	for i := range p.Components {
		c := &p.Components[i]
		if err := o.addFileArgs(c); err != nil {
			return err
		}
		args := map[string]string{}
		for _, a := range builder.Args(*c, o.Version, o.Mirrors) {
			args[a.Name] = a.Value
		}
		ctx, err := set.Check(*c, o.MaxContext, args)
		if err != nil {
			return err
		}
		for _, d := range c.DependsOn {
			args[builder.ImageArg(d)] = "<this run's " + d + " variant of the platform, by digest>"
		}
		for _, s := range c.Services {
			args[s.Arg] = fmt.Sprintf("<http://HOST:%d: this run's %s variant of the platform, served>", s.Port, s.Component)
		}
		for j := range p.Cells {
			if cell := &p.Cells[j]; cell.Component == c.Name && cell.Status == plan.Planned {
				cell.Args, cell.ContextBytes = maps.Clone(args), ctx.Bytes
			}
		}
	}
	return nil
}

// addFileArgs adds to c the arg-file keys its Dockerfile declares, and
// refuses a credential-like one: a build arg ends up in the image history.
func (o *RunOptions) addFileArgs(c *component.Spec) error {
	for _, k := range slices.Sorted(maps.Keys(o.fileArgs)) {
		a := o.fileArgs[k]
		switch {
		case !slices.Contains(c.Declared, k), c.HasArg(k), k == "BUILDPLATFORM", strings.HasPrefix(k, "TARGET"),
			o.Mirrors[k] != "", slices.ContainsFunc(c.DependsOn, func(d string) bool { return builder.ImageArg(d) == k }),
			slices.ContainsFunc(c.Services, func(s component.Service) bool { return s.Arg == k }):
			continue // not declared, or set by component.yaml, BuildKit, a run-wide flag, the run's dependency or service
		case component.Credential(k):
			id := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
			return fmt.Errorf("--build-arg-file %s: line %d: %s is declared by %s (ARG %s) and looks like a credential; "+
				"a build arg ends up in the image history (make it a secret: drop ARG %s, list %s under secrets: in %s, "+
				"read it with RUN --mount=type=secret,id=%s, and pass it with --secret)",
				a.file, a.line, k, path.Join(c.Dir, c.Dockerfile), k, k, id, path.Join(c.Dir, component.FileName), id)
		}
		c.Args = append(c.Args, component.Arg{Name: k, Value: a.value})
	}
	sort.Slice(c.Args, func(i, j int) bool { return c.Args[i].Name < c.Args[j].Name })
	return nil
}
