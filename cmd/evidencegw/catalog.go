package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// catalogOp is what a catalog command is asked to do.
type catalogOp struct {
	configPath, dataDir string
	json                bool
}

func newCatalogCmd(env clientEnv) *cobra.Command {
	return newGroupCmd(&cobra.Command{
		Use:   "catalog",
		Short: "Rebuild or check the catalog from the custody chains (operator)",
		Long: `The catalog is a derived view of cases, exhibits, grants and requests: the custody
chains are the source of truth (docs/catalog.md). These commands act on the backends
directly, with the gateway's configuration: run them where the gateway runs. Both are
safe while gateways serve.`,
		Example: "  evidencegw catalog check --config gateway.yaml\n  evidencegw catalog rebuild --data ./evidencegw-data",
		GroupID: groupServer,
	}, newCatalogRebuildCmd(env), newCatalogCheckCmd(env))
}

func catalogFlags(cmd *cobra.Command, op *catalogOp) {
	fs := cmd.Flags()
	fs.StringVar(&op.configPath, "config", "", "the gateway's YAML configuration `FILE` (default: the embedded default)")
	fs.StringVar(&op.dataDir, "data", "./evidencegw-data", "the gateway's data `DIR`")
	fs.BoolVar(&op.json, "json", false, "print machine-readable JSON")
	must(cmd.MarkFlagDirname("data"))
}

func newCatalogRebuildCmd(env clientEnv) *cobra.Command {
	var op catalogOp
	cmd := &cobra.Command{
		Use:   "rebuild [--config FILE] [--data DIR] [--json]",
		Short: "Recompute every catalog row from the stored custody chains",
		Long: `Recompute every row of the catalog from the stored custody chains, verifying each chain
as it is read, and remove the rows of subjects no chain holds. A progress bar shows on a
terminal. The result equals the catalog a gateway keeps event by event.`,
		Example:           "  evidencegw catalog rebuild --config gateway.yaml --data /var/lib/evidencegw",
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return rebuildCatalog(cmd.Context(), op, env)
		},
	}
	catalogFlags(cmd, &op)
	return cmd
}

func newCatalogCheckCmd(env clientEnv) *cobra.Command {
	var op catalogOp
	cmd := &cobra.Command{
		Use:   "check [--config FILE] [--data DIR] [--json]",
		Short: "Compare the catalog with the stored custody chains, changing nothing",
		Long: `Compare every row of the catalog with a fold of the stored custody chains and list the
subjects whose rows are missing, extra or stale. It changes nothing; exit status 1 when
a difference is found ('evidencegw catalog rebuild' repairs it).`,
		Example:           "  evidencegw catalog check --config gateway.yaml",
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return checkCatalog(cmd.Context(), op, env.stdout, env.stderr)
		},
	}
	catalogFlags(cmd, &op)
	return cmd
}

// operatorService opens the backends and the application layer for an operator command.
func operatorService(ctx context.Context, op catalogOp, stderr io.Writer) (*backends, func(), error) {
	cfg := defaultConfig()
	if op.configPath != "" {
		var err error
		if cfg, err = loadConfig(op.configPath); err != nil {
			return nil, nil, err
		}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	be, err := openBackends(ctx, cfg, op.dataDir, logger, asOperator)
	if err != nil {
		return nil, nil, err
	}
	be.cfg, be.logger = cfg, logger
	return be, func() { be.close(context.WithoutCancel(ctx)) }, nil
}

func rebuildCatalog(ctx context.Context, op catalogOp, env clientEnv) error {
	be, closeAll, err := operatorService(ctx, op, env.stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	svc, err := newService(be.cfg, be, be.logger, nil)
	if err != nil {
		return err
	}
	var progress func(done, total int)
	if env.terminal && !op.json {
		bar := newProgressBar(env.stderr, env.now)
		progress = func(done, total int) { bar.update("rebuilding", int64(done), int64(total)) }
	}
	n, err := svc.RebuildCatalog(ctx, progress)
	if err != nil {
		return fmt.Errorf("rebuilding the catalog (%d subjects done): %w", n, err)
	}
	if op.json {
		return json.NewEncoder(env.stdout).Encode(map[string]int{"subjects": n})
	}
	fmt.Fprintf(env.stdout, "catalog rebuilt from %d custody chains\n", n)
	return nil
}

func checkCatalog(ctx context.Context, op catalogOp, stdout, stderr io.Writer) error {
	be, closeAll, err := operatorService(ctx, op, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	svc, err := newService(be.cfg, be, be.logger, nil)
	if err != nil {
		return err
	}
	diffs, err := svc.CheckCatalog(ctx)
	if err != nil {
		return fmt.Errorf("checking the catalog: %w", err)
	}
	if op.json {
		type diff struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		}
		out := []diff{}
		for _, d := range diffs {
			out = append(out, diff{d.ID, d.Reason})
		}
		if err := json.NewEncoder(stdout).Encode(map[string]any{"differences": out}); err != nil {
			return err
		}
	} else {
		for _, d := range diffs {
			fmt.Fprintf(stdout, "%s\t%s\n", d.ID, d.Reason)
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the catalog differs from the custody chains for %d subjects: run evidencegw catalog rebuild", len(diffs))
	}
	if !op.json {
		fmt.Fprintln(stdout, "the catalog equals the custody chains")
	}
	return nil
}
