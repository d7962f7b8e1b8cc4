package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/custody"
)

func newKeysCmd(env clientEnv) *cobra.Command {
	return newGroupCmd(&cobra.Command{
		Use:   "keys",
		Short: "Manage the gateway's keys (operator)",
		Long: `Manage the gateway's keys. The key commands act on the backends directly, with the
gateway's configuration, not through the API: run them where the gateway runs.`,
		Example: "  evidencegw keys rotate --config gateway.yaml --data /var/lib/evidencegw",
		GroupID: groupServer,
	}, newKeysRotateCmd(env))
}

// keyRotation is what keys rotate is asked to do.
type keyRotation struct {
	configPath, dataDir string
	// only lists the jurisdictions to rotate, comma-separated; empty: all.
	only     string
	operator string
	eventKey bool
}

func newKeysRotateCmd(env clientEnv) *cobra.Command {
	var kr keyRotation
	cmd := &cobra.Command{
		Use:   "rotate --config FILE [--data DIR] [--jurisdiction J[,J...]] [--operator NAME] [--event-key]",
		Short: "Rotate the key-encryption keys, or the custody event signing key",
		Long: `Rotate the key-encryption key of each jurisdiction (or of those given) and rewrap every
data key under the new version, each rewrap recorded as a custody event; or, with
--event-key, rotate the key that signs custody events, after which the trust root must
be published again. Both need the Vault key manager (backends.keys type vault).`,
		Example: `  evidencegw keys rotate --config gateway.yaml --data ./stack-data
  evidencegw keys rotate --config gateway.yaml --jurisdiction FR,NL --operator alice
  evidencegw keys rotate --config gateway.yaml --event-key`,
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return rotateKeys(cmd.Context(), kr, env.stdout, env.stderr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kr.configPath, "config", "", "the gateway's YAML configuration `FILE` (required)")
	fs.StringVar(&kr.dataDir, "data", "./evidencegw-data", "the gateway's data `DIR`")
	fs.StringVar(&kr.only, "jurisdiction", "", "rotate only these `JURISDICTIONS`, comma-separated (default: all)")
	fs.StringVar(&kr.operator, "operator", "operator", "`NAME` of who rotates, recorded in each key-rewrap custody event")
	fs.BoolVar(&kr.eventKey, "event-key", false, "rotate the custody event signing key instead of the key-encryption keys")
	must(cmd.MarkFlagRequired("config"))
	must(cmd.MarkFlagDirname("data"))
	return cmd
}

// rotateKeys runs keys rotate on the backends of the configuration.
func rotateKeys(ctx context.Context, kr keyRotation, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(kr.configPath)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	be, err := openBackends(ctx, cfg, kr.dataDir, logger, asOperator)
	if err != nil {
		return err
	}
	defer be.close(context.WithoutCancel(ctx))
	if kr.eventKey {
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
	for _, j := range rotationJurisdictions(cfg, kr.only) {
		n, err := svc.RotateKeys(ctx, j, custody.Party{Agency: "gateway-operator", Jurisdiction: j, Person: kr.operator, Role: "operator"})
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
