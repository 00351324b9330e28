// Package world assembles the base images and the Go SDK runtime that the
// air-gapped Dagger world needs, from Debian rootfs tarballs and Go toolchains.
package world
