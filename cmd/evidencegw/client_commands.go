package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/pki"
)

// identityEnv names the environment variable with the default identity directory.
const identityEnv = "EVIDENCEGW_IDENTITY"

// clientEnv is what the commands take from their environment; tests give their own.
type clientEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// terminal is set when stderr is a terminal (progress bars are drawn).
	terminal bool
	now      func() time.Time
}

// osEnv is the environment of the process.
func osEnv() clientEnv {
	return clientEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, terminal: isTerminal(os.Stderr), now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// app is one command line being run: its environment and the values of the flags the
// client commands share (verify binds its own --json to json too). Only one command
// runs per app.
type app struct {
	env      clientEnv
	identity string
	json     bool
	// key and keyCert name the key that signs the member's acts and its certificate
	// (--key, --key-cert); empty: the identity's act-key and act-cert.pem, else its
	// key.pem and cert.pem.
	key, keyCert string
	// gateway, if set (console --gateway), replaces the identity's gateway URL.
	gateway string
}

// clientCommand completes cmd as a client command: it takes --identity and --json,
// declared as persistent flags so that a command group (log) passes them on to its
// subcommands, and is listed with the client commands.
func (a *app) clientCommand(cmd *cobra.Command) *cobra.Command {
	fs := cmd.PersistentFlags()
	fs.StringVar(&a.identity, "identity", a.env.getenv(identityEnv),
		"identity `DIR` holding cert.pem, key.pem, ca.pem and gateway (default $"+identityEnv+")")
	fs.BoolVar(&a.json, "json", false, "print machine-readable JSON")
	fs.StringVar(&a.key, "key", a.env.getenv(keyEnv),
		"`KEY` that signs your acts: a PEM key file, hashivault://NAME or a pkcs11: URI (default $"+keyEnv+", the identity's act-key, else its key.pem)")
	fs.StringVar(&a.keyCert, "key-cert", a.env.getenv(keyCertEnv),
		"PEM `FILE` with the certificate of --key, issued by your agency's CA (default $"+keyCertEnv+", the identity's act-cert.pem)")
	must(cmd.MarkPersistentFlagDirname("identity"))
	must(cmd.MarkPersistentFlagFilename("key-cert", "pem"))
	cmd.GroupID = groupClient
	if cmd.ValidArgsFunction == nil {
		// Evidence ids and most arguments cannot be completed; FILE arguments set their own.
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
	return cmd
}

// client loads the identity and returns a gateway client for it.
func (a *app) client() (*client.Client, error) {
	if a.identity == "" {
		return nil, usagef("no identity: give --identity DIR or set $%s", identityEnv)
	}
	id, err := pki.LoadIdentity(a.identity)
	if err != nil {
		return nil, fmt.Errorf("loading identity %s: %w", a.identity, err)
	}
	if a.gateway != "" {
		id.GatewayURL = a.gateway
	}
	c, err := client.New(id)
	if err != nil {
		return nil, err
	}
	ref, dir, certPEM := a.key, "", id.ActCertPEM
	if ref == "" && id.ActKey != "" {
		ref, dir = id.ActKey, a.identity
	}
	if a.keyCert != "" {
		if certPEM, err = os.ReadFile(a.keyCert); err != nil {
			return nil, fmt.Errorf("reading --key-cert: %w", err)
		}
	}
	if ref == "" {
		return c, nil // the client certificate's key signs
	}
	// A PKCS #11 session stays open until the command's process ends.
	s, _, err := actSigner(context.Background(), ref, dir, certPEM)
	if err != nil {
		return nil, err
	}
	c.SetActSigner(s)
	return c, nil
}

// progress returns the progress bar of a transfer, nil (none) unless stderr is a
// terminal and the output is not JSON.
func (a *app) progress() client.ProgressFunc {
	if !a.env.terminal || a.json {
		return nil
	}
	return newProgressBar(a.env.stderr, a.env.now).update
}

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// printf writes human-readable output to stdout.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.env.stdout, format, args...)
}

// printCustody writes the one-line summary of a custody receipt.
func (a *app) printCustody(r *api.CustodyReceipt) {
	if r == nil {
		return
	}
	a.printf("custody: event %d (%s) recorded, log index %d, event digest %s\n", r.Seq, r.Action, r.LogIndex, r.Digest)
}

// outputFlag declares -o/--output FILE, required, on cmd.
func outputFlag(cmd *cobra.Command, out *string, what string) {
	cmd.Flags().StringVarP(out, "output", "o", "", "write "+what+" to `FILE`, which must not exist (required)")
	must(cmd.MarkFlagRequired("output"))
}
