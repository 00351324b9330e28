// Package export writes offline OCI archives, one per component with every
// platform, plus a SHA256SUMS file, for air-gapped installs.
package export
