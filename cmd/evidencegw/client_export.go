package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	tlog "github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/custody/caseexport"
)

// Output formats of the bundle command.
const (
	// formatBundle is the signed custody bundle, for offline verification.
	formatBundle = "bundle"
	// formatCASE is the custody chain as CASE/UCO JSON-LD, converted from the bundle.
	formatCASE = "case-jsonld"
)

func (a *app) newBundleCmd() *cobra.Command {
	var out, format string
	var consistentWith []string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "bundle EVIDENCE-ID -o FILE [--format bundle|case-jsonld] [--consistent-with BUNDLE[,BUNDLE...]]",
		Short: "Export the custody bundle of evidence, for offline verification",
		Long: `Export the custody bundle of evidence: every signed custody event with its inclusion
proof in the transparency log, which 'evidencegw verify' (or custody-verify) checks
offline against the trust root. The export is itself a custody event.

--format case-jsonld writes the custody chain as CASE/UCO JSON-LD for forensic tools
instead; it is not signed and cannot be verified on its own.

--consistent-with names bundles already held: the new bundle then carries consistency
proofs from their checkpoints, so that verify can check all of them together offline.`,
		Example: `  evidencegw bundle $ID -o bundle.json
  evidencegw bundle $ID -o bundle-2.json --consistent-with bundle.json
  evidencegw bundle $ID --format case-jsonld -o custody.jsonld`,
		Args: positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != formatBundle && format != formatCASE {
				return usagef("invalid argument %q for \"--format\" flag: want %s or %s", format, formatBundle, formatCASE)
			}
			return a.bundle(cmd.Context(), args[0], out, format, consistentWith)
		},
	})
	outputFlag(cmd, &out, "the bundle")
	cmd.Flags().StringVar(&format, "format", formatBundle, "output `FORMAT`: "+formatBundle+" (the signed custody bundle) or "+
		formatCASE+" (the custody chain as CASE/UCO JSON-LD, not verifiable on its own)")
	cmd.Flags().StringSliceVar(&consistentWith, "consistent-with", nil, "`BUNDLES` already held (comma-separated, or the flag repeated): include consistency proofs from their checkpoints, so verify can check all of them together offline")
	must(cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{
		formatBundle + "\tthe signed custody bundle",
		formatCASE + "\tthe custody chain as CASE/UCO JSON-LD",
	}, cobra.ShellCompDirectiveNoFileComp)))
	return cmd
}

func (a *app) bundle(ctx context.Context, id, out, format string, consistentWith []string) error {
	from, err := checkpointSizesOf(consistentWith)
	if err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", id, err)
	}
	if err := checkAbsent(out); err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", id, err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var r *client.BundleResult
	if custody.ValidRequestID(id) {
		// A request's chain: exported the same way, verified the same way.
		if len(from) > 0 || format != formatBundle {
			return usagef("a request's bundle takes neither --consistent-with nor --format %s", formatCASE)
		}
		r, err = c.RequestBundle(ctx, id)
	} else {
		r, err = c.Bundle(ctx, id, from...)
	}
	if err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", id, err)
	}
	data := r.Raw
	if format == formatCASE {
		if data, err = caseJSONLD(r.Bundle); err != nil {
			return fmt.Errorf("exporting bundle of %s: %w", id, err)
		}
	}
	if err := writeNewFile(out, data); err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(struct {
			EvidenceID string              `json:"evidence_id"`
			Path       string              `json:"path"`
			Format     string              `json:"format"`
			Events     int                 `json:"events"`
			Custody    *api.CustodyReceipt `json:"custody,omitempty"`
		}{id, out, format, len(r.Bundle.Events), r.Custody})
	}
	if format == formatCASE {
		a.printf("wrote the custody chain of %s (%d events) as CASE JSON-LD to %s\n", id, len(r.Bundle.Events), out)
		a.printCustody(r.Custody)
		a.printf("the JSON-LD is not signed and was not verified: export the bundle (--format %s) to verify the chain offline\n", formatBundle)
		return nil
	}
	a.printf("wrote the custody bundle of %s (%d events) to %s\n", id, len(r.Bundle.Events), out)
	a.printCustody(r.Custody)
	a.printf("verify it offline with: evidencegw verify %s --trust-root TRUST-ROOT-FILE [--evidence FILE]\n", out)
	return nil
}

// caseJSONLD converts a bundle into CASE/UCO JSON-LD (docs/case-export.md).
func caseJSONLD(b *custody.Bundle) ([]byte, error) {
	doc, err := caseexport.FromBundle(b)
	if err != nil {
		return nil, err
	}
	return doc.Marshal()
}

func (a *app) newTrustRootCmd() *cobra.Command {
	var out, chain string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "trust-root -o FILE [--chain FILE]",
		Short: "Fetch the gateway's trust root, for offline verification",
		Long: `Fetch the trust root: the public keys that sign custody events, the transparency
log's origin and verifier key, and the witnesses that must cosign its checkpoints.
Verification pins it, so check it against the copy the operator publishes out of band
before relying on it. Trust roots are versioned: with --chain, also fetch every logged
change, with which a verifier that pinned an earlier version reaches this one
('verify --trust-root-chain').`,
		Example: `  evidencegw trust-root -o trust-root.json
  evidencegw trust-root -o trust-root-now.json --chain trust-root-chain.json`,
		Args: positional(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.trustRoot(cmd.Context(), out, chain)
		},
	})
	outputFlag(cmd, &out, "the trust root")
	cmd.Flags().StringVar(&chain, "chain", "", "also write the trust root's logged changes (the trust root chain) to `FILE`")
	return cmd
}

func (a *app) trustRoot(ctx context.Context, out, chainOut string) error {
	if err := checkAbsent(out); err != nil {
		return fmt.Errorf("fetching trust root: %w", err)
	}
	if chainOut != "" {
		if err := checkAbsent(chainOut); err != nil {
			return fmt.Errorf("fetching trust root chain: %w", err)
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	tr, raw, err := c.TrustRoot(ctx)
	if err != nil {
		return fmt.Errorf("fetching trust root: %w", err)
	}
	if chainOut != "" {
		_, rawChain, err := c.TrustRootChain(ctx)
		if err != nil {
			return fmt.Errorf("fetching trust root chain: %w", err)
		}
		if err := writeNewFile(chainOut, rawChain); err != nil {
			return fmt.Errorf("fetching trust root chain: %w", err)
		}
	}
	if err := writeNewFile(out, raw); err != nil {
		return fmt.Errorf("fetching trust root: %w", err)
	}
	if a.json {
		return a.printJSON(struct {
			Path      string `json:"path"`
			LogOrigin string `json:"log_origin"`
			EventKeys int    `json:"event_keys"`
			Version   uint64 `json:"version"`
			Chain     string `json:"chain,omitempty"`
		}{out, tr.Log.Origin, len(tr.EventKeys), tr.TrustRootVersion(), chainOut})
	}
	a.printf("wrote version %d of the trust root of log %s (%d event key(s)) to %s\n", tr.TrustRootVersion(), tr.Log.Origin, len(tr.EventKeys), out)
	if chainOut != "" {
		a.printf("wrote its logged changes to %s\n", chainOut)
	}
	a.printf("check it against the operator's published copy before relying on it\n")
	return nil
}

// checkAbsent fails if path exists: exports never replace a file.
func checkAbsent(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeNewFile writes data to path, which must not exist, through a synced temporary
// file next to it, so that path appears complete or not at all.
func writeNewFile(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err = f.Chmod(0o644); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// A hard link fails if path appeared meanwhile, where a rename would replace it.
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return nil
}

// checkpointSizesOf reads the tree sizes of the checkpoints in the given bundle files.
// It only reads them: verify checks the proofs against them.
func checkpointSizesOf(paths []string) ([]uint64, error) {
	seen := map[uint64]bool{}
	var sizes []uint64
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading bundle: %w", err)
		}
		b, err := custody.ParseBundle(raw)
		if err != nil {
			return nil, fmt.Errorf("reading bundle %s: %w", path, err)
		}
		for _, e := range b.Events {
			var p tproof.TLogProof
			if err := p.Unmarshal([]byte(e.Proof)); err != nil {
				return nil, fmt.Errorf("reading bundle %s: %w", path, err)
			}
			var cp tlog.Checkpoint
			if _, err := cp.Unmarshal(p.Checkpoint); err != nil {
				return nil, fmt.Errorf("reading bundle %s: %w", path, err)
			}
			if !seen[cp.Size] {
				seen[cp.Size] = true
				sizes = append(sizes, cp.Size)
			}
		}
	}
	return sizes, nil
}
