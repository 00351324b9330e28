package verify

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/report"
)

// Failure says which check failed and what it printed.
type Failure struct {
	Step    string // platform, arch or smoke
	Command string
	Output  string
	Err     error
}

func (f *Failure) Error() string { return fmt.Sprintf("%s: %v", f.Step, f.Err) }
func (f *Failure) Unwrap() error { return f.Err }

// machines maps a platform's architecture to its ELF machine.
var machines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// variant is one built container and the platform it was built for.
type variant struct {
	Container *dagger.Container
	Platform  dagger.Platform
}

// Variant runs every check on ctr, built for platform p; smoke may be empty
// (then only the platform check runs). It returns nil or a *Failure.
func Variant(ctx context.Context, ctr *dagger.Container, p dagger.Platform, smoke []string) error {
	v := variant{Container: ctr, Platform: p}
	got, err := v.Container.Platform(ctx)
	if err != nil {
		return &Failure{Step: "platform", Err: err}
	}
	if normalize(string(got)) != normalize(string(v.Platform)) {
		return &Failure{Step: "platform", Err: fmt.Errorf("image config says %s, want %s", got, v.Platform)}
	}
	if len(smoke) == 0 {
		return nil
	}
	if err := smokeArch(ctx, v, smoke[0]); err != nil {
		return err
	}
	if _, err := v.Container.WithExec(smoke).Sync(ctx); err != nil {
		f := &Failure{Step: "smoke", Command: strings.Join(smoke, " "), Err: err}
		var ee *dagger.ExecError
		if errors.As(err, &ee) {
			out := ee.Stderr
			if strings.TrimSpace(out) == "" {
				out = ee.Stdout
			}
			f.Output = report.Tail(out, 20)
			f.Err = fmt.Errorf("exited %d", ee.ExitCode)
		}
		return f
	}
	return nil
}

// smokeArch reads the ELF header of the smoke program (or of its script's
// interpreter): an image labelled arm64 must not carry x86-64 programs, which
// would still run here through the host.
func smokeArch(ctx context.Context, v variant, prog string) error {
	_, arch, _ := strings.Cut(normalize(string(v.Platform)), "/")
	arch, _, _ = strings.Cut(arch, "/")
	want, ok := machines[arch]
	if !ok {
		return nil
	}
	path, err := v.Container.WithExec([]string{"sh", "-c", `command -v "$0"`, prog}).Stdout(ctx)
	path = strings.TrimSpace(path)
	if err != nil || !strings.HasPrefix(path, "/") {
		return &Failure{Step: "arch", Command: prog, Err: fmt.Errorf("smoke program %s not found in the image", prog)}
	}
	for range 2 { // the program, then the interpreter of a script
		tmp, err := os.MkdirTemp("", "matrix-verify-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		local := filepath.Join(tmp, "prog")
		if _, err := v.Container.File(path).Export(ctx, local); err != nil {
			return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("reading %s: %w", path, err)}
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return err
		}
		if interp, ok := shebang(data); ok {
			path = interp
			continue
		}
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("%s is neither ELF nor a script", path)}
		}
		if f.Machine != want {
			return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("%s is %s, want %s for %s", path, f.Machine, want, v.Platform)}
		}
		return nil
	}
	return nil
}

func shebang(data []byte) (string, bool) {
	if !bytes.HasPrefix(data, []byte("#!")) {
		return "", false
	}
	line, _, _ := bytes.Cut(data[2:], []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return "", false
	}
	if filepath.Base(f[0]) == "env" && len(f) > 1 {
		return "/usr/bin/" + f[1], true
	}
	return f[0], true
}

// normalize treats linux/arm64/v8 as linux/arm64.
func normalize(p string) string { return strings.TrimSuffix(p, "/v8") }
