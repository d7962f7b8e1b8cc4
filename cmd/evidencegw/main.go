// Command evidencegw is the evidence exchange gateway: `evidencegw serve` runs the
// server, `evidencegw keys rotate` is for its operator, the other commands are its
// client, and `evidencegw verify` is the court's offline verifier. `evidencegw --help`
// lists them; docs/cli.md describes every command, the exit statuses and the JSON
// error shape.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, newRootCmd(osEnv()), os.Args[1:])
	stop()
	os.Exit(code)
}
