package verify

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
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

// elfScript prints the smoke program's path (following a script's
// interpreter, also through env) and the first 20 bytes of that file in hex.
// It runs inside the variant, so its result is cached like any other step.
const elfScript = `p=$(command -v "$0") || { echo "not found: $0" >&2; exit 127; }
case "$p" in /*) ;; *) # a shell builtin such as test: find the program of that name
  for d in $(echo "$PATH" | tr : ' '); do [ -x "$d/$0" ] && { p="$d/$0"; break; }; done ;;
esac
[ -f "$p" ] || { echo "no program file for $0" >&2; exit 127; }
if [ "$(head -c 2 "$p")" = "#!" ]; then
  set -- $(head -n 1 "$p" | sed 's/^#! *//')
  p=$1
  case "$p" in */env) p=$(command -v "$2") ;; esac
fi
echo "$p"
head -c 20 "$p" | od -An -v -tx1`

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
	out, err := v.Container.WithExec([]string{"sh", "-c", elfScript, prog}).Stdout(ctx)
	if err != nil {
		return &Failure{Step: "arch", Command: prog, Err: fmt.Errorf("reading the ELF header of %s: %w", prog, err)}
	}
	path, hexdump, _ := strings.Cut(strings.TrimSpace(out), "\n")
	got, err := elfMachine(hexdump)
	if err != nil {
		return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("%s: %w", path, err)}
	}
	if got != want {
		return &Failure{Step: "arch", Command: path, Err: fmt.Errorf("%s is %s, want %s for %s", path, got, want, v.Platform)}
	}
	return nil
}

// elfMachine decodes e_machine from the hex dump of an ELF file's first 20 bytes.
func elfMachine(hexdump string) (elf.Machine, error) {
	b, err := hex.DecodeString(strings.Join(strings.Fields(hexdump), ""))
	if err != nil || len(b) < 20 {
		return 0, fmt.Errorf("unreadable header %q", hexdump)
	}
	if !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return 0, fmt.Errorf("not an ELF file")
	}
	if elf.Data(b[elf.EI_DATA]) == elf.ELFDATA2MSB {
		return elf.Machine(binary.BigEndian.Uint16(b[18:20])), nil
	}
	return elf.Machine(binary.LittleEndian.Uint16(b[18:20])), nil
}

// normalize treats linux/arm64/v8 as linux/arm64.
func normalize(p string) string { return strings.TrimSuffix(p, "/v8") }
