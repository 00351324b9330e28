package matrix

import (
	"errors"
	"os"
	"strings"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// The CLI's flag syntaxes for what the module takes as Dagger types
// (files, secrets) or does not take (engines).

// ReadArgFiles reads each --build-arg-file of the CLI; New parses them.
func ReadArgFiles(paths []string) ([]ArgFile, error) {
	var out []ArgFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, class.BadInput.Errorf("--build-arg-file %s: %v; give a .env file of KEY=value lines", p, errors.Unwrap(err))
		}
		out = append(out, ArgFile{Name: p, Data: b})
	}
	return out, nil
}

// ParseEngines reads the CLI's --engine platform=runner-host, each platform once.
func ParseEngines(specs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		pl, host, ok := strings.Cut(s, "=")
		if !ok || pl == "" || host == "" {
			return nil, class.BadInput.Errorf("--engine %q: use platform=runner-host, e.g. linux/arm64=tcp://arm-host:1234", s)
		}
		if _, dup := out[pl]; dup {
			return nil, class.BadInput.Errorf("--engine: %s is given twice; give each platform one engine", pl)
		}
		out[pl] = host
	}
	return out, nil
}

// ParseSecrets reads the CLI's --secret id=env:VAR and id=file:PATH; values
// never reach a log.
func ParseSecrets(specs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		id, src, ok := strings.Cut(s, "=")
		kind, ref, ok2 := strings.Cut(src, ":")
		if !ok || !ok2 || id == "" || ref == "" {
			return nil, class.BadInput.Errorf("--secret %q: use id=env:VAR or id=file:PATH", redact(s))
		}
		switch kind {
		case "env":
			v, set := os.LookupEnv(ref)
			if !set {
				return nil, class.BadInput.Errorf("--secret %s: environment variable %s is not set", id, ref)
			}
			out[id] = v
		case "file":
			b, err := os.ReadFile(ref)
			if err != nil {
				return nil, class.BadInput.Errorf("--secret %s: %v", id, err)
			}
			out[id] = strings.TrimRight(string(b), "\n")
		default:
			return nil, class.BadInput.Errorf("--secret %s: source %q is not env or file", id, kind)
		}
	}
	return out, nil
}

// redact keeps a malformed --secret from echoing a value typed inline.
func redact(s string) string {
	id, _, _ := strings.Cut(s, "=")
	return id + "=…"
}

// ReadSignKey reads the CLI's --sign-key v: a file, or env:VAR; "" none.
func ReadSignKey(v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		k, set := os.LookupEnv(name)
		if !set || k == "" {
			return "", class.BadInput.Errorf("--sign-key env:%s: %s is not set; export the PEM private key in it, or give a file", name, name)
		}
		return k, nil
	}
	if v == "" {
		return "", nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", class.BadInput.Errorf("--sign-key: %v; give the path of a PEM private key, or env:VAR", err)
	}
	return string(b), nil
}

// ReadPassword reads the CLI's --password-env or --password-file; "" none.
func ReadPassword(env, file string) (string, error) {
	switch {
	case env != "" && file != "":
		return "", class.BadInput.Errorf("--password-env and --password-file exclude each other")
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", class.BadInput.Errorf("--password-env: %s is not set", env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", class.BadInput.Errorf("--password-file: %v", err)
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	return "", nil
}
