package exhibit_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/evidencegw/evidencegw/exhibit"
)

// errWant is the error a use case must return.
type errWant struct {
	desc  string
	match func(error) bool
}

func (w errWant) String() string { return w.desc }

// isErr wants an error wrapping target.
func isErr(target error) errWant {
	return errWant{fmt.Sprintf("an error wrapping %q", target), func(err error) bool { return errors.Is(err, target) }}
}

// invalidInput wants an *exhibit.InvalidError.
func invalidInput() errWant {
	return errWant{"an *exhibit.InvalidError", func(err error) bool {
		var inv *exhibit.InvalidError
		return errors.As(err, &inv)
	}}
}

// conflictOf wants an *exhibit.ConflictError of the given kind.
func conflictOf(kind string) errWant {
	return errWant{"an *exhibit.ConflictError of kind " + kind, func(err error) bool {
		var c *exhibit.ConflictError
		return errors.As(err, &c) && c.Kind == kind
	}}
}

// deniedBy wants an *exhibit.DeniedError decided by the given policies (none: a default
// deny).
func deniedBy(policies ...string) errWant {
	return errWant{fmt.Sprintf("an *exhibit.DeniedError by policies %q", policies), func(err error) bool {
		var d *exhibit.DeniedError
		return errors.As(err, &d) && slices.Equal(d.Policies, policies) && d.Reason != ""
	}}
}

// checkErr fails the test unless err is what want describes.
func checkErr(t *testing.T, what string, err error, want errWant) {
	t.Helper()
	if err == nil || !want.match(err) {
		t.Errorf("%s: got error %v, want %s", what, err, want)
	}
}
