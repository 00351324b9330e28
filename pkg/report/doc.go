// Package report records what happened to every cell of a run and renders it
// as a table or JSON; its exit code is never 0 when a requested cell failed.
package report
