package tesseralog

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/fsck"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
)

// This file checks a log directory without opening it: the checks New runs before the
// log opens (rollback, fork, tessera's fsck, consistency), and, when tessera's fsck
// fails, a diagnosis naming the tiles and entry bundles that are missing or wrong.

// CheckReport is what Check found in a log directory.
type CheckReport struct {
	// Dir is the log directory checked.
	Dir string
	// Stored is the newest checkpoint in the checkpoint store, verified with the log's
	// key; its Note is nil when none is stored.
	Stored ledger.Checkpoint
	// Found is the log directory's checkpoint, verified with the log's key; its Note is
	// nil when the directory holds none (or one that does not verify).
	Found ledger.Checkpoint
	// Bundles lists the entry bundles of Found's tree that are missing or wrong, in
	// order; Tiles the hash tiles. Both are set only when tessera's fsck failed.
	Bundles []FileDamage
	Tiles   []FileDamage
	// TilesIntact is set when the hash tiles recompute to Found's root (they hold every
	// leaf hash, so the entry bundles can be rebuilt from leaves found by hash: see
	// Rebuild).
	TilesIntact bool
	// Damage is nil when the directory is intact, else what New would refuse it with.
	Damage *DamageError
}

// FileDamage is one file of the log directory that is missing or wrong.
type FileDamage struct {
	// Path is the file's path in the log directory (the tlog-tiles layout), such as
	// tile/entries/000.p/10 or tile/1/000.p/1.
	Path string
	// First and N are the leaves [First, First+N) of the entry bundle, or of the
	// level-0 tile; for a tile of a higher level, First and N are zero.
	First, N uint64
	// Missing is set when neither the file nor its full version exists.
	Missing bool
	// Reason says what is wrong.
	Reason string
}

func (d FileDamage) String() string {
	kind := "entry bundle"
	if !strings.HasPrefix(d.Path, "tile/entries/") {
		kind = "hash tile"
	}
	if d.N > 0 {
		return fmt.Sprintf("%s %s (leaves %d-%d) %s", kind, d.Path, d.First, d.First+d.N-1, d.Reason)
	}
	return fmt.Sprintf("%s %s %s", kind, d.Path, d.Reason)
}

// Check runs the checks New runs before it opens the log directory cfg.Dir (see the
// package doc), without opening it: it takes no lock, writes nothing and signs nothing
// (cfg.Signer is not used, and the log's checkpoint is not stored even if it is newer
// than the stored ones). It needs cfg.Verifier and cfg.Checkpoints.
//
// The report says what it found: both checkpoints and, when tessera's fsck fails,
// which tiles and entry bundles are missing or do not recompute. A damaged directory
// returns the report and its *DamageError (report.Damage); any other error means the
// check could not run (the checkpoint store or a file could not be read), and the
// report is nil.
//
// Run it on the directory of a stopped gateway: a running one moves the files while
// they are read.
func Check(ctx context.Context, cfg Config) (*CheckReport, error) {
	if cfg.Verifier == nil || cfg.Checkpoints == nil {
		return nil, errors.New("tesseralog: checking a log needs its checkpoint verifier and checkpoint store")
	}
	r, err := inspect(ctx, cfg.Dir, cfg.Verifier, cfg.Checkpoints)
	if err != nil {
		return nil, err
	}
	if r.Damage != nil {
		return r, r.Damage
	}
	return r, nil
}

// inspect checks the log directory dir against the newest checkpoint in store. It
// fails only when it cannot run; damage is r.Damage.
func inspect(ctx context.Context, dir string, v note.Verifier, store ledger.CheckpointStore) (*CheckReport, error) {
	r := &CheckReport{Dir: dir}
	var err error
	if r.Stored, err = newestStored(ctx, v, store); err != nil {
		return nil, err
	}
	raw, err := readCheckpointFile(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the log's checkpoint: %w", err)
	}
	if raw != nil {
		if r.Found, err = openCheckpoint(v, raw); err != nil {
			r.Damage = &DamageError{Kind: DamageCorrupt, Found: raw, Published: r.Stored.Note,
				Detail: "the log's checkpoint file does not verify with the gateway's key: " + err.Error()}
			return r, nil
		}
	}
	if r.Damage = compareCheckpoints(dir, r.Stored, r.Found, raw); r.Damage != nil {
		return r, nil
	}
	if r.Found.Size > 0 {
		if err := r.checkFiles(ctx, v); err != nil {
			return nil, err
		}
		if r.Damage != nil {
			return r, nil
		}
	}
	if r.Stored.Note != nil && r.Found.Size > r.Stored.Size {
		if err := verifyExtension(ctx, client.FileFetcher{Root: dir}, r.Stored.Size, r.Stored.Hash, r.Found.Size, r.Found.Hash); err != nil {
			r.Damage = &DamageError{Kind: DamageFork, Published: r.Stored.Note, Found: raw, Detail: err.Error()}
		}
	}
	return r, nil
}

// compareCheckpoints refuses a directory whose checkpoint (found, raw; raw nil if there
// is none) is older than the newest stored one, or another root for its size.
func compareCheckpoints(dir string, stored, found ledger.Checkpoint, raw []byte) *DamageError {
	switch {
	case stored.Note != nil && raw == nil:
		return &DamageError{Kind: DamageRollback, Published: stored.Note,
			Detail: fmt.Sprintf("the log directory %s holds no checkpoint, but the gateway published one of size %d", dir, stored.Size)}
	case found.Size < stored.Size:
		return &DamageError{Kind: DamageRollback, Published: stored.Note, Found: raw,
			Detail: fmt.Sprintf("the log holds %d entries, but the gateway published a checkpoint of size %d: the directory was restored from an older copy or truncated", found.Size, stored.Size)}
	case stored.Note != nil && found.Size == stored.Size && !bytes.Equal(found.Hash, stored.Hash):
		return &DamageError{Kind: DamageFork, Published: stored.Note, Found: raw,
			Detail: fmt.Sprintf("the log's root for tree size %d is not the one the gateway published", found.Size)}
	}
	return nil
}

// newestStored reads and verifies the newest checkpoint in store; a zero Checkpoint if
// there is none.
func newestStored(ctx context.Context, v note.Verifier, store ledger.CheckpointStore) (ledger.Checkpoint, error) {
	raw, err := store.Latest(ctx)
	if errors.Is(err, ledger.ErrNotFound) {
		return ledger.Checkpoint{}, nil
	}
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("reading the newest published checkpoint: %w", err)
	}
	cp, err := openCheckpoint(v, raw)
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("the newest checkpoint in the checkpoint store does not verify with the log's key: %w", err)
	}
	return cp, nil
}

// openCheckpoint verifies a checkpoint note with the log's key, whose name is the log
// origin, and parses it.
func openCheckpoint(v note.Verifier, raw []byte) (ledger.Checkpoint, error) {
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	cp, err := ledger.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	if cp.Origin != v.Name() {
		return ledger.Checkpoint{}, fmt.Errorf("checkpoint of origin %q, want %q", cp.Origin, v.Name())
	}
	cp.Note = raw
	return cp, nil
}

// readCheckpointFile reads the log directory's published checkpoint; nil if there is
// none.
func readCheckpointFile(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, layout.CheckpointPath))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// checkFiles recomputes every tile and the root of the Found checkpoint from the entry
// bundles with tessera's fsck. If that fails, it finds which files are wrong: every
// entry bundle against the level-0 tile above it, and the tiles on their own.
func (r *CheckReport) checkFiles(ctx context.Context, v note.Verifier) error {
	size := r.Found.Size
	files := client.FileFetcher{Root: r.Dir}
	fsckErr := fsck.New(v.Name(), v, sizedBundles{files, size}, hashBundle, fsck.Opts{N: fsckWorkers}).Check(ctx)
	if fsckErr == nil {
		r.TilesIntact = true
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	bundles, tiles, disagree, err := scanFiles(ctx, r.Dir, size)
	if err != nil {
		return err
	}
	higher, tilesErr := checkTiles(ctx, v, r.Dir, size)
	if err := ctx.Err(); err != nil {
		return err
	}
	r.TilesIntact = tilesErr == nil
	if r.TilesIntact {
		// The tiles hold the right hashes: a bundle that disagrees with them is wrong.
		for _, m := range disagree {
			bundles = append(bundles, FileDamage{Path: m.bundle, First: m.first, N: m.n,
				Reason: fmt.Sprintf("does not match the hash tile above it: leaf %d has another hash", m.leaf)})
		}
		slices.SortFunc(bundles, func(a, b FileDamage) int { return cmp.Compare(a.First, b.First) })
		r.Bundles = bundles
	} else {
		r.Bundles = bundles
		for _, m := range disagree {
			tiles = append(tiles, FileDamage{Path: m.tile, First: m.first, N: m.n,
				Reason: fmt.Sprintf("and entry bundle %s disagree at leaf %d: one of the two is damaged", m.bundle, m.leaf)})
		}
		r.Tiles = append(tiles, higher...)
	}
	r.Damage = &DamageError{Kind: DamageCorrupt, Published: r.Stored.Note, Found: r.Found.Note, Detail: r.corruptDetail(fsckErr, tilesErr)}
	return nil
}

// maxNamed bounds the damaged files a DamageError names (the report lists them all).
const maxNamed = 3

// corruptDetail names the damaged files, or says what tessera's fsck found if the
// diagnosis named none.
func (r *CheckReport) corruptDetail(fsckErr, tilesErr error) string {
	var named []string
	for _, d := range append(append([]FileDamage{}, r.Tiles...), r.Bundles...) {
		named = append(named, d.String())
	}
	if tilesErr != nil && len(r.Tiles) == 0 {
		named = append([]string{tilesErr.Error()}, named...)
	}
	if len(named) == 0 {
		named = []string{fsckErr.Error()}
	}
	if len(named) > maxNamed {
		named = append(named[:maxNamed], fmt.Sprintf("and %d more", len(named)-maxNamed))
	}
	detail := fmt.Sprintf("the log's tiles and entry bundles do not recompute to its checkpoint of size %d: %s", r.Found.Size, strings.Join(named, "; "))
	if r.TilesIntact {
		detail += "; the tiles are intact, so the entry bundles can be rebuilt from the stored custody events"
	}
	return detail
}

// sizedBundles reads the entry bundles of the tree of size size for tessera's fsck,
// refusing a bundle with fewer entries than the tree puts in it (the fsck would index
// past its end).
type sizedBundles struct {
	client.FileFetcher
	size uint64
}

func (f sizedBundles) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	b, err := f.FileFetcher.ReadEntryBundle(ctx, i, p)
	if err != nil {
		return nil, fmt.Errorf("entry bundle %s: %w", layout.EntriesPath(i, p), err)
	}
	var eb api.EntryBundle
	if err := eb.UnmarshalText(b); err != nil {
		return nil, fmt.Errorf("entry bundle %s: %w", layout.EntriesPath(i, p), err)
	}
	if len(eb.Entries) < widthOf(p) {
		return nil, fmt.Errorf("entry bundle %s holds %d entries, want %d", layout.EntriesPath(i, p), len(eb.Entries), widthOf(p))
	}
	return b, nil
}

// levelZeroTiles shows tessera's fsck the level-0 hash tiles in place of the entry
// bundles, and tileHashes returns their hashes as the leaf hashes: the fsck then
// recomputes every tile above level 0, and the root, from the level-0 tiles alone,
// whatever the entry bundles hold.
type levelZeroTiles struct{ client.FileFetcher }

func (f levelZeroTiles) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	b, err := f.ReadTile(ctx, 0, i, p)
	if err != nil {
		return nil, fmt.Errorf("tile %s: %w", layout.TilePath(0, i, p), err)
	}
	if len(b)%rfc6962.DefaultHasher.Size() != 0 || len(b)/rfc6962.DefaultHasher.Size() < widthOf(p) {
		return nil, fmt.Errorf("tile %s holds %d bytes, want %d hashes", layout.TilePath(0, i, p), len(b), widthOf(p))
	}
	return b, nil
}

func tileHashes(data []byte) ([][]byte, error) {
	var t api.HashTile
	if err := t.UnmarshalText(data); err != nil {
		return nil, err
	}
	return t.Nodes, nil
}

// checkTiles checks that the tiles of the tree of size size recompute to the root of
// the directory's checkpoint, from the level-0 tiles up. If they do not, it returns
// the tiles above level 0 found missing or wrong (the level-0 tiles are scanFiles's)
// and why they do not recompute.
func checkTiles(ctx context.Context, v note.Verifier, dir string, size uint64) ([]FileDamage, error) {
	f := fsck.New(v.Name(), v, levelZeroTiles{client.FileFetcher{Root: dir}}, tileHashes, fsck.Opts{N: fsckWorkers})
	err := f.Check(ctx)
	if err == nil {
		return nil, nil
	}
	var tiles []FileDamage
	for level, ranges := range f.Status().TileRanges {
		if level == 0 {
			continue
		}
		for _, rg := range ranges {
			if rg.State != fsck.Invalid && rg.State != fsck.FetchError {
				continue
			}
			for idx := rg.First; idx < rg.First+rg.N; idx++ {
				tiles = append(tiles, tileDamage(dir, uint64(level), idx, size, rg.State))
			}
		}
	}
	return tiles, fmt.Errorf("the tiles do not recompute to the checkpoint's root: %s", firstLine(err.Error()))
}

// tileDamage describes tile (level, idx) of the tree of size size, found in state.
func tileDamage(dir string, level, idx, size uint64, state fsck.State) FileDamage {
	path := layout.TilePath(level, idx, layout.PartialTileSize(level, idx, size))
	if state == fsck.Invalid {
		return FileDamage{Path: path, Reason: "does not recompute from the tiles below it"}
	}
	if _, err := os.Stat(filepath.Join(dir, path)); errors.Is(err, os.ErrNotExist) {
		return FileDamage{Path: path, Missing: true, Reason: "is missing"}
	}
	return FileDamage{Path: path, Reason: "cannot be read"}
}

// mismatch is an entry bundle and the level-0 tile above it that disagree: the entry
// at leaf does not hash to the tile's hash for it. One of the two files is wrong.
type mismatch struct {
	bundle, tile string
	first, n     uint64
	leaf         uint64
}

// scanFiles compares every entry bundle of the tree of size size with the level-0
// tile above it, reading the files themselves so that it can name them. It returns
// the bundles and the level-0 tiles that are missing, do not parse or hold another
// number of entries than their place in the tree, and the pairs that disagree.
func scanFiles(ctx context.Context, dir string, size uint64) (bundles, tiles []FileDamage, disagree []mismatch, err error) {
	for i := uint64(0); i*layout.EntryBundleWidth < size; i++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		p := layout.PartialTileSize(0, i, size)
		first, n := i*layout.EntryBundleWidth, uint64(widthOf(p))
		bh, bd := readBundleHashes(dir, i, p)
		th, td := readTileHashes(dir, i, p)
		if bd != nil {
			bd.First, bd.N = first, n
			bundles = append(bundles, *bd)
		}
		if td != nil {
			td.First, td.N = first, n
			tiles = append(tiles, *td)
		}
		if bd != nil || td != nil {
			continue
		}
		for k := range bh {
			if !bytes.Equal(bh[k], th[k]) {
				disagree = append(disagree, mismatch{bundle: layout.EntriesPath(i, p), tile: layout.TilePath(0, i, p), first: first, n: n, leaf: first + uint64(k)})
				break
			}
		}
	}
	return bundles, tiles, disagree, nil
}

// readBundleHashes reads entry bundle i of a tree whose bundle i holds widthOf(p)
// entries, and returns their leaf hashes, or what is wrong with it.
func readBundleHashes(dir string, i uint64, p uint8) ([][]byte, *FileDamage) {
	data, path, d := readPartialOrFull(dir, layout.EntriesPath(i, p), layout.EntriesPath(i, 0))
	if d != nil {
		return nil, d
	}
	var b api.EntryBundle
	if err := b.UnmarshalText(data); err != nil {
		return nil, &FileDamage{Path: path, Reason: "does not parse: " + err.Error()}
	}
	if want := wantIn(path, p); len(b.Entries) != want {
		return nil, &FileDamage{Path: path, Reason: fmt.Sprintf("holds %d entries, want %d", len(b.Entries), want)}
	}
	hashes := make([][]byte, widthOf(p))
	for k := range hashes {
		hashes[k] = rfc6962.DefaultHasher.HashLeaf(b.Entries[k])
	}
	return hashes, nil
}

// readTileHashes reads level-0 tile i of a tree whose tile i holds widthOf(p) hashes.
func readTileHashes(dir string, i uint64, p uint8) ([][]byte, *FileDamage) {
	data, path, d := readPartialOrFull(dir, layout.TilePath(0, i, p), layout.TilePath(0, i, 0))
	if d != nil {
		return nil, d
	}
	hs := rfc6962.DefaultHasher.Size()
	if want := wantIn(path, p); len(data) != want*hs {
		return nil, &FileDamage{Path: path, Reason: fmt.Sprintf("holds %d bytes, want %d hashes of %d bytes", len(data), want, hs)}
	}
	hashes, _ := tileHashes(data)
	return hashes[:widthOf(p)], nil
}

// readPartialOrFull reads the file partial, or full if partial does not exist (as
// tessera's readers do: a bundle or tile that filled up is kept at its full path). It
// returns the bytes and the path read, or the damage: missing, or unreadable.
func readPartialOrFull(dir, partial, full string) ([]byte, string, *FileDamage) {
	path := partial
	b, err := os.ReadFile(filepath.Join(dir, path))
	if errors.Is(err, os.ErrNotExist) && partial != full {
		path = full
		b, err = os.ReadFile(filepath.Join(dir, path))
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, partial, &FileDamage{Path: partial, Missing: true, Reason: "is missing"}
	case err != nil:
		return nil, path, &FileDamage{Path: path, Reason: "cannot be read: " + err.Error()}
	}
	return b, path, nil
}

// widthOf is the number of entries of a bundle (or hashes of a tile) of partial size p
// (0: full).
func widthOf(p uint8) int {
	if p == 0 {
		return layout.EntryBundleWidth
	}
	return int(p)
}

// wantIn is how many entries the file at path must hold: a partial file exactly p, a
// full one a full bundle.
func wantIn(path string, p uint8) int {
	if strings.Contains(path, ".p/") {
		return int(p)
	}
	return layout.EntryBundleWidth
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// ErrReadOnly is the error of ReadOnly.Append.
var ErrReadOnly = errors.New("tesseralog: the log is open read-only")

// ReadOnly is a log directory opened for reading only, at the checkpoint Check
// verified (CheckReport.Found): a ledger.Log whose Append fails with ErrReadOnly, and
// a ledger.LeafReader. It takes no lock, writes nothing and signs nothing, and serves
// leaves only once they are proven to belong to that checkpoint. It is safe for
// concurrent use; the gateway must not run on the directory meanwhile (it removes
// partial tiles as the log grows).
type ReadOnly struct {
	files client.FileFetcher
	cp    ledger.Checkpoint
}

var (
	_ ledger.Log        = (*ReadOnly)(nil)
	_ ledger.LeafReader = (*ReadOnly)(nil)
)

// ReadOnly opens the checked directory for reading; its damage if it is damaged.
func (r *CheckReport) ReadOnly() (*ReadOnly, error) {
	if r.Damage != nil {
		return nil, r.Damage
	}
	return &ReadOnly{files: client.FileFetcher{Root: r.Dir}, cp: r.Found}, nil
}

// Append implements ledger.Log: it fails with ErrReadOnly.
func (l *ReadOnly) Append(context.Context, []byte) (uint64, ledger.Checkpoint, error) {
	return 0, ledger.Checkpoint{}, ErrReadOnly
}

// Checkpoint implements ledger.Log: the checkpoint Check verified; ledger.ErrNotFound
// if the directory holds none.
func (l *ReadOnly) Checkpoint(context.Context) (ledger.Checkpoint, error) {
	if l.cp.Note == nil {
		return ledger.Checkpoint{}, fmt.Errorf("the log directory %s holds no checkpoint: %w", l.files.Root, ledger.ErrNotFound)
	}
	return l.cp, nil
}

// InclusionProof implements ledger.Log.
func (l *ReadOnly) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if size > l.cp.Size {
		return nil, fmt.Errorf("tree size %d is beyond the checkpoint's %d: %w", size, l.cp.Size, ledger.ErrBadSize)
	}
	pb, err := client.NewProofBuilder(ctx, size, l.files.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("reading tiles of tree %d: %w", size, err)
	}
	return pb.InclusionProof(ctx, index)
}

// ConsistencyProof implements ledger.Log.
func (l *ReadOnly) ConsistencyProof(ctx context.Context, from, to uint64) ([][]byte, error) {
	if to > l.cp.Size {
		return nil, fmt.Errorf("tree size %d is beyond the checkpoint's %d: %w", to, l.cp.Size, ledger.ErrBadSize)
	}
	pb, err := client.NewProofBuilder(ctx, to, l.files.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("reading tiles of tree %d: %w", to, err)
	}
	return pb.ConsistencyProof(ctx, from, to)
}

// Leaves implements ledger.LeafReader, reading the entry bundles; leaves that are not
// in the checkpoint's tree are a *DamageError.
func (l *ReadOnly) Leaves(ctx context.Context, start, count, treeSize uint64) ([][]byte, error) {
	if count == 0 || start+count > treeSize {
		return nil, fmt.Errorf("leaves [%d, %d) outside the tree of size %d", start, start+count, treeSize)
	}
	if treeSize > l.cp.Size {
		return nil, fmt.Errorf("tree size %d is beyond the checkpoint's %d: %w", treeSize, l.cp.Size, ledger.ErrBadSize)
	}
	leaves, err := readLeaves(ctx, l.files, start, start+count, l.cp.Size)
	if err != nil {
		return nil, &DamageError{Kind: DamageCorrupt, Detail: err.Error(), Found: l.cp.Note}
	}
	if err := verifyLeaves(ctx, l.files, start, leaves, l.cp.Size, l.cp.Hash); err != nil {
		return nil, &DamageError{Kind: DamageCorrupt, Detail: err.Error(), Found: l.cp.Note}
	}
	return leaves, nil
}
