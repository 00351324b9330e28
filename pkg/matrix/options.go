package matrix

import (
	"runtime"
	"slices"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Defaults, applied once by Options.Validate (see each group's defaults).
var (
	DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}
	DefaultVersion   = "dev"
	// DefaultStageRegistry is where ci/world/up.sh and ci/world/docker.sh
	// start a registry the engine reaches.
	DefaultStageRegistry = "localhost:5000"
)

// Options is one run's input, the same from both entry points, in three
// groups: what to build and how (Run), where it is pushed and how its tags
// move (Push), and what is written about it (Attest). Each field is named
// after the flag both take (--platforms, --stage-registry, ...), so a message
// naming a flag is right for `matrix` and for `dagger call` alike. Secret
// values are plaintext here and become engine secrets on the run's client;
// nothing prints an Options.
type Options struct {
	Run    RunOptions
	Push   PushOptions
	Attest AttestOptions
	Notify func(string)       // hears what a run waits for, its notes and warnings
	Events func(report.Event) // hears each cell as it starts, builds and ends (progress)
}

// Validate applies each group's defaults, once, and checks every option; the
// error is bad input naming the flag and the fix. It needs no engine, and
// reads no git history (see Run.created).
func (o *Options) Validate() error {
	o.defaults()
	if err := o.Run.Validate(); err != nil {
		return err
	}
	if err := o.Push.Validate(); err != nil {
		return err
	}
	if o.Push.Mode == PushByDigest && o.Run.Revision == "" {
		return class.BadInput.Errorf("--push-by-digest needs --revision (the commit built), so the merge can refuse legs of other revisions")
	}
	return o.Attest.Validate()
}

// defaults fills in what a run leaves out; applying it twice changes nothing.
func (o *Options) defaults() {
	o.Run.defaults()
	if o.Push.Jobs == 0 {
		o.Push.Jobs = o.Run.Jobs // a publish pushes as many at once as it builds
	}
	o.Push.defaults(o.Run.Version)
}

// Split turns a comma-separated flag value into its trimmed, non-empty items.
func Split(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// defaultJobs is --jobs 0: one cell per core.
func defaultJobs() int { return runtime.NumCPU() }

// orDefault is list, or a copy of def when list is empty.
func orDefault(list, def []string) []string {
	if len(list) == 0 {
		return slices.Clone(def)
	}
	return list
}
