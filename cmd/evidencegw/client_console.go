package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/console"
	"github.com/evidencegw/evidencegw/pki"
)

// consoleShutdown bounds the console's stop once the command is interrupted.
const consoleShutdown = 10 * time.Second

func (a *app) newConsoleCmd() *cobra.Command {
	var o consoleOptions
	cmd := a.clientCommand(&cobra.Command{
		Use:   "console [--listen ADDR] [--no-browser] [--gateway URL] [--work-dir DIR]",
		Short: "Open the web console: the evidence of your agency in your browser",
		Long: `Start the console, a local web interface for investigators, liaison officers and court
clerks, and open it in the browser. It is a proxy on this computer's loopback
(127.0.0.1, a random port unless --listen gives one) that holds your identity, as the
CLI does: the browser needs no certificate; the console calls the gateway over mutual
TLS, signs every change of custody (share, revoke, accept, hold, release, upload) with
your own act key (--key, as the other commands), checks every download against its
registered SHA-256 and sends your signed receipt. The custody timeline is verified in
the browser with the court's verifier.

It prints a one-time login URL (with --json, as {"url", "listen"}): the first browser to
open it gets the console's session; nobody else, and no other web site, can use the
console. It opens it in the browser with xdg-open (open on macOS) unless --no-browser.
It runs until interrupted (Ctrl-C), then removes the files it held for uploads and
downloads. See docs/console.md.`,
		Example: `  evidencegw console --identity evidencegw-data/identities/investigator-nl
  evidencegw console --no-browser --listen 127.0.0.1:8100`,
		Args: positional(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.console(cmd.Context(), o)
		},
	})
	fs := cmd.Flags()
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback `ADDR` (IP:port) to listen on; port 0 picks a free one")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "print the login URL without opening a browser")
	fs.StringVar(&a.gateway, "gateway", "", "gateway `URL` to use instead of the identity's (its gateway file)")
	fs.StringVar(&o.workDir, "work-dir", "", "`DIR` where the console keeps uploads and verified downloads while it runs (default the system's temporary directory)")
	must(cmd.MarkFlagDirname("work-dir"))
	for _, f := range []string{"listen", "gateway"} {
		must(cmd.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions))
	}
	return cmd
}

// consoleOptions are the arguments of the console command.
type consoleOptions struct {
	listen, workDir string
	noBrowser       bool
}

func (a *app) console(ctx context.Context, o consoleOptions) error {
	if err := console.CheckListen(o.listen); err != nil {
		return usagef("invalid argument %q for \"--listen\" flag: %v", o.listen, err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	gw := a.gateway
	if gw == "" {
		gw = gatewayOf(a.identity)
	}
	con, err := console.Listen(console.Config{Client: c, Listen: o.listen, WorkDir: o.workDir, Gateway: gw,
		Logger: slog.New(slog.NewTextHandler(a.env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- con.Serve() }()
	if a.json {
		if err := a.printJSON(struct {
			URL    string `json:"url"`
			Listen string `json:"listen"`
		}{con.URL(), con.Addr()}); err != nil {
			con.Close()
			return err
		}
	} else {
		a.printf("The console is at %s\nOpen this one-time login URL in your browser (Ctrl-C stops the console):\n  %s\n", "http://"+con.Addr(), con.URL())
	}
	if !o.noBrowser {
		if err := openBrowser(con); err != nil {
			fmt.Fprintf(a.env.stderr, "could not open a browser (%v): open the URL above yourself\n", err)
		}
	}
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	done := make(chan error, 1)
	go func() { done <- con.Close() }()
	select {
	case cerr := <-done:
		err = errors.Join(ignoreClosed(err), cerr)
	case <-time.After(consoleShutdown):
		err = errors.Join(ignoreClosed(err), errors.New("the console did not stop in time"))
	}
	return err
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// gatewayOf returns the gateway URL of an identity directory, "" if it cannot be read
// (the client then failed already).
func gatewayOf(dir string) string {
	id, err := pki.LoadIdentity(dir)
	if err != nil {
		return ""
	}
	return id.GatewayURL
}

// openBrowser opens the console in the desktop's browser: xdg-open on Linux and the
// BSDs, open on macOS, the URL handler on Windows. It opens a private local file that
// sends the browser to the login URL, so that the token is on no command line.
func openBrowser(con *console.Console) error {
	page, err := con.OpenerFile()
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", page)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", page)
	default:
		cmd = exec.Command("xdg-open", page)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
