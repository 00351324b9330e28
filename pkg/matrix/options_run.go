package matrix

import (
	"context"
	"slices"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/source"
)

// RunOptions are what a run builds and how: the cells, the source, the
// build inputs, the engines and the cache.
type RunOptions struct {
	Platforms     []string          // --platforms; empty: DefaultPlatforms
	Components    []string          // --components; empty: all
	Jobs          int               // --jobs, cells at once; 0: one per core
	FailFast      bool              // --fail-fast
	Version       string            // --version; empty: DefaultVersion
	Sizes         bool              // --sizes
	Mirrors       map[string]string // --apt-mirror etc., by build arg name
	Secrets       map[string]string // --secret, BuildKit secrets by id
	BuildArgFiles []ArgFile         // --build-arg-file, in order: a later file's key wins
	fileArgs      map[string]fileArg
	StageRegistry string            // --stage-registry; empty: DefaultStageRegistry
	StageReadBack bool              // the stage check also reads back from this process (the host CLI)
	MaxContext    int64             // --max-context, bytes; 0: component.DefaultMaxContext
	UploadedWhole bool              // the tree reached the engine whole (the module's --source): nothing is left out of the upload
	Lint          string            // --lint: warn (findings in the report), error (findings fail the run first), off; empty: warn
	Severity      string            // --severity, the lowest that counts: note, warning (default), error
	NoThirdParty  bool              // --no-third-party: export leaves out the third-party images
	Revision      string            // --revision, the source revision built (a full git object name)
	Engines       map[string]string // --engine platform=runner-host (the host CLI); a platform not named runs on the default engine
	CacheRepo     string            // --cache-repo: the repository of cell keys; a cell whose key it holds is reused, not built
	Rebuild       []string          // --rebuild: components built whatever the cache holds; "all": every one
	// SourceDateEpoch is --source-date-epoch (the host CLI: also the
	// SOURCE_DATE_EPOCH variable); Validate sets Created from it. Without
	// it, a run that pushes reads the commit time of Revision (see created).
	SourceDateEpoch string
	Created         string // RFC 3339, the created annotation; empty: unknown
	// UpstreamVia is the host:port this process dials for a third-party
	// upstream on loopback (see mirror.Upstreams), from inside the module.
	UpstreamVia string
}

// defaults fills in what the run leaves out.
func (o *RunOptions) defaults() {
	o.Platforms = orDefault(o.Platforms, DefaultPlatforms)
	if o.Jobs == 0 {
		o.Jobs = defaultJobs()
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Lint == "" {
		o.Lint = "warn"
	}
	if o.Severity == "" {
		o.Severity = lint.DefaultSeverity.String()
	}
	if o.StageRegistry == "" {
		o.StageRegistry = DefaultStageRegistry
	}
}

// Validate checks the run's options (after defaults) and reads what they
// hold: the build-arg files, and Created from --source-date-epoch.
func (o *RunOptions) Validate() error {
	if err := checkPlatforms(o.Platforms, true); err != nil {
		return err
	}
	for _, c := range o.Components {
		if !component.AddressRE.MatchString(c) {
			return badInput("--components: %q is not a component name; use folder names under the components directory, or component/image for one image of one, comma-separated", c)
		}
	}
	if o.Jobs < 0 {
		return badInput("--jobs %d: must be at least 1, or 0 for one per core", o.Jobs)
	}
	if o.MaxContext < 0 {
		return badInput("--max-context %d: must be a positive number of bytes, or 0 for the default", o.MaxContext)
	}
	for _, m := range component.Mirrors() {
		if v := o.Mirrors[m]; strings.ContainsAny(v, " \t\n") {
			return badInput("--%s %q: a mirror is one URL without spaces", flagOf(m), v)
		}
	}
	if err := o.parseArgFiles(); err != nil {
		return err
	}
	for id := range o.Secrets {
		if !component.SecretRE.MatchString(id) {
			return badInput("--secret: id %q is not valid; use letters, digits, '.', '_' and '-'", id)
		}
	}
	if !slices.Contains([]string{"warn", "error", "off"}, o.Lint) {
		return badInput("--lint %q: use warn, error or off", o.Lint)
	}
	if _, err := lint.ParseSeverity(o.Severity); err != nil {
		return badInput("--severity: %w", err)
	}
	if strings.Contains(o.StageRegistry, "/") {
		return badInput("--stage-registry %q: give host:port only, such as localhost:5000", o.StageRegistry)
	}
	if o.Revision != "" && !source.RevisionRE.MatchString(o.Revision) {
		return badInput("--revision %q: give the full commit hash (git rev-parse HEAD)", o.Revision)
	}
	if o.SourceDateEpoch != "" {
		created, err := source.Epoch(o.SourceDateEpoch)
		if err != nil {
			return badInput("--source-date-epoch: %w; give the commit time as seconds, e.g. $(git log -1 --format=%%ct)", err)
		}
		o.Created = created
	}
	if err := o.validateEngines(); err != nil {
		return err
	}
	return o.validateCacheRepo()
}

// checkPlatforms checks --platforms: each os/arch, and (once) each once.
func checkPlatforms(platforms []string, once bool) error {
	seen := map[string]bool{}
	for _, p := range platforms {
		if err := component.CheckPlatform(p); err != nil {
			return badInput("--platforms: %w; use os/arch such as linux/amd64,linux/arm64", err)
		}
		if once && seen[p] {
			return badInput("--platforms: %s is listed twice; list each platform once", p)
		}
		seen[p] = true
	}
	return nil
}

// created is the created time of a run that pushes: Created (from
// --source-date-epoch), else the commit time of Revision in checkout, read
// here, once, and only here; unknown there: none.
func (o *RunOptions) created(ctx context.Context, checkout string) string {
	if o.Created == "" && o.Revision != "" {
		if checkout == "" {
			checkout = "."
		}
		o.Created, _ = source.Checkout{Dir: checkout}.Created(ctx, o.Revision)
	}
	return o.Created
}

// badInput is an error of bad input: the flag, what is wrong, the fix.
func badInput(format string, args ...any) error { return class.BadInput.Errorf(format, args...) }

// flagOf is the flag of a mirror build arg: APT_MIRROR is --apt-mirror.
func flagOf(arg string) string {
	return strings.ToLower(strings.ReplaceAll(arg, "_", "-"))
}

// validateEngines checks --engine: each a planned platform, once, with a
// runner host the dagger CLI accepts.
func (o *RunOptions) validateEngines() error {
	for pl, host := range o.Engines {
		if !slices.Contains(o.Platforms, pl) {
			return badInput("--engine %s=%s: %s is not in --platforms %s; name a planned platform", pl, host, pl, strings.Join(o.Platforms, ","))
		}
		scheme, rest, ok := strings.Cut(host, "://")
		if !ok || rest == "" || !slices.Contains(EngineSchemes, scheme) {
			return badInput("--engine %s=%s: not a runner host; use %s://...", pl, host, strings.Join(EngineSchemes, "://, "))
		}
	}
	return nil
}

// OneEngine refuses the n --engine flags of a verb that runs on one engine
// (export).
func OneEngine(n int) error {
	if n > 0 {
		return badInput("--engine: export writes its archives from one engine; leave --engine out")
	}
	return nil
}

// EngineSchemes are the runner-host schemes of the dagger CLI.
var EngineSchemes = []string{"unix", "tcp", "tls", "ssh", "kube-pod", "docker-container"}
