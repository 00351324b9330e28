package cellkey

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// Recipe is the version of how a key is made: change it whenever Inputs
// gains, loses or renames an input, or an input is digested another way,
// so no old key matches a new recipe. 2: the context's digest is a copy's.
const Recipe = "2"

// Annotation carries a variant's key on its image manifest.
const Annotation = "io.ai-infra-matrix.cell.key"

// Input is one named input of a key, e.g. arg:APT_MIRROR=http://... or
// context=sha256:....
type Input struct{ Name, Value string }

// Inputs are everything a key is made of. Secret values are never here:
// only their ids.
type Inputs []Input

// Key is the digest of the inputs, in name order.
func (in Inputs) Key() string {
	h := sha256.New()
	for _, l := range in.lines(func(s string) string { return s }) {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Lines are the inputs as name=value, sorted, what the report shows: a
// password in a URL (a mirror's) is masked.
func (in Inputs) Lines() []string {
	return in.lines(func(s string) string { return userinfo.ReplaceAllString(s, "://$1:***@") })
}

// userinfo is the user:password@ of a URL.
var userinfo = regexp.MustCompile(`://([^/:@\s]*):[^/@\s]*@`)

func (in Inputs) lines(show func(string) string) []string {
	out := make([]string, len(in))
	for i, x := range in {
		out[i] = x.Name + "=" + show(strings.ReplaceAll(x.Value, "\n", " "))
	}
	slices.Sort(out)
	return out
}

// Cell is what a key is computed from, resolved: the digests are the
// engine's content digests, the bases resolved for the platform.
type Cell struct {
	Platform   string
	Engine     string   // engine version: Dagger's digests are stable within one only
	Dockerfile string   // path in the context
	Target     string   // stage built; "" the last
	Digests    Digests  // the Dockerfile's and the context's
	Args       []Arg    // build args after defaults, mirrors and ${VERSION}, BUILDPLATFORM included
	Secrets    []string // secret ids
	Bases      []Base   // each external FROM and the digest it resolves to
	Deps       []Arg    // a dependency's name and its key for this platform
}

// Arg is a name and a value.
type Arg = component.Arg

// Digests are the engine's content digests of a cell's sources.
type Digests struct{ Dockerfile, Context string }

// Base is a FROM reference and the digest it resolved to.
type Base struct{ Ref, Digest string }

// Inputs lists c's inputs, each named after what it is.
func (c Cell) Inputs() Inputs {
	in := Inputs{
		{"recipe", Recipe}, {"engine", c.Engine}, {"platform", c.Platform},
		{"dockerfile", c.Dockerfile + "@" + c.Digests.Dockerfile}, {"target", c.Target}, {"context", c.Digests.Context},
	}
	for _, a := range c.Args {
		in = append(in, Input{"arg:" + a.Name, a.Value})
	}
	for _, s := range c.Secrets {
		in = append(in, Input{"secret:" + s, "id"})
	}
	for _, b := range c.Bases {
		in = append(in, Input{"from:" + b.Ref, b.Digest})
	}
	for _, d := range c.Deps {
		in = append(in, Input{"dependency:" + d.Name, d.Value})
	}
	return in
}
