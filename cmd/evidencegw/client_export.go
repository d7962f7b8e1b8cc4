package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tproof "github.com/transparency-dev/formats/proof"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/custody/caseexport"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

// Output formats of the bundle command.
const (
	// formatBundle is the signed custody bundle, for offline verification.
	formatBundle = "bundle"
	// formatCASE is the custody chain as CASE/UCO JSON-LD, converted from the bundle.
	formatCASE = "case-jsonld"
)

func runBundle(ctx context.Context, inv *invocation, args []string) error {
	var out string
	inv.fs.StringVar(&out, "o", "", "write the bundle to `FILE`, which must not exist (required)")
	inv.fs.StringVar(&out, "output", "", "same as -o")
	format := formatBundle
	inv.fs.StringVar(&format, "format", formatBundle, "output `FORMAT`: "+formatBundle+" (the signed custody bundle) or "+
		formatCASE+" (the custody chain as CASE/UCO JSON-LD, not verifiable on its own)")
	var consistentWith string
	inv.fs.StringVar(&consistentWith, "consistent-with", "", "comma-separated `BUNDLES` already held: include consistency proofs from their checkpoints, so verify can check all of them together offline")
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	if out == "" {
		return inv.usagef("-o FILE is required")
	}
	from, err := checkpointSizesOf(consistentWith)
	if err != nil {
		return err
	}
	if format != formatBundle && format != formatCASE {
		return inv.usagef("--format must be %s or %s", formatBundle, formatCASE)
	}
	if err := checkAbsent(out); err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", pos[0], err)
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	r, err := c.Bundle(ctx, pos[0], from...)
	if err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", pos[0], err)
	}
	data := r.Raw
	if format == formatCASE {
		if data, err = caseJSONLD(r.Bundle); err != nil {
			return fmt.Errorf("exporting bundle of %s: %w", pos[0], err)
		}
	}
	if err := writeNewFile(out, data); err != nil {
		return fmt.Errorf("exporting bundle of %s: %w", pos[0], err)
	}
	if inv.json {
		return inv.printJSON(struct {
			EvidenceID string              `json:"evidence_id"`
			Path       string              `json:"path"`
			Format     string              `json:"format"`
			Events     int                 `json:"events"`
			Custody    *api.CustodyReceipt `json:"custody,omitempty"`
		}{pos[0], out, format, len(r.Bundle.Events), r.Custody})
	}
	if format == formatCASE {
		inv.printf("wrote the custody chain of %s (%d events) as CASE JSON-LD to %s\n", pos[0], len(r.Bundle.Events), out)
		inv.printCustody(r.Custody)
		inv.printf("the JSON-LD is not signed and was not verified: export the bundle (--format %s) to verify the chain offline\n", formatBundle)
		return nil
	}
	inv.printf("wrote the custody bundle of %s (%d events) to %s\n", pos[0], len(r.Bundle.Events), out)
	inv.printCustody(r.Custody)
	inv.printf("verify it offline with: evidencegw verify %s --trust-root TRUST-ROOT-FILE [--evidence FILE]\n", out)
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

func runTrustRoot(ctx context.Context, inv *invocation, args []string) error {
	var out string
	inv.fs.StringVar(&out, "o", "", "write the trust root to `FILE`, which must not exist (required)")
	inv.fs.StringVar(&out, "output", "", "same as -o")
	if _, err := inv.parse(args, 0, ""); err != nil {
		return err
	}
	if out == "" {
		return inv.usagef("-o FILE is required")
	}
	if err := checkAbsent(out); err != nil {
		return fmt.Errorf("fetching trust root: %w", err)
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	tr, raw, err := c.TrustRoot(ctx)
	if err != nil {
		return fmt.Errorf("fetching trust root: %w", err)
	}
	if err := writeNewFile(out, raw); err != nil {
		return fmt.Errorf("fetching trust root: %w", err)
	}
	if inv.json {
		return inv.printJSON(struct {
			Path      string `json:"path"`
			LogOrigin string `json:"log_origin"`
			EventKeys int    `json:"event_keys"`
		}{out, tr.Log.Origin, len(tr.EventKeys)})
	}
	inv.printf("wrote the trust root of log %s (%d event key(s)) to %s\n", tr.Log.Origin, len(tr.EventKeys), out)
	inv.printf("check it against the operator's published copy before relying on it\n")
	return nil
}

// runVerify verifies a bundle offline; it needs no identity (--identity is accepted
// and ignored, like every client command takes it).
func runVerify(ctx context.Context, inv *invocation, args []string) error {
	var o verifycmd.Options
	o.Register(inv.fs)
	pos, err := verifycmd.ParseArgs(inv.fs, args)
	if err != nil {
		return usageFrom(err)
	}
	if len(pos) == 0 {
		return inv.usagef("missing BUNDLE")
	}
	o.BundlePath, o.OtherBundles, o.JSON = pos[0], pos[1:], inv.json
	if o.TrustRootPath == "" {
		return inv.usagef("--trust-root is required")
	}
	if progress := inv.progress(); progress != nil {
		o.WrapContent = func(r io.Reader, size int64) io.Reader {
			return &progressReader{r: r, total: size, progress: progress}
		}
	}
	return usageFrom(verifycmd.Run(o, inv.stdout))
}

// progressReader reports the bytes read from r as the hashing phase.
type progressReader struct {
	r        io.Reader
	done     int64
	total    int64
	progress client.ProgressFunc
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.progress(client.PhaseHashing, p.done, p.total)
	return n, err
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

// checkpointSizesOf reads the tree sizes of the checkpoints in the given bundle files
// (comma-separated). It only reads them: verify checks the proofs against them.
func checkpointSizesOf(paths string) ([]uint64, error) {
	if paths == "" {
		return nil, nil
	}
	seen := map[uint64]bool{}
	var sizes []uint64
	for _, path := range strings.Split(paths, ",") {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		b, err := custody.ParseBundle(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, e := range b.Events {
			var p tproof.TLogProof
			if err := p.Unmarshal([]byte(e.Proof)); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			size, err := checkpointSize(p.Checkpoint)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if !seen[size] {
				seen[size] = true
				sizes = append(sizes, size)
			}
		}
	}
	return sizes, nil
}
