package verify

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"dagger.io/dagger"
)

// headSize is how much of a program is read: an ELF header's e_machine
// ends at byte 20, and Linux reads at most 256 bytes of a #! line.
const headSize = 256

// defaultPath is where a program is looked up when the image sets no PATH,
// as BuildKit's Dockerfile frontend would set it.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNotFound is a program that is neither a file of the image nor found
// through its PATH.
var ErrNotFound = errors.New("not found")

// ErrNotELF is a program file that is not an ELF file (nor a script whose
// interpreter is one).
var ErrNotELF = errors.New("not an ELF file")

// Machine finds prog in ctr (a path, or a bare name looked up through the
// image's own PATH), follows a script's #! interpreter (also through env),
// and returns the path of the ELF file that runs and its ELF machine. It
// reads the files through the Dagger API, never with a program of the
// image, so an image without a shell is read the same.
func Machine(ctx context.Context, ctr *dagger.Container, prog string) (string, elf.Machine, error) {
	p, err := resolve(ctx, ctr, prog)
	if err != nil {
		return prog, 0, err
	}
	head, err := readHead(ctx, ctr, p)
	if err != nil {
		return p, 0, err
	}
	if interp := interpreter(head); interp != "" {
		if p, err = resolve(ctx, ctr, interp); err != nil {
			return interp, 0, fmt.Errorf("interpreter of %s: %w", prog, err)
		}
		if head, err = readHead(ctx, ctr, p); err != nil {
			return p, 0, err
		}
	}
	m, err := elfMachine(head)
	return p, m, err
}

// resolve is prog's path in ctr: a path as given, a bare name through the
// image's PATH (each directory in order, as execve's callers search it).
func resolve(ctx context.Context, ctr *dagger.Container, prog string) (string, error) {
	if strings.Contains(prog, "/") {
		if !path.IsAbs(prog) {
			wd, err := ctr.Workdir(ctx)
			if err != nil {
				return "", fmt.Errorf("reading the workdir: %w", err)
			}
			prog = path.Join("/", wd, prog)
		}
		ok, err := isFile(ctx, ctr, prog)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("%s: %w", prog, ErrNotFound)
		}
		return prog, nil
	}
	dirs, err := ctr.EnvVariable(ctx, "PATH")
	if err != nil {
		return "", fmt.Errorf("reading the image's PATH: %w", err)
	}
	if dirs == "" {
		dirs = defaultPath
	}
	for _, d := range strings.Split(dirs, ":") {
		if !path.IsAbs(d) {
			continue // a relative PATH entry depends on the working directory of the caller
		}
		p := path.Join(d, prog)
		ok, err := isFile(ctx, ctr, p)
		if err != nil {
			return "", err
		}
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s in PATH %s: %w", prog, dirs, ErrNotFound)
}

// isFile tells whether p is a regular file of ctr, following symlinks.
func isFile(ctx context.Context, ctr *dagger.Container, p string) (bool, error) {
	ok, err := ctr.Exists(ctx, p, dagger.ContainerExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return false, fmt.Errorf("looking for %s: %w", p, err)
	}
	return ok, nil
}

// readHead is the first headSize bytes of the file p of ctr. It exports the
// file: File.Contents returns a GraphQL string, which mangles bytes that are
// not UTF-8 (0xb7, arm64's ELF machine, among them).
func readHead(ctx context.Context, ctr *dagger.Container, p string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "matrix-verify-")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, "program")
	if _, err := ctr.File(p).Export(ctx, local); err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	f, err := os.Open(local)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	defer func() { _ = f.Close() }() // read only
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return head[:n], nil
}

// interpreter is the program a #! line names ("" for none): with env, the
// program env runs (`#!/usr/bin/env -S python3 -u` included).
func interpreter(head []byte) string {
	line, ok := bytes.CutPrefix(head, []byte("#!"))
	if !ok {
		return ""
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	words := strings.Fields(string(line))
	if len(words) == 0 {
		return ""
	}
	if path.Base(words[0]) != "env" {
		return words[0]
	}
	for _, w := range words[1:] {
		if !strings.HasPrefix(w, "-") && !strings.Contains(w, "=") {
			return w
		}
	}
	return words[0]
}

// elfMachine decodes e_machine from the first bytes of an ELF file.
func elfMachine(head []byte) (elf.Machine, error) {
	if !bytes.HasPrefix(head, []byte(elf.ELFMAG)) {
		return 0, ErrNotELF
	}
	if len(head) < 20 {
		return 0, fmt.Errorf("a truncated ELF header of %d bytes", len(head))
	}
	if elf.Data(head[elf.EI_DATA]) == elf.ELFDATA2MSB {
		return elf.Machine(binary.BigEndian.Uint16(head[18:20])), nil
	}
	return elf.Machine(binary.LittleEndian.Uint16(head[18:20])), nil
}
