package lint

import (
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// Fetch is a RUN that downloads from an address a variable gives, while the
// image builds: curl "${APPHUB_URL}/pkgs/..." needs that server up.
type Fetch struct {
	Line int
	Tool string // curl or wget
	Var  string // the variable in its arguments, such as APPHUB_URL
}

// fetchers are the programs a RUN downloads with.
var fetchers = []string{"curl", "wget"}

// Fetches lists, in order, each variable a RUN of any stage passes to curl
// or wget (heredoc scripts included), once per line and variable.
func Fetches(file string, data []byte) ([]Fetch, error) {
	stages, _, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	var out []Fetch
	for _, s := range stages {
		for _, cmd := range s.Commands {
			run, ok := cmd.(*instructions.RunCommand)
			if !ok {
				continue
			}
			text := strings.Join(run.CmdLine, " ")
			for _, f := range run.Files {
				text += "\n" + f.Data
			}
			at := line(run.Location())
			for _, sc := range commands(text) {
				c := command(sc)
				if len(c) == 0 || !slices.Contains(fetchers, path.Base(c[0])) {
					continue
				}
				for _, v := range varRefs(strings.Join(c[1:], " ")) {
					f := Fetch{Line: at, Tool: path.Base(c[0]), Var: v}
					if !slices.ContainsFunc(out, func(o Fetch) bool { return o.Line == at && o.Var == v }) {
						out = append(out, f)
					}
				}
			}
		}
	}
	return out, nil
}
