package session

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// endSessions kills this process's `dagger session` children, found in
// /proc, and returns how many it killed.
func endSessions() int {
	n := 0
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			cmd, _ := os.ReadFile("/proc/" + f + "/cmdline")
			args := bytes.Split(cmd, []byte{0})
			if len(args) > 1 && string(args[1]) == "session" && syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	return n
}
