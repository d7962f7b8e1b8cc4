package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

// Exit statuses, the same for every command and for custody-verify (docs/cli.md).
const (
	exitOK                 = verifycmd.ExitOK
	exitFailed             = verifycmd.ExitFailed
	exitUsage              = verifycmd.ExitUsage
	exitVerificationFailed = verifycmd.ExitVerificationFailed
)

// usageError is a command line that cannot be run, found by a command itself (a flag
// value it rejects, a missing identity). Cobra's own checks are usage errors too: see
// runError.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// runError is an error returned by a command's RunE. Every error cobra returns without
// running a command (unknown command or flag, wrong arguments, a required flag or a
// flag group not satisfied) is a usage error; markRunError wraps the errors of the
// commands so that exitCode tells the two apart.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }

func (e *runError) Unwrap() error { return e.err }

// markRunError wraps the RunE of cmd, if any, so that the errors it returns are
// *runError values.
func markRunError(cmd *cobra.Command) {
	run := cmd.RunE
	if run == nil {
		return
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := run(cmd, args); err != nil {
			return &runError{err}
		}
		return nil
	}
}

// exitCode returns the exit status for the error a command line ended with.
func exitCode(err error) int {
	var ue usageError
	var vue *verifycmd.UsageError
	var re *runError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &vue), !errors.As(err, &re):
		return exitUsage
	case provenBad(err):
		return exitVerificationFailed
	}
	return exitFailed
}

// provenBad reports whether err proves custody or evidence bad: a bundle that does not
// verify or an inconsistent log (custody.ErrVerification), downloaded bytes that fail
// their digests, uploaded bytes the gateway received with another digest, stored
// evidence that failed the gateway's integrity check.
func provenBad(err error) bool {
	var ie *client.IntegrityError
	var p *api.Problem
	switch {
	case errors.Is(err, custody.ErrVerification), errors.As(err, &ie):
		return true
	case errors.As(err, &p):
		return p.Kind() == api.ProblemDigestMismatch || p.Kind() == api.ProblemIntegrityFailure
	}
	return false
}

// execute runs the command line args on root, prints the error it ends with, if any,
// on root's stderr, and returns the exit status.
func execute(ctx context.Context, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(err)
	if err != nil {
		if cmd == nil {
			cmd = root
		}
		writeError(root.ErrOrStderr(), cmd, args, err, code)
	}
	return code
}

// writeError prints the error err of cmd, which exits with code: as one line
// "evidencegw: message", followed after a usage error by a hint to the command's help;
// or, when the command line asked for JSON, as a verifycmd.ErrorJSON with the
// gateway's problem details if it answered with some.
func writeError(w io.Writer, cmd *cobra.Command, args []string, err error, code int) {
	if wantsJSON(cmd, args, code) {
		e := verifycmd.ErrorJSON{Error: verifycmd.ErrorDetail{Message: err.Error(), ExitCode: code}}
		var p *api.Problem
		if errors.As(err, &p) {
			e.Error.Problem = p
		}
		e.Write(w)
		return
	}
	fmt.Fprintf(w, "evidencegw: %s\n", verifycmd.OneLine(err.Error()))
	if code == exitUsage {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// wantsJSON reports whether the command line asked for JSON output: cmd's --json flag
// was set or, for a command line that did not parse, an argument before "--" is --json.
func wantsJSON(cmd *cobra.Command, args []string, code int) bool {
	if f := cmd.Flags().Lookup("json"); f != nil && f.Changed {
		return f.Value.String() == "true"
	}
	if code != exitUsage {
		return false
	}
	for _, arg := range args {
		switch arg {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}
