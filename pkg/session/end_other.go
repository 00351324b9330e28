//go:build !linux

package session

// endSessions cannot list children here; the SDK ends them after its own
// delay.
func endSessions() int { return 0 }
