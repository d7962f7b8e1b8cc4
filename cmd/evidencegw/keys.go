package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
)

const keysUsage = "keys rotate --config FILE [--data DIR] [--jurisdiction J[,J...]] [--operator NAME] [--event-key]"

// runKeys runs the operator's key commands. They act on the backends directly, with the
// gateway's configuration, not through the API.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return usageError{"usage: evidencegw " + keysUsage}
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "the gateway's YAML configuration (required)")
	dataDir := fs.String("data", "./evidencegw-data", "the gateway's data directory")
	only := fs.String("jurisdiction", "", "rotate only these jurisdictions (comma-separated; default all)")
	operator := fs.String("operator", "operator", "who rotates, recorded in each key-rewrap custody event")
	eventKey := fs.Bool("event-key", false, "rotate the custody event signing key instead of the key-encryption keys")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *configPath == "" {
		return usageError{"usage: evidencegw " + keysUsage}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	be, err := openBackends(ctx, cfg, *dataDir, logger)
	if err != nil {
		return err
	}
	defer be.close(context.WithoutCancel(ctx))
	if *eventKey {
		if be.eventKeyRotator == nil {
			return fmt.Errorf("the %s key manager does not rotate the event key: it needs backends.keys type vault", cfg.Backends.Keys.Type)
		}
		if err := be.eventKeyRotator.RotateEventKey(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "custody event key rotated: running gateways sign with the new version from their next event; publish the new trust root (evidencegw trust-root)")
		return nil
	}
	if be.rotator == nil {
		return fmt.Errorf("the %s key manager does not rotate keys: key rotation needs backends.keys type vault", cfg.Backends.Keys.Type)
	}
	svc, err := newService(cfg, be, logger, nil)
	if err != nil {
		return err
	}
	for _, j := range rotationJurisdictions(cfg, *only) {
		n, err := svc.RotateKeys(ctx, j, custody.Party{Agency: "gateway-operator", Jurisdiction: j, Person: *operator, Role: "operator"})
		if err != nil {
			return fmt.Errorf("jurisdiction %s (%d items rewrapped before the failure): %w", j, n, err)
		}
		fmt.Fprintf(stdout, "%s: key-encryption key rotated, %d data keys rewrapped\n", j, n)
	}
	return nil
}

func rotationJurisdictions(cfg Config, only string) []string {
	var js []string
	for _, a := range cfg.Agencies {
		if !slices.Contains(js, a.Jurisdiction) && (only == "" || slices.Contains(strings.Split(only, ","), a.Jurisdiction)) {
			js = append(js, a.Jurisdiction)
		}
	}
	return js
}
