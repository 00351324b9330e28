// Package provenance writes SLSA v1 provenance: an in-toto statement that
// says which builder made an image, from which source and revision, with
// which build arguments, for which platform. It holds no time but the
// source's and no secret: the same build gives the same bytes.
package provenance

import (
	"encoding/json"
	"net/url"
	"runtime/debug"
	"strings"
)

// The in-toto statement and SLSA predicate types, and the media type of a
// statement as a referrer.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	MediaType     = "application/vnd.in-toto+json"
	// BuildType names how matrix builds: a component's Dockerfile, in a
	// Dagger engine, for one platform (or, for an index, the variants).
	BuildType = "https://github.com/ai-infra-matrix/matrix/build/dockerfile/v1"
	BuilderID = "https://github.com/ai-infra-matrix/matrix"
)

// Build is what a statement records about one image (a variant, or an index).
type Build struct {
	Subject   string            // the repository, e.g. registry/ai-infra-nginx
	Digest    string            // sha256:...
	Component string            // the component
	Platforms []string          // one for a variant; the index's, in order
	Version   string            // the run's --version
	Source    string            // the source repository URL (the source annotation)
	Revision  string            // the commit built
	Created   string            // the source's time, RFC 3339 (may be empty)
	Args      map[string]string // build arguments; secrets are BuildKit secrets, never here
	Base      string            // base.name@base.digest, when known
	Engine    string            // the Dagger engine's version
	Matrix    string            // matrix's own version; empty: its build info's
}

// Statement is b's provenance as JSON.
func Statement(b Build) ([]byte, error) {
	algo, hex, _ := strings.Cut(b.Digest, ":")
	params := map[string]any{"component": b.Component, "platforms": b.Platforms, "version": b.Version}
	if b.Source != "" {
		params["source"] = b.Source
	}
	if b.Revision != "" {
		params["revision"] = b.Revision
	}
	var deps []map[string]any
	if b.Revision != "" {
		uri := b.Source
		if uri != "" {
			uri = "git+" + uri + "@" + b.Revision
		}
		deps = append(deps, map[string]any{"uri": uri, "digest": map[string]string{"gitCommit": b.Revision}})
	}
	if name, digest, ok := strings.Cut(b.Base, "@"); ok {
		a, h, _ := strings.Cut(digest, ":")
		deps = append(deps, map[string]any{"uri": "pkg:docker/" + name, "digest": map[string]string{a: h}})
	}
	def := map[string]any{"buildType": BuildType, "externalParameters": params,
		"internalParameters": map[string]any{"buildArgs": Redact(b.Args)}}
	if len(deps) > 0 {
		def["resolvedDependencies"] = deps
	}
	matrix := b.Matrix
	if matrix == "" {
		matrix = Version()
	}
	run := map[string]any{"builder": map[string]any{"id": BuilderID,
		"version": map[string]string{"matrix": matrix, "dagger-engine": b.Engine}}}
	if b.Created != "" {
		// The source's time, not the build's: a rebuild of the same tree
		// must give the same statement.
		run["metadata"] = map[string]string{"startedOn": b.Created, "finishedOn": b.Created}
	}
	st := map[string]any{
		"_type":         StatementType,
		"subject":       []map[string]any{{"name": b.Subject, "digest": map[string]string{algo: hex}}},
		"predicateType": PredicateType,
		"predicate":     map[string]any{"buildDefinition": def, "runDetails": run},
	}
	return json.Marshal(st) // maps marshal with sorted keys: stable bytes
}

// Redact is args without any URL's user name and password (a mirror such
// as https://user:token@mirror/ carries a credential in the URL).
func Redact(args map[string]string) map[string]string {
	out := make(map[string]string, len(args))
	for k, v := range args {
		if u, err := url.Parse(v); err == nil && u.User != nil {
			u.User = nil
			v = u.String()
		}
		out[k] = v
	}
	return out
}

// Version is matrix's module version from its build info ("(devel)" for a
// build from a checkout).
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
