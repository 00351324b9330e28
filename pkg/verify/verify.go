package verify

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/report"
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

// Variant runs every check on ctr, built for platform p. With a smoke
// command: the platform, the ELF machine of the smoke program, then the
// command itself, as argv. Without one: the platform, and the ELF machine of
// the entrypoint when it is an ELF file. No check runs a program of the
// image other than the smoke command, so an image without a shell (FROM
// scratch, distroless) verifies too. It returns nil or a *Failure.
func Variant(ctx context.Context, ctr *dagger.Container, p dagger.Platform, smoke []string) error {
	v := variant{Container: ctr, Platform: p}
	got, err := v.Container.Platform(ctx)
	if err != nil {
		return &Failure{Step: "platform", Err: err}
	}
	if !Same(got, v.Platform) {
		return &Failure{Step: "platform", Err: fmt.Errorf("image config says %s, want %s", got, v.Platform)}
	}
	if len(smoke) == 0 {
		return entrypointArch(ctx, v)
	}
	if err := Arch(ctx, ctr, p, smoke[0]); err != nil {
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

// Same tells whether two platforms are the same (linux/arm64/v8 is linux/arm64).
func Same(a, b dagger.Platform) bool { return normalize(string(a)) == normalize(string(b)) }

// Want is the ELF machine of platform p's programs; ok is false for an
// architecture this package does not know.
func Want(p dagger.Platform) (m elf.Machine, ok bool) {
	_, arch, _ := strings.Cut(normalize(string(p)), "/")
	arch, _, _ = strings.Cut(arch, "/")
	m, ok = machines[arch]
	return m, ok
}

// Arch checks that prog (or its script's interpreter) is an ELF file of
// platform p: an image labelled arm64 must not carry x86-64 programs, which
// would still run here through the host's emulation. It returns nil or a
// *Failure at step arch naming the file and both machines.
func Arch(ctx context.Context, ctr *dagger.Container, p dagger.Platform, prog string) error {
	want, ok := Want(p)
	if !ok {
		return nil
	}
	path, got, err := Machine(ctx, ctr, prog)
	if err != nil {
		return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("reading the ELF header of %s: %w", prog, err)}
	}
	if got != want {
		return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("%s is %s, want %s for %s", path, got, want, p)}
	}
	return nil
}

// entrypointArch checks the entrypoint's ELF machine when it is an ELF file;
// a script, or an entrypoint the image does not hold, is left to the smoke
// command that was not given.
func entrypointArch(ctx context.Context, v variant) error {
	ep, err := v.Container.Entrypoint(ctx)
	if err != nil {
		return &Failure{Step: "arch", Err: fmt.Errorf("reading the entrypoint: %w", err)}
	}
	if len(ep) == 0 {
		return nil
	}
	err = Arch(ctx, v.Container, v.Platform, ep[0])
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotELF) {
		return nil
	}
	return err
}

// normalize treats linux/arm64/v8 as linux/arm64.
func normalize(p string) string { return strings.TrimSuffix(p, "/v8") }
