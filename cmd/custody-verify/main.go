// Command custody-verify is the court's verifier: it checks a custody bundle offline
// against a pinned trust root, and optionally the evidence file against the exhibit's
// digest. It opens no network connection and depends only on the custody package.
//
//	custody-verify BUNDLE --trust-root FILE [--evidence FILE] [--json]
package main

import (
	"fmt"
	"os"

	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

func main() {
	err := verifycmd.Main(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "custody-verify:", err)
	}
	os.Exit(verifycmd.ExitCode(err))
}
