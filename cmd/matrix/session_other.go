//go:build !linux

package main

// endSessions cannot list children here; the SDK ends them after its own
// delay.
func endSessions() int { return 0 }
