package tesseralog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"

	"github.com/evidencegw/evidencegw/ledger"
)

// This file repairs the one kind of damage that needs no backup: entry bundles that are
// missing or wrong under intact tiles. The level-0 tiles hold the hash of every leaf,
// and every leaf of the custody log is a function of a stored custody event, so the
// bundles can be written again from the stored events, found by leaf hash. The tiles
// prove the result: nothing the caller supplies can change the tree.

// Permissions of what Rebuild writes, those of tessera's POSIX driver.
const (
	rebuildDirPerm  = 0o755
	rebuildFilePerm = 0o644
)

// LeafSource returns the leaf whose RFC 6962 leaf hash is hash, reading it from where
// the caller keeps what it appended (the gateway: its stored custody events). It
// returns an error matching ledger.ErrNotFound when it knows no such leaf; any other
// error stops Rebuild.
type LeafSource func(ctx context.Context, hash []byte) ([]byte, error)

// RebuildReport is what Rebuild did.
type RebuildReport struct {
	// Rewritten lists the entry bundles written, as paths in the log directory.
	Rewritten []string
	// Check is the check of the directory after they were written: intact.
	Check *CheckReport
}

// MissingLeavesError refuses a rebuild: leaves of the damaged entry bundles that the
// LeafSource does not know. It wraps the directory's *DamageError.
type MissingLeavesError struct {
	// Count is how many leaves are missing; Indexes lists the first ones.
	Count   uint64
	Indexes []uint64
	Damage  *DamageError
}

// maxMissingListed bounds MissingLeavesError.Indexes.
const maxMissingListed = 20

func (e *MissingLeavesError) Error() string {
	idx := make([]string, len(e.Indexes))
	for i, n := range e.Indexes {
		idx[i] = fmt.Sprint(n)
	}
	more := ""
	if e.Count > uint64(len(e.Indexes)) {
		more = ", ..."
	}
	return fmt.Sprintf("cannot rebuild the entry bundles: no stored custody event has the leaf at %d log indexes (%s%s); restore the log directory from a backup: %v",
		e.Count, strings.Join(idx, ", "), more, e.Damage)
}

func (e *MissingLeavesError) Unwrap() error { return e.Damage }

// Rebuild rewrites the entry bundles of the log directory cfg.Dir that Check finds
// missing or wrong, when its tiles are intact (they recompute to the directory's
// checkpoint, which is or extends the newest stored one). Each damaged bundle is
// written again from the leaves the level-0 tiles name by hash, as leafOf returns them,
// in tessera's POSIX layout (a partial bundle at tile/entries/N.p/W), through a temp
// file, fsync and rename. It then checks the directory again and succeeds only if it
// is intact: tessera's fsck passes and its root is the newest stored checkpoint's or
// extends it. It signs nothing and stores no checkpoint; it needs cfg.Verifier and
// cfg.Checkpoints.
//
// It refuses, writing nothing, a directory it cannot repair: a rollback, a fork, a
// checkpoint file that does not verify, or damaged tiles (the *DamageError, with a
// message saying that only a backup can restore it), and entry bundles with a leaf
// leafOf does not know (a *MissingLeavesError). An intact directory is left as it is.
// The gateway must not run on the directory meanwhile.
func Rebuild(ctx context.Context, cfg Config, leafOf LeafSource) (*RebuildReport, error) {
	if cfg.Verifier == nil || cfg.Checkpoints == nil {
		return nil, errors.New("tesseralog: rebuilding a log needs its checkpoint verifier and checkpoint store")
	}
	r, err := inspect(ctx, cfg.Dir, cfg.Verifier, cfg.Checkpoints)
	if err != nil {
		return nil, err
	}
	if r.Damage == nil {
		return &RebuildReport{Check: r}, nil
	}
	if r.Damage.Kind != DamageCorrupt || !r.TilesIntact || len(r.Bundles) == 0 {
		return nil, fmt.Errorf("cannot rebuild the log from the stored custody events, only the entry bundles under intact tiles: restore the log directory from a backup: %w", r.Damage)
	}
	bundles, err := rebuildBundles(ctx, r, leafOf)
	if err != nil {
		return nil, err
	}
	out := &RebuildReport{}
	for _, b := range bundles {
		if err := writeFileAtomic(filepath.Join(cfg.Dir, b.path), b.data); err != nil {
			return out, fmt.Errorf("writing entry bundle %s: %w", b.path, err)
		}
		out.Rewritten = append(out.Rewritten, b.path)
	}
	if out.Check, err = inspect(ctx, cfg.Dir, cfg.Verifier, cfg.Checkpoints); err != nil {
		return out, err
	}
	if out.Check.Damage != nil {
		return out, fmt.Errorf("the log is still damaged after its entry bundles were rewritten: %w", out.Check.Damage)
	}
	return out, nil
}

// bundleFile is an entry bundle to write.
type bundleFile struct {
	path string
	data []byte
}

// rebuildBundles encodes again every damaged bundle of r from the leaves leafOf finds
// for the hashes of the level-0 tile above it. It fails with a *MissingLeavesError if
// any leaf is not found.
func rebuildBundles(ctx context.Context, r *CheckReport, leafOf LeafSource) ([]bundleFile, error) {
	missing := &MissingLeavesError{Damage: r.Damage}
	var out []bundleFile
	for _, d := range r.Bundles {
		i := d.First / layout.EntryBundleWidth
		p := layout.PartialTileSize(0, i, r.Found.Size)
		hashes, td := readTileHashes(r.Dir, i, p)
		if td != nil {
			return nil, fmt.Errorf("reading the hashes of entry bundle %s: %s", d.Path, td)
		}
		var data []byte
		for k, h := range hashes {
			idx := d.First + uint64(k)
			leaf, err := leafOf(ctx, h)
			switch {
			case errors.Is(err, ledger.ErrNotFound):
				if missing.Count++; len(missing.Indexes) < maxMissingListed {
					missing.Indexes = append(missing.Indexes, idx)
				}
				continue
			case err != nil:
				return nil, fmt.Errorf("finding leaf %d (hash %x): %w", idx, h, err)
			case !bytes.Equal(rfc6962.DefaultHasher.HashLeaf(leaf), h):
				return nil, fmt.Errorf("the leaf found for leaf %d does not have its hash %x", idx, h)
			}
			data = append(data, tessera.NewEntry(leaf).MarshalBundleData(idx)...)
		}
		out = append(out, bundleFile{path: layout.EntriesPath(i, p), data: data})
	}
	if missing.Count > 0 {
		return nil, missing
	}
	return out, nil
}

// writeFileAtomic writes data to path through a temp file in its directory, fsynced
// and renamed over path, then fsyncs the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, rebuildDirPerm); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".rebuild-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, a no-op
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(rebuildFilePerm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
