// Package verify checks a built variant before anything leaves the engine:
// its platform, the architecture of its smoke program (or ELF entrypoint),
// and its smoke command, without needing a shell in the image.
package verify
