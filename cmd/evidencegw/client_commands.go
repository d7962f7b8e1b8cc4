package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
	"github.com/evidencegw/evidencegw/pki"
)

// identityEnv names the environment variable with the default identity directory.
const identityEnv = "EVIDENCEGW_IDENTITY"

// clientCommand is one client subcommand.
type clientCommand struct {
	// synopsis is the command line after "evidencegw ".
	synopsis string
	run      func(ctx context.Context, inv *invocation, args []string) error
}

// clientCommands are the client subcommands by name.
var clientCommands = map[string]clientCommand{
	"upload":     {"upload --case CASE-ID [--description TEXT] FILE", runUpload},
	"share":      {"share EVIDENCE-ID --to AGENCY --legal-basis TEXT --expires DATE [--max-downloads N] [--view-only]", runShare},
	"accept":     {"accept EVIDENCE-ID [--grant GRANT-ID]", runAccept},
	"download":   {"download EVIDENCE-ID -o FILE", runDownload},
	"revoke":     {"revoke EVIDENCE-ID --grant GRANT-ID [--reason TEXT]", runRevoke},
	"history":    {"history EVIDENCE-ID", runHistory},
	"show":       {"show EVIDENCE-ID", runShow},
	"whoami":     {"whoami", runWhoami},
	"bundle":     {"bundle EVIDENCE-ID -o FILE [--format bundle|case-jsonld] [--consistent-with BUNDLE[,BUNDLE...]]", runBundle},
	"trust-root": {"trust-root -o FILE", runTrustRoot},
	"verify":     {"verify BUNDLE [BUNDLE...] --trust-root FILE [--evidence FILE] [--log-snapshot FILE] [--html FILE] [--json]", runVerify},
	"log":        {logSynopsis, runLog},
	"hold":       {"hold EVIDENCE-ID [--reason TEXT]", runHold},
	"release":    {"release EVIDENCE-ID [--reason TEXT]", runRelease},
}

// runClientCommand runs the client command name with its arguments. handled is false
// if name is not a client command. Usage errors are usageError values.
func runClientCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) (handled bool, err error) {
	cmd, ok := clientCommands[name]
	if !ok {
		return false, nil
	}
	env := clientEnv{
		getenv:   os.Getenv,
		terminal: isTerminal(stderr),
		now:      time.Now,
	}
	return true, cmd.run(ctx, newInvocation(name, cmd.synopsis, stdout, stderr, env), args)
}

// clientEnv is what client commands take from their environment.
type clientEnv struct {
	getenv func(string) string
	// terminal is set when stderr is a terminal (progress bars are drawn).
	terminal bool
	now      func() time.Time
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// invocation is one run of a client command: its flag set with the common flags,
// its output streams and environment.
type invocation struct {
	synopsis       string
	stdout, stderr io.Writer
	env            clientEnv
	fs             *flag.FlagSet
	identity       string
	json           bool
}

func newInvocation(name, synopsis string, stdout, stderr io.Writer, env clientEnv) *invocation {
	inv := &invocation{synopsis: synopsis, stdout: stdout, stderr: stderr, env: env}
	inv.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	inv.fs.SetOutput(stderr)
	inv.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: evidencegw %s\n\n", synopsis)
		inv.fs.PrintDefaults()
	}
	inv.fs.StringVar(&inv.identity, "identity", env.getenv(identityEnv),
		"identity `DIR` holding cert.pem, key.pem, ca.pem and gateway (default $"+identityEnv+")")
	inv.fs.BoolVar(&inv.json, "json", false, "print machine-readable JSON")
	return inv
}

// parse parses args, flags and positional arguments interleaved, and checks that there
// are exactly want positional arguments, named by what in the usage error.
func (inv *invocation) parse(args []string, want int, what string) ([]string, error) {
	pos, err := verifycmd.ParseArgs(inv.fs, args)
	if err != nil {
		return nil, usageFrom(err)
	}
	switch {
	case len(pos) < want:
		return nil, inv.usagef("missing %s", what)
	case len(pos) > want:
		return nil, inv.usagef("unexpected argument %q", pos[want])
	}
	return pos, nil
}

// usagef returns a usage error that ends with the command's synopsis.
func (inv *invocation) usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...) + "\nusage: evidencegw " + inv.synopsis}
}

// usageFrom turns a verifycmd usage error into this command's usageError.
func usageFrom(err error) error {
	var ue *verifycmd.UsageError
	if errors.As(err, &ue) {
		return usageError{ue.Msg}
	}
	return err
}

// client loads the identity and returns a gateway client for it.
func (inv *invocation) client() (*client.Client, error) {
	if inv.identity == "" {
		return nil, inv.usagef("no identity: give --identity DIR or set $%s", identityEnv)
	}
	id, err := pki.LoadIdentity(inv.identity)
	if err != nil {
		return nil, err
	}
	return client.New(id)
}

// progress returns the progress bar of a transfer, nil (none) unless stderr is a
// terminal and the output is not JSON.
func (inv *invocation) progress() client.ProgressFunc {
	if !inv.env.terminal || inv.json {
		return nil
	}
	return newProgressBar(inv.stderr, inv.env.now).update
}

// printJSON writes v as indented JSON to stdout.
func (inv *invocation) printJSON(v any) error {
	enc := json.NewEncoder(inv.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// printf writes human-readable output to stdout.
func (inv *invocation) printf(format string, args ...any) {
	fmt.Fprintf(inv.stdout, format, args...)
}

// printCustody writes the one-line summary of a custody receipt.
func (inv *invocation) printCustody(r *api.CustodyReceipt) {
	if r == nil {
		return
	}
	inv.printf("custody: event %d (%s) recorded, log index %d, event digest %s\n", r.Seq, r.Action, r.LogIndex, r.Digest)
}
