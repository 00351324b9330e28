// Package reliability is matrix's fault suite: registry faults through a
// fault-injecting proxy, build faults, bad input, secrets, concurrency and an
// unreachable engine, all against the real engine and registry on loopback.
// Its figures are written up in docs/reliability.md (task reliability).
package reliability
