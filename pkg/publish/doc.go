// Package publish pushes the variants of a component as one multi-platform
// OCI image index.
package publish
