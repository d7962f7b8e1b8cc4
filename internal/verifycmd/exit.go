// Package verifycmd is the offline verification command shared by `evidencegw verify`
// and the court's `custody-verify`: it reads a bundle, a trust root and optionally the
// evidence file, runs custody.Verify and prints a readable or JSON report. It imports
// only the custody and internal/report packages and the standard library, to keep the verifier small.
package verifycmd

import (
	"errors"
	"flag"
	"fmt"
)

// UsageError is a command line that cannot be run: a missing or extra argument, an
// unknown flag. Commands exit with status 2 for it.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitCode returns the process exit status for the error a command returned: 0 for
// none or a help request, 2 for a usage error, 1 for anything else.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// ParseArgs parses args with fs, letting flags come before, between and after the
// positional arguments, which it returns in order. The standard flag package stops at
// the first non-flag argument; ParseArgs takes that argument and parses on. Everything
// after "--" is positional. fs should use flag.ContinueOnError; a parse error is
// returned as a *UsageError (flag.ErrHelp as is).
func ParseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// fs.Parse consumed a "--" just before rest if the previous argument was it.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
