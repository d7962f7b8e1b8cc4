// Package verifycmd is the offline verification command shared by `evidencegw verify`
// and the court's `custody-verify`: it reads a bundle, a trust root and optionally the
// evidence file, runs custody.Verify and prints a readable or JSON report. It also
// holds the exit statuses and the JSON error shape both programs share. It imports
// only the custody and internal/report packages, github.com/spf13/pflag (which has no
// dependencies) and the standard library, to keep the verifier small.
package verifycmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/evidencegw/evidencegw/custody"
)

// Exit statuses of evidencegw and custody-verify, the same for every command
// (docs/cli.md).
const (
	// ExitOK is success: for verify, everything verified.
	ExitOK = 0
	// ExitFailed is a command that failed: the gateway refused or could not be reached,
	// a file is missing or unreadable, an input cannot be parsed. For verify it means
	// "could not verify": nothing was proven either way.
	ExitFailed = 1
	// ExitUsage is a command line that cannot be run: an unknown command or flag, a
	// missing or extra argument, an invalid flag value.
	ExitUsage = 2
	// ExitVerificationFailed is custody or evidence proven bad: a bundle that does not
	// verify, evidence that does not match its digest, an inconsistent log.
	ExitVerificationFailed = 3
)

// UsageError is a command line that cannot be run: a missing or extra argument, an
// unknown flag. Commands exit with ExitUsage for it.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// CannotVerifyError is a verification that could not be carried out: an input could
// not be read or parsed. It proves nothing about the custody either way, unlike an
// error wrapping custody.ErrVerification. Commands exit with ExitFailed for it.
type CannotVerifyError struct {
	Err error
}

func (e *CannotVerifyError) Error() string { return "could not verify: " + e.Err.Error() }

func (e *CannotVerifyError) Unwrap() error { return e.Err }

// OneLine returns an error message on one line, its runs of white space (line breaks
// in errors from libraries) made single spaces, for a line of output.
func OneLine(msg string) string {
	return strings.Join(strings.Fields(msg), " ")
}

// ExitCode returns the process exit status for the error a verify command returned:
// ExitOK for none or a help request, ExitUsage for a *UsageError,
// ExitVerificationFailed for an error wrapping custody.ErrVerification (a
// *custody.InconsistencyError included), ExitFailed for anything else.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, custody.ErrVerification):
		return ExitVerificationFailed
	}
	return ExitFailed
}

// ErrorJSON is the JSON form of a command's error, which evidencegw and custody-verify
// write on stderr, on one line, under --json (docs/cli.md).
type ErrorJSON struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the content of an ErrorJSON.
type ErrorDetail struct {
	// Message is the error as the text output would print it.
	Message string `json:"message"`
	// ExitCode is the process's exit status.
	ExitCode int `json:"exit_code"`
	// Problem is the gateway's RFC 9457 problem details (an *api.Problem), only when
	// the gateway answered with one; custody-verify never sets it.
	Problem any `json:"problem,omitempty"`
}

// Write writes e on w as one line of JSON.
func (e ErrorJSON) Write(w io.Writer) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
