// Package bench measures matrix against raw Dagger, sequential per-cell
// builds and buildah on the 12 components × linux/amd64, linux/arm64; the
// figures go to docs/benchmarks.md (task bench).
package bench
