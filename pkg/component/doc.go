// Package component reads components: a directory components/<name>/ with a
// Dockerfile and an optional, strictly decoded component.yaml.
package component
