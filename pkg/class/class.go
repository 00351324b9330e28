// Package class sorts a run's errors into the classes matrix exits by.
package class

import (
	"errors"
	"fmt"
)

// Class is the class of a run's error; its value is the exit code.
type Class int

// The classes, by exit code.
const (
	None        Class = 0 // no error: every requested cell verified
	Failed      Class = 1 // a cell or a step (stage, publish, export) failed
	BadInput    Class = 2 // specs, flags or references: nothing was started
	Unreachable Class = 3 // the engine or a registry does not answer
)

// Error is an error of a class.
type Error struct {
	class Class
	err   error
}

func (e *Error) Error() string { return e.err.Error() }
func (e *Error) Unwrap() error { return e.err }

// Class is e's class.
func (e *Error) Class() Class { return e.class }

// Wrap gives err class c; nil stays nil.
func (c Class) Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{class: c, err: err}
}

// Errorf is fmt.Errorf in class c.
func (c Class) Errorf(format string, a ...any) error {
	return &Error{class: c, err: fmt.Errorf(format, a...)}
}

// Of is err's class: None for nil, else the class of the first error in
// its tree that has one (errors.As), else Failed.
func Of(err error) Class {
	if err == nil {
		return None
	}
	var c interface{ Class() Class }
	if errors.As(err, &c) {
		return c.Class()
	}
	return Failed
}
