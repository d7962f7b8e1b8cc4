// Command evidencegw is the evidence exchange gateway: `evidencegw serve` runs the
// server, the other commands are its client (see `evidencegw help`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `evidencegw: electronic-evidence exchange gateway with a signed chain of custody

Server:
  evidencegw serve [--data DIR] [--config FILE]

Operator:
  evidencegw keys rotate --config FILE [--data DIR] [--jurisdiction J[,J...]]

Client (each takes --identity DIR or $EVIDENCEGW_IDENTITY, and --json):
  evidencegw upload --case CASE-ID [--description TEXT] FILE
  evidencegw share EVIDENCE-ID --to AGENCY --legal-basis TEXT --expires DATE [--max-downloads N] [--view-only]
  evidencegw accept EVIDENCE-ID [--grant GRANT-ID]
  evidencegw download EVIDENCE-ID -o FILE
  evidencegw revoke EVIDENCE-ID --grant GRANT-ID [--reason TEXT]
  evidencegw hold EVIDENCE-ID [--reason TEXT]
  evidencegw release EVIDENCE-ID [--reason TEXT]
  evidencegw show EVIDENCE-ID
  evidencegw history EVIDENCE-ID
  evidencegw whoami
  evidencegw bundle EVIDENCE-ID -o FILE [--format bundle|case-jsonld] [--consistent-with BUNDLE[,BUNDLE...]]
  evidencegw trust-root -o FILE
  evidencegw log checkpoint
  evidencegw log snapshot -o FILE
  evidencegw log monitor --trust-root FILE --state FILE [--interval DURATION]

Court (offline, no identity):
  evidencegw verify BUNDLE [BUNDLE...] --trust-root FILE [--evidence FILE] [--log-snapshot FILE] [--html FILE]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "evidencegw:", err)
		var ue usageError
		if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError marks a command line that cannot be run.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	handled, err := runClientCommand(ctx, args[0], args[1:], stdout, stderr)
	if !handled {
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return err
}
