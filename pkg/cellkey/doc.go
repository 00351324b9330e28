// Package cellkey computes a cell's key: one digest of every input that decides the content of its variant.
package cellkey
