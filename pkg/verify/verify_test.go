package verify

import (
	"debug/elf"
	"encoding/hex"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// header is the bytes of a hex dump such as od prints.
func header(t *testing.T, dump string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(dump), ""))
	require.NoError(t, err)
	return b
}

func TestElfMachine(t *testing.T) {
	for _, tc := range []struct {
		name string
		dump string
		want elf.Machine
		err  string
	}{
		{"x86-64", "7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00 03 00 3e 00", elf.EM_X86_64, ""},
		{"arm64: 0xb7 read as a byte", "7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00 03 00 b7 00", elf.EM_AARCH64, ""},
		{"big-endian s390x", "7f 45 4c 46 02 02 01 00 00 00 00 00 00 00 00 00 00 03 00 16", elf.EM_S390, ""},
		{"a script", "23 21 2f 62 69 6e 2f 73 68 0a 65 63 68 6f 20 68 69 0a 00 00", 0, "not an ELF file"},
		{"truncated", "7f 45 4c 46 02", 0, "truncated ELF header of 5 bytes"},
		{"empty", "", 0, "not an ELF file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := elfMachine(header(t, tc.dump))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestInterpreter(t *testing.T) {
	for _, tc := range []struct{ head, want string }{
		{"#!/bin/sh\necho hi\n", "/bin/sh"},
		{"#! /bin/bash -e\n", "/bin/bash"},
		{"#!/usr/bin/env python3\nimport sys\n", "python3"},
		{"#!/usr/bin/env -S python3 -u\n", "python3"},
		{"#!/usr/bin/env PYTHONUNBUFFERED=1 python3\n", "python3"},
		{"#!/usr/bin/env\n", "/usr/bin/env"},
		{"#!\n", ""},
		{"\x7fELF\x02\x01", ""},
	} {
		assert.Equal(t, tc.want, interpreter([]byte(tc.head)), "%q", tc.head)
	}
}

func TestWant(t *testing.T) {
	for _, tc := range []struct {
		platform dagger.Platform
		want     elf.Machine
		ok       bool
	}{
		{"linux/amd64", elf.EM_X86_64, true},
		{"linux/arm64", elf.EM_AARCH64, true},
		{"linux/arm64/v8", elf.EM_AARCH64, true},
		{"linux/arm/v7", elf.EM_ARM, true},
		{"linux/mips64", 0, false},
	} {
		got, ok := Want(tc.platform)
		assert.Equal(t, tc.ok, ok, tc.platform)
		assert.Equal(t, tc.want, got, tc.platform)
	}
	assert.True(t, Same("linux/arm64/v8", "linux/arm64"))
	assert.False(t, Same("linux/amd64", "linux/arm64"))
}
