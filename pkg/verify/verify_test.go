package verify

import (
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestElfMachine(t *testing.T) {
	for _, tc := range []struct {
		dump string
		want elf.Machine
		err  string
	}{
		{" 7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00\n 03 00 3e 00", elf.EM_X86_64, ""},
		{" 7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00\n 03 00 b7 00", elf.EM_AARCH64, ""},
		{" 7f 45 4c 46 02 02 01 00 00 00 00 00 00 00 00 00\n 00 03 00 16", elf.EM_S390, ""},
		{" 23 21 2f 62 69 6e 2f 73 68 0a 65 63 68 6f 20 68\n 69 0a 00 00", 0, "not an ELF file"},
		{" 7f 45", 0, "unreadable header"},
	} {
		got, err := elfMachine(tc.dump)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err)
			continue
		}
		assert.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}
