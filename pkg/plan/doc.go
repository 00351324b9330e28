// Package plan turns components × platforms into cells in dependency order,
// without an engine.
package plan
