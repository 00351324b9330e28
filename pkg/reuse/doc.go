// Package reuse takes a cell's variant from the registry when a run before built it from the same inputs (the cell's key), instead of building it again.
package reuse
