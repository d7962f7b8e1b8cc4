// Command custody-verify is the court's verifier: it checks a custody bundle offline
// against a pinned trust root, and optionally the evidence file against the exhibit's
// digest. It opens no network connection and depends only on the custody package and
// the flag parser github.com/spf13/pflag.
//
//	custody-verify BUNDLE [BUNDLE...] --trust-root FILE [--evidence FILE] [--log-snapshot FILE] [--html FILE] [--json]
//
// It exits 0 when everything verified, 1 when it could not verify (an input is missing
// or unreadable), 2 for a usage error and 3 when the custody or the evidence is proven
// bad (docs/cli.md).
package main

import (
	"os"

	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

func main() {
	os.Exit(verifycmd.Command(os.Args[1:], os.Stdout, os.Stderr))
}
