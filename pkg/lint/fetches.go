package lint

import (
	"path"
	"slices"
	"strconv"
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

// Ports lists the TCP ports the EXPOSE instructions of the Dockerfile's last
// stage name, in order, each once; a port given by a variable is left out.
func Ports(file string, data []byte) ([]int, error) {
	stages, _, err := parse(file, data)
	if err != nil || len(stages) == 0 {
		return nil, err
	}
	var out []int
	for _, cmd := range stages[len(stages)-1].Commands {
		ex, ok := cmd.(*instructions.ExposeCommand)
		if !ok {
			continue
		}
		for _, p := range ex.Ports {
			num, proto, _ := strings.Cut(p, "/")
			n, err := strconv.Atoi(num)
			if err != nil || n < 1 || n > 65535 || (proto != "" && !strings.EqualFold(proto, "tcp")) || slices.Contains(out, n) {
				continue
			}
			out = append(out, n)
		}
	}
	return out, nil
}
