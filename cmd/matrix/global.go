package main

import (
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/ai-infra-matrix/matrix/pkg/lint"
	"github.com/ai-infra-matrix/matrix/pkg/report"
	"github.com/ai-infra-matrix/matrix/pkg/sbom"
)

// globalFlags are the run-wide flags, the arguments the module takes in
// New(...): the tree, the mirrors, the secrets, the engines, the registry
// and its credentials, signing. They go before the verb, as crane's do:
// matrix --source . --components-path src plan. A verb takes them after it
// too (hidden from its help, which lists only its own flags).
func globalFlags() []cli.Flag {
	return []cli.Flag{
		// The tree.
		&cli.StringFlag{Name: "components-dir", Value: "components", Usage: "directory with one folder per component (and its matrix.yaml)"},
		&cli.StringFlag{Name: "source", Usage: "the tree to build: the build contexts, the components directory and the git history (default: the working directory)"},
		&cli.StringFlag{Name: "components-path", Usage: "the components directory inside --source, e.g. src (instead of --components-dir)"},
		&cli.StringSliceFlag{Name: "build-arg-file", Usage: "a .env file of build args (repeatable; a later file wins, component.yaml's args win over all); a key goes only to Dockerfiles declaring its ARG"},
		&cli.Int64Flag{Name: "max-context", Usage: "largest build context per component, in bytes", DefaultText: "1 GiB"},
		&cli.StringFlag{Name: "lint", Value: "warn", Usage: "lint findings: warn (in the report), error (fail the run before any build) or off"},
		&cli.StringFlag{Name: "severity", Value: lint.DefaultSeverity.String(), Usage: "the lowest lint severity that counts: note, warning or error"},
		// The mirrors and secrets.
		&cli.StringFlag{Name: "apt-mirror", EnvVars: []string{"APT_MIRROR"}, Usage: "Debian mirror, for Dockerfiles declaring ARG APT_MIRROR"},
		&cli.StringFlag{Name: "go-proxy", EnvVars: []string{"GO_PROXY"}, Usage: "Go module proxy, for Dockerfiles declaring ARG GO_PROXY"},
		&cli.StringFlag{Name: "pypi-index-url", EnvVars: []string{"PYPI_INDEX_URL"}, Usage: "PyPI index, for Dockerfiles declaring ARG PYPI_INDEX_URL"},
		&cli.StringFlag{Name: "npm-registry", EnvVars: []string{"NPM_REGISTRY"}, Usage: "npm registry, for Dockerfiles declaring ARG NPM_REGISTRY"},
		&cli.StringSliceFlag{Name: "secret", Usage: "BuildKit secret id=env:VAR or id=file:PATH (repeatable)"},
		// The engines, and what they say.
		&cli.StringSliceFlag{Name: "engine", Usage: "run a platform's cells on another engine: platform=runner-host, e.g. linux/arm64=tcp://arm-host:1234 (repeatable; " +
			"unix, tcp, tls, ssh, kube-pod and docker-container, as the dagger CLI takes)"},
		&cli.StringFlag{Name: "progress", Value: report.ProgressAuto, Usage: "cell events on stderr: auto, plain, tty or quiet"},
		&cli.BoolFlag{Name: "verbose", Usage: "show the engine's progress on stderr"},
		// The registry, its credentials, and signing.
		&cli.StringFlag{Name: "registry", EnvVars: []string{"MATRIX_REGISTRY"}, Usage: "host[:port][/project] to push to, e.g. harbor.example.com/ai-infra"},
		&cli.StringFlag{Name: "username", EnvVars: []string{"MATRIX_REGISTRY_USERNAME"}, Usage: "registry user name"},
		&cli.StringFlag{Name: "password-env", Usage: "environment variable holding the registry password"},
		&cli.StringFlag{Name: "password-file", Usage: "file holding the registry password"},
		&cli.StringFlag{Name: "sign-key", Usage: "sign every manifest and index with this PEM private key (ECDSA P-256, unencrypted): a file, or env:VAR"},
		&cli.StringFlag{Name: "syft-image", Value: sbom.DefaultImage, EnvVars: []string{"MATRIX_SYFT_IMAGE"},
			Usage: "the image syft runs from for the SBOMs (a mirror of it, pinned by digest if you like), or \"source\" to compile syft in the engine"},
	}
}

// afterVerb is globalFlags as a verb with flags own takes them: hidden from
// its help, and without defaults, so a value only counts when given after
// the verb (the app's flag has the default and reads the environment). A
// flag the verb has itself (init's --components-path) stays its own.
func afterVerb(own []cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, f := range globalFlags() {
		if slices.ContainsFunc(own, func(o cli.Flag) bool { return o.Names()[0] == f.Names()[0] }) {
			continue
		}
		switch f := f.(type) {
		case *cli.StringFlag:
			out = append(out, &cli.StringFlag{Name: f.Name, Hidden: true})
		case *cli.StringSliceFlag:
			out = append(out, &cli.StringSliceFlag{Name: f.Name, Hidden: true})
		case *cli.Int64Flag:
			out = append(out, &cli.Int64Flag{Name: f.Name, Hidden: true})
		case *cli.BoolFlag:
			out = append(out, &cli.BoolFlag{Name: f.Name, Hidden: true})
		default:
			panic("afterVerb: a global flag of a type it does not copy")
		}
	}
	return out
}

// global is the context run-wide flag name is read from: the verb's when
// given after it, else the app's (given before the verb, from the
// environment, or its default).
func global(c *cli.Context, name string) *cli.Context {
	lineage := c.Lineage()
	for _, x := range lineage {
		if slices.Contains(x.LocalFlagNames(), name) {
			return x
		}
	}
	for _, x := range slices.Backward(lineage) { // the app's context is the outermost with flags
		if x.Command != nil && slices.ContainsFunc(x.Command.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) }) {
			return x
		}
	}
	return c
}

// globalString, globalBool, globalSlice and globalInt64 read run-wide flag name.
func globalString(c *cli.Context, name string) string  { return global(c, name).String(name) }
func globalBool(c *cli.Context, name string) bool      { return global(c, name).Bool(name) }
func globalSlice(c *cli.Context, name string) []string { return global(c, name).StringSlice(name) }
func globalInt64(c *cli.Context, name string) int64    { return global(c, name).Int64(name) }
func globalIsSet(c *cli.Context, name string) bool     { return global(c, name).IsSet(name) }
