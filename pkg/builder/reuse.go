package builder

import (
	"context"

	"dagger.io/dagger"

	"github.com/ai-infra-matrix/matrix/pkg/component"
)

// Reuser keys a cell by its inputs and finds the variant those inputs gave
// before, so the cell need not build (see package reuse).
type Reuser interface {
	// Reuse is called before a cell builds, with the request as it would
	// build (BUILDPLATFORM included); a dependency's cells come first.
	Reuse(ctx context.Context, c component.Spec, req Request, pl dagger.Platform) Reuse
}

// Reuse is a cell's key, the inputs behind it and, when the registry holds
// the variant, where it is and the variant itself.
type Reuse struct {
	Key       string
	Inputs    []string
	From      string            // repository@digest; "" build the cell
	Container *dagger.Container // the variant From names, unverified
}

// withNative is req as the engine builds it: Dagger sets BUILDPLATFORM to
// the target platform unless told otherwise.
func (b *Builder) withNative(req Request) Request {
	req.Args = append([]dagger.BuildArg{{Name: "BUILDPLATFORM", Value: string(b.native)}}, req.Args...)
	return req
}
