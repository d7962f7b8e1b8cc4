package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	tlog "github.com/transparency-dev/formats/log"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
)

const logSynopsis = "log checkpoint | log snapshot -o FILE | log monitor --trust-root FILE --state FILE [--interval DURATION] [--evidence-out FILE]"

// runLog runs the log subcommands: the custody log's checkpoint, a snapshot of its
// leaves for a court's completeness check, and a monitor that verifies the log only
// ever grows.
func runLog(ctx context.Context, inv *invocation, args []string) error {
	if len(args) == 0 {
		return inv.usagef("missing log subcommand")
	}
	sub := newInvocation("log "+args[0], logSynopsis, inv.stdout, inv.stderr, inv.env)
	switch args[0] {
	case "checkpoint":
		return runLogCheckpoint(ctx, sub, args[1:])
	case "snapshot":
		return runLogSnapshot(ctx, sub, args[1:])
	case "monitor":
		return runLogMonitor(ctx, sub, args[1:])
	}
	return inv.usagef("unknown log subcommand %q", args[0])
}

func runLogCheckpoint(ctx context.Context, inv *invocation, args []string) error {
	if _, err := inv.parse(args, 0, ""); err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	cp, err := c.LogCheckpoint(ctx)
	if err != nil {
		return err
	}
	_, err = inv.stdout.Write(cp)
	return err
}

// checkpointSize reads the tree size of a checkpoint note.
func checkpointSize(raw []byte) (uint64, error) {
	var cp tlog.Checkpoint
	if _, err := cp.Unmarshal(raw); err != nil {
		return 0, fmt.Errorf("reading the log checkpoint: %w", err)
	}
	return cp.Size, nil
}

func runLogSnapshot(ctx context.Context, inv *invocation, args []string) error {
	var out string
	inv.fs.StringVar(&out, "o", "", "write the snapshot to `FILE`, which must not exist (required)")
	if _, err := inv.parse(args, 0, ""); err != nil {
		return err
	}
	if out == "" {
		return inv.usagef("-o FILE is required")
	}
	if err := checkAbsent(out); err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	cp, err := c.LogCheckpoint(ctx)
	if err != nil {
		return err
	}
	size, err := checkpointSize(cp)
	if err != nil {
		return err
	}
	snap := custody.LogSnapshot{MediaType: custody.LogSnapshotMediaType, Checkpoint: string(cp), Leaves: make([][]byte, 0, size)}
	progress := inv.progress()
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
		return err
	}
	if inv.json {
		return inv.printJSON(map[string]any{"path": out, "size": size})
	}
	inv.printf("wrote a snapshot of the custody log (%d leaves, signed checkpoint of size %d) to %s\n", size, size, out)
	return nil
}

// monitorState is the monitor's state file: the last checkpoint it verified.
type monitorState struct {
	Checkpoint string `json:"checkpoint"`
}

func runLogMonitor(ctx context.Context, inv *invocation, args []string) error {
	var trustPath, statePath, evidenceOut string
	var interval time.Duration
	inv.fs.StringVar(&trustPath, "trust-root", "", "pinned trust root `FILE` (required)")
	inv.fs.StringVar(&statePath, "state", "", "`FILE` keeping the last verified checkpoint (required)")
	inv.fs.DurationVar(&interval, "interval", 0, "check again every `DURATION` until interrupted (0: once)")
	inv.fs.StringVar(&evidenceOut, "evidence-out", "", "where to write the proof of an inconsistency (default log-inconsistency-<time>.json)")
	if _, err := inv.parse(args, 0, ""); err != nil {
		return err
	}
	if trustPath == "" || statePath == "" {
		return inv.usagef("--trust-root and --state are required")
	}
	raw, err := os.ReadFile(trustPath)
	if err != nil {
		return err
	}
	tr, err := custody.ParseTrustRoot(raw)
	if err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	for {
		if err := monitorOnce(ctx, inv, c, tr, statePath, evidenceOut); err != nil || interval == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// monitorOnce fetches the latest checkpoint and checks that it extends the last one
// verified; an inconsistency is written out as evidence and returned.
func monitorOnce(ctx context.Context, inv *invocation, c *client.Client, tr *custody.TrustRoot, statePath, evidenceOut string) error {
	latest, err := c.LogCheckpoint(ctx)
	if err != nil {
		return err
	}
	newCP, err := tr.ParseCheckpoint(latest)
	if err != nil {
		return err
	}
	var st monitorState
	if b, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("reading monitor state %s: %w", statePath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if st.Checkpoint == "" {
		inv.printf("first checkpoint: size %d; trusted from now on\n", newCP.Size)
		return saveMonitorState(statePath, latest)
	}
	old, err := tr.ParseCheckpoint([]byte(st.Checkpoint))
	if err != nil {
		return fmt.Errorf("monitor state: %w", err)
	}
	var proof [][]byte
	if newCP.Size > old.Size && old.Size > 0 {
		if proof, err = c.LogConsistency(ctx, old.Size, newCP.Size); err != nil {
			return err
		}
	}
	err = custody.CheckConsistency(tr, []byte(st.Checkpoint), latest, proof)
	var incons *custody.InconsistencyError
	if errors.As(err, &incons) {
		if evidenceOut == "" {
			evidenceOut = "log-inconsistency-" + inv.env.now().UTC().Format("20060102T150405Z") + ".json"
		}
		if b, jerr := incons.Evidence(); jerr == nil {
			if werr := writeNewFile(evidenceOut, b); werr == nil {
				fmt.Fprintf(inv.stderr, "the proof of the inconsistency (both signed checkpoints and the proof) is in %s\n", evidenceOut)
			}
		}
		return err
	}
	if err != nil {
		return err
	}
	inv.printf("log consistent: size %d -> %d\n", old.Size, newCP.Size)
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
