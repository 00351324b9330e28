// Package builder turns a component directory into one variant per platform in
// the Dagger engine, forcing each variant so failures surface per cell.
package builder
