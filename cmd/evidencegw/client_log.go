package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	tlog "github.com/transparency-dev/formats/log"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
)

func (a *app) newLogCmd() *cobra.Command {
	return a.clientCommand(newGroupCmd(&cobra.Command{
		Use:   "log",
		Short: "Read and monitor the custody transparency log",
		Long: `Read the custody transparency log: its latest signed checkpoint, a snapshot of all its
leaves for a court's completeness check, and a monitor that checks that the log only
ever grows (no event rewritten or removed, no fork shown to different readers).`,
		Example: `  evidencegw log checkpoint
  evidencegw log snapshot -o log.json
  evidencegw log monitor --trust-root trust-root.json --state monitor.json --interval 1m`,
	}, a.newLogCheckpointCmd(), a.newLogSnapshotCmd(), a.newLogMonitorCmd(), a.newLogFsckCmd()))
}

func (a *app) newLogCheckpointCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "checkpoint",
		Short:             "Print the custody log's latest signed checkpoint",
		Long:              "Print the custody log's latest checkpoint, a C2SP signed note: the log's origin, size and root hash, signed by the log (and cosigned by its witnesses, if any). It is printed as the gateway sent it, not verified: 'log monitor' verifies checkpoints.",
		Example:           "  evidencegw log checkpoint",
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.logCheckpoint(cmd.Context())
		},
	}
}

func (a *app) logCheckpoint(ctx context.Context) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	cp, err := c.LogCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("fetching the log checkpoint: %w", err)
	}
	_, err = a.env.stdout.Write(cp)
	return err
}

func (a *app) newLogSnapshotCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "snapshot -o FILE",
		Short: "Save every leaf of the custody log up to a signed checkpoint",
		Long: `Save a snapshot of the custody log: its latest signed checkpoint and every leaf up to it.
'evidencegw verify --log-snapshot FILE' checks against it that a bundle lists every
event of its exhibit, and that the bundle's checkpoints are prefixes of the log.`,
		Example:           "  evidencegw log snapshot -o log.json",
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.logSnapshot(cmd.Context(), out)
		},
	}
	outputFlag(cmd, &out, "the snapshot")
	return cmd
}

func (a *app) logSnapshot(ctx context.Context, out string) error {
	if err := checkAbsent(out); err != nil {
		return fmt.Errorf("saving a log snapshot: %w", err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	raw, err := c.LogCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("fetching the log checkpoint: %w", err)
	}
	var cp tlog.Checkpoint
	if _, err := cp.Unmarshal(raw); err != nil {
		return fmt.Errorf("reading the log checkpoint: %w", err)
	}
	size := cp.Size
	snap := custody.LogSnapshot{MediaType: custody.LogSnapshotMediaType, Checkpoint: string(raw), Leaves: make([][]byte, 0, size)}
	progress := a.progress()
	for start := uint64(0); start < size; {
		leaves, err := c.LogLeaves(ctx, start, min(api.MaxLeafPage, size-start), size)
		if err != nil {
			return fmt.Errorf("reading log leaves from %d: %w", start, err)
		}
		snap.Leaves = append(snap.Leaves, leaves...)
		start += uint64(len(leaves))
		if progress != nil {
			progress("fetching log", int64(start), int64(size))
		}
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if err := writeNewFile(out, b); err != nil {
		return fmt.Errorf("saving a log snapshot: %w", err)
	}
	if a.json {
		return a.printJSON(map[string]any{"path": out, "size": size})
	}
	a.printf("wrote a snapshot of the custody log (%d leaves, signed checkpoint of size %d) to %s\n", size, size, out)
	return nil
}

func (a *app) newLogMonitorCmd() *cobra.Command {
	var m monitor
	cmd := &cobra.Command{
		Use:   "monitor --trust-root FILE --state FILE [--interval DURATION] [--evidence-out FILE]",
		Short: "Check that the custody log only ever grows",
		Long: `Check that the custody log's latest checkpoint, verified against the pinned trust root,
extends the last one verified (kept in the --state file) by a consistency proof: no
event rewritten or removed, no fork. The first run trusts the checkpoint it sees. With
--interval, check again at that interval until interrupted.

An inconsistency is a security event: the command writes the proof (both signed
checkpoints and the proof) to --evidence-out and exits with status 3.`,
		Example: `  evidencegw log monitor --trust-root trust-root.json --state monitor.json
  evidencegw log monitor --trust-root trust-root.json --state monitor.json --interval 1m`,
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.logMonitor(cmd.Context(), m)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&m.trustPath, "trust-root", "", "pinned trust root `FILE` (required)")
	fs.StringVar(&m.statePath, "state", "", "`FILE` keeping the last verified checkpoint (required)")
	fs.DurationVar(&m.interval, "interval", 0, "check again every `DURATION` (such as 1m or 1h) until interrupted (0: once)")
	fs.StringVar(&m.evidenceOut, "evidence-out", "", "`FILE` to write the proof of an inconsistency to (default log-inconsistency-<time>.json)")
	must(cmd.MarkFlagRequired("trust-root"))
	must(cmd.MarkFlagRequired("state"))
	must(cmd.RegisterFlagCompletionFunc("interval", cobra.NoFileCompletions))
	return cmd
}

// monitor is the configuration of log monitor.
type monitor struct {
	trustPath, statePath, evidenceOut string
	interval                          time.Duration
}

func (a *app) logMonitor(ctx context.Context, m monitor) error {
	raw, err := os.ReadFile(m.trustPath)
	if err != nil {
		return fmt.Errorf("reading trust root: %w", err)
	}
	tr, err := custody.ParseTrustRoot(raw)
	if err != nil {
		return fmt.Errorf("reading trust root %s: %w", m.trustPath, err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	for {
		if err := a.monitorOnce(ctx, c, tr, m.statePath, m.evidenceOut); err != nil || m.interval == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(m.interval):
		}
	}
}

// monitorState is the monitor's state file: the last checkpoint it verified.
type monitorState struct {
	Checkpoint string `json:"checkpoint"`
}

// monitorOnce fetches the latest checkpoint and checks that it extends the last one
// verified; an inconsistency is written out as evidence and returned.
func (a *app) monitorOnce(ctx context.Context, c *client.Client, tr *custody.TrustRoot, statePath, evidenceOut string) error {
	latest, err := c.LogCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("fetching the log checkpoint: %w", err)
	}
	newCP, err := tr.ParseCheckpoint(latest)
	if err != nil {
		return fmt.Errorf("verifying the log checkpoint: %w", err)
	}
	var st monitorState
	if b, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("reading monitor state %s: %w", statePath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading monitor state: %w", err)
	}
	if st.Checkpoint == "" {
		a.printf("first checkpoint: size %d; trusted from now on\n", newCP.Size)
		return saveMonitorState(statePath, latest)
	}
	old, err := tr.ParseCheckpoint([]byte(st.Checkpoint))
	if err != nil {
		return fmt.Errorf("monitor state: %w", err)
	}
	var proof [][]byte
	if newCP.Size > old.Size && old.Size > 0 {
		if proof, err = c.LogConsistency(ctx, old.Size, newCP.Size); err != nil {
			return fmt.Errorf("fetching the consistency proof from size %d to %d: %w", old.Size, newCP.Size, err)
		}
	}
	err = custody.CheckConsistency(tr, []byte(st.Checkpoint), latest, proof)
	var incons *custody.InconsistencyError
	if errors.As(err, &incons) {
		if evidenceOut == "" {
			evidenceOut = "log-inconsistency-" + a.env.now().UTC().Format("20060102T150405Z") + ".json"
		}
		if b, jerr := incons.Evidence(); jerr == nil {
			if werr := writeNewFile(evidenceOut, b); werr == nil {
				fmt.Fprintf(a.env.stderr, "the proof of the inconsistency (both signed checkpoints and the proof) is in %s\n", evidenceOut)
			}
		}
		return err
	}
	if err != nil {
		return err
	}
	a.printf("log consistent: size %d -> %d\n", old.Size, newCP.Size)
	return saveMonitorState(statePath, latest)
}

func saveMonitorState(path string, cp []byte) error {
	b, err := json.Marshal(monitorState{Checkpoint: string(cp)})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
