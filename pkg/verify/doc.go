// Package verify checks a built variant before anything leaves the engine:
// its platform, the architecture of its smoke binary, and its smoke command.
package verify
