package matrix

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ai-infra-matrix/matrix/pkg/attest"
	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/publish"
	"github.com/ai-infra-matrix/matrix/pkg/registry"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
	"github.com/ai-infra-matrix/matrix/pkg/signature"
	"github.com/ai-infra-matrix/matrix/pkg/source"
)

// Verb is what a run does after planning.
type Verb string

// The verbs of both entry points.
const (
	VerbPlan    Verb = "plan"
	VerbBuild   Verb = "build"
	VerbPublish Verb = "publish"
	VerbExport  Verb = "export"
	VerbLint    Verb = "lint"
	VerbMerge   Verb = "merge"
)

// EngineVersion is the Dagger engine matrix is built and tested against:
// the CLI refuses any other, and the provenance records it.
const EngineVersion = "v0.21.8"

// Defaults, applied once by Validate.
var (
	DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}
	DefaultVersion   = "dev"
	// DefaultStageRegistry is where ci/world/up.sh and ci/world/docker.sh
	// start a registry the engine reaches.
	DefaultStageRegistry = "localhost:5000"
)

// Options is one run's input, the same from both entry points. Each field is
// named after the flag both take (--platforms, --stage-registry, ...), so a
// message naming a flag is right for `matrix` and for `dagger call` alike.
// Secret values are plaintext here and become engine secrets on the run's
// client; nothing prints an Options.
type Options struct {
	Verb          Verb
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
	Lint          string            // --lint: warn (findings in the report), error (findings fail the run first), off
	Severity      string            // --severity, the lowest that counts: note, warning (default), error
	NoThirdParty  bool              // --no-third-party: export leaves out the third-party images
	PushByDigest  bool              // --push-by-digest: build-all pushes each variant, no tag moves (one leg of a merge)
	Revision      string            // --revision, the source revision built (a full git object name)
	Engines       map[string]string // --engine platform=runner-host (the host CLI); a platform not named runs on the default engine
	CacheRepo     string            // --cache-repo: the repository of cell keys; a cell whose key it holds is reused, not built
	Rebuild       []string          // --rebuild: components built whatever the cache holds; "all": every one
	// SourceDateEpoch is --source-date-epoch (the host CLI: also the
	// SOURCE_DATE_EPOCH variable); Validate sets Created from it, else from
	// the commit time of Revision in Checkout.
	SourceDateEpoch string
	Created         string // RFC 3339, the created annotation; empty: unknown

	NoAttest  bool   // --no-attest: no SBOM, provenance or signature referrers
	SignKey   string // --sign-key, a PEM private key (ECDSA P-256, unencrypted); empty: unsigned
	signKey   *signature.Key
	SyftImage string // --syft-image, the image syft runs from; empty: sbom.DefaultImage; "source": compiled in the engine

	Registry string   // --registry, host[:port][/project]
	Tags     []string // --tags; empty: the version and latest
	Floating []string // --floating, the tags that move forward only; empty: publish.DefaultFloating
	Checkout string   // the git checkout floating tags check descent in; empty: none
	ArchTags bool     // --arch-tags
	Username string   // --username
	Password string   // --password
	// RegistryVia is the host:port this process dials for the registry (a
	// tunnel from inside the module to the caller's loopback).
	RegistryVia string
	// UpstreamVia is the host:port this process dials for a third-party
	// upstream on loopback (see mirror.Upstreams), from inside the module.
	UpstreamVia string
	Notify      func(string)       // hears what a publish waits for
	Events      func(report.Event) // hears each cell as it starts, builds and ends (progress)
	Retry       registry.Retry     // registry retries; zero: registry.DefaultRetry
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

// Validate applies the defaults, once, and checks every option; the error
// is bad input naming the flag and the fix. It needs no engine.
func (o *Options) Validate() error {
	bad := func(format string, args ...any) error { return class.BadInput.Errorf(format, args...) }
	if o.Verb == "" {
		o.Verb = VerbBuild
	}
	if len(o.Platforms) == 0 {
		o.Platforms = slices.Clone(DefaultPlatforms)
	}
	seen := map[string]bool{}
	for _, p := range o.Platforms {
		if err := component.CheckPlatform(p); err != nil {
			return bad("--platforms: %w; use os/arch such as linux/amd64,linux/arm64", err)
		}
		if seen[p] {
			return bad("--platforms: %s is listed twice; list each platform once", p)
		}
		seen[p] = true
	}
	for _, c := range o.Components {
		if !component.NameRE.MatchString(c) {
			return bad("--components: %q is not a component name; use folder names under the components directory, comma-separated", c)
		}
	}
	if o.Jobs < 0 {
		return bad("--jobs %d: must be at least 1, or 0 for one per core", o.Jobs)
	}
	if o.Jobs == 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.MaxContext < 0 {
		return bad("--max-context %d: must be a positive number of bytes, or 0 for the default", o.MaxContext)
	}
	for _, m := range component.Mirrors() {
		if v := o.Mirrors[m]; strings.ContainsAny(v, " \t\n") {
			return bad("--%s %q: a mirror is one URL without spaces", flagOf(m), v)
		}
	}
	if err := o.parseArgFiles(); err != nil {
		return err
	}
	for id := range o.Secrets {
		if !component.SecretRE.MatchString(id) {
			return bad("--secret: id %q is not valid; use letters, digits, '.', '_' and '-'", id)
		}
	}
	if o.Lint == "" {
		o.Lint = "warn"
	}
	if !slices.Contains([]string{"warn", "error", "off"}, o.Lint) {
		return bad("--lint %q: use warn, error or off", o.Lint)
	}
	if o.Severity == "" {
		o.Severity = lint.DefaultSeverity.String()
	}
	if _, err := lint.ParseSeverity(o.Severity); err != nil {
		return bad("--severity: %w", err)
	}
	if o.StageRegistry == "" {
		o.StageRegistry = DefaultStageRegistry
	}
	if strings.Contains(o.StageRegistry, "/") {
		return bad("--stage-registry %q: give host:port only, such as localhost:5000", o.StageRegistry)
	}
	if o.Revision != "" && !source.RevisionRE.MatchString(o.Revision) {
		return bad("--revision %q: give the full commit hash (git rev-parse HEAD)", o.Revision)
	}
	if o.SourceDateEpoch != "" {
		created, err := source.Epoch(o.SourceDateEpoch)
		if err != nil {
			return bad("--source-date-epoch: %w; give the commit time as seconds, e.g. $(git log -1 --format=%%ct)", err)
		}
		o.Created = created
	}
	if o.SyftImage != "" && o.SyftImage != sbom.FromSource {
		if _, err := name.ParseReference(o.SyftImage); err != nil {
			return bad("--syft-image %q: %w; give an image reference such as %s (pin it with @sha256:...), or %q to compile syft from the Go module proxy", o.SyftImage, err, sbom.DefaultImage, sbom.FromSource)
		}
	}
	if o.SignKey != "" {
		if o.NoAttest {
			return bad("--sign-key and --no-attest exclude each other: a signature is an attestation")
		}
		k, err := signature.ParseKey([]byte(o.SignKey))
		if err != nil {
			return bad("--sign-key: %w", err)
		}
		o.signKey = k
	}
	if err := o.validateEngines(); err != nil {
		return err
	}
	if err := o.validateCacheRepo(); err != nil {
		return err
	}
	if o.PushByDigest {
		if o.Verb != VerbBuild {
			return bad("--push-by-digest is for build-all (one leg of a fan-out); merge the legs with merge")
		}
		if o.Revision == "" {
			return bad("--push-by-digest needs --revision (the commit built), so the merge can refuse legs of other revisions")
		}
		if o.Registry == "" {
			return bad("--push-by-digest needs --registry host[:port][/project] to push the variants to")
		}
	}
	if o.Verb != VerbPublish && o.Verb != VerbMerge && !o.PushByDigest {
		return nil
	}
	// Only what pushes says when it was created: the git call is not a
	// build's.
	if o.Created == "" && o.Revision != "" {
		o.Created, _ = source.Checkout{Dir: cmp.Or(o.Checkout, ".")}.Created(context.Background(), o.Revision) // unknown there: no created
	}
	o.Registry = strings.TrimSuffix(o.Registry, "/")
	if len(o.Tags) == 0 && !o.PushByDigest {
		o.Tags = []string{o.Version, "latest"}
	}
	if o.Floating == nil {
		o.Floating = slices.Clone(publish.DefaultFloating)
	}
	if o.PushByDigest { // a leg moves no tag
		return o.target().ValidateRegistry()
	}
	return o.target().Validate()
}

// flagOf is the flag of a mirror build arg: APT_MIRROR is --apt-mirror.
func flagOf(arg string) string {
	return strings.ToLower(strings.ReplaceAll(arg, "_", "-"))
}

// target is where a publish goes, without the engine-side password.
func (o *Options) target() publish.Target {
	var a publish.Attester
	if !o.NoAttest {
		a = attest.Attester{Key: o.signKey, Syft: o.SyftImage, GoProxy: o.Mirrors["GO_PROXY"], Engine: EngineVersion}
	}
	return publish.Target{
		Client: registry.Client{Registry: o.Registry, Tags: o.Tags, Jobs: o.Jobs, Notify: o.Notify, Via: o.RegistryVia, Retry: o.Retry,
			Auth: registry.Auth{Username: o.Username, Password: o.Password}},
		Attest: a, ArchTags: o.ArchTags, Revision: o.Revision, Created: o.Created, Floating: o.Floating, Descends: o.descends(),
		Annotations: map[string]string{publish.AnnotationVersion: o.Version},
	}
}

// descends checks floating tags against the checkout, when there is one.
func (o *Options) descends() func(ctx context.Context, prev, next string) (bool, error) {
	if o.Checkout == "" {
		return nil
	}
	return source.Checkout{Dir: o.Checkout}.Descends
}

// validateEngines checks --engine: each a planned platform, once, with a
// runner host the dagger CLI accepts.
func (o *Options) validateEngines() error {
	for pl, host := range o.Engines {
		if !slices.Contains(o.Platforms, pl) {
			return class.BadInput.Errorf("--engine %s=%s: %s is not in --platforms %s; name a planned platform", pl, host, pl, strings.Join(o.Platforms, ","))
		}
		scheme, rest, ok := strings.Cut(host, "://")
		if !ok || rest == "" || !slices.Contains(EngineSchemes, scheme) {
			return class.BadInput.Errorf("--engine %s=%s: not a runner host; use %s://...", pl, host, strings.Join(EngineSchemes, "://, "))
		}
	}
	if len(o.Engines) > 0 && o.Verb == VerbExport {
		return class.BadInput.Errorf("--engine: export writes its archives from one engine; leave --engine out")
	}
	return nil
}

// EngineSchemes are the runner-host schemes of the dagger CLI.
var EngineSchemes = []string{"unix", "tcp", "tls", "ssh", "kube-pod", "docker-container"}
