package tesseralog

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/tessera/fsck"

	"github.com/evidencegw/evidencegw/ledger"
)

// checkStart checks the log directory against the newest checkpoint the gateway
// published (in the checkpoint store) before the log opens: see the package doc.
func (l *Log) checkStart(ctx context.Context) error {
	stored, err := l.newestStored(ctx)
	if err != nil {
		return err
	}
	raw, err := l.checkpointFile()
	if err != nil {
		return fmt.Errorf("reading the log's checkpoint: %w", err)
	}
	var found ledger.Checkpoint
	if raw != nil {
		if found, err = l.open(raw); err != nil {
			return &DamageError{Kind: DamageCorrupt, Found: raw, Published: stored.Note,
				Detail: "the log's checkpoint file does not verify with the gateway's key: " + err.Error()}
		}
	}
	switch {
	case stored.Note != nil && raw == nil:
		return &DamageError{Kind: DamageRollback, Published: stored.Note,
			Detail: fmt.Sprintf("the log directory %s holds no checkpoint, but the gateway published one of size %d", l.cfg.Dir, stored.Size)}
	case found.Size < stored.Size:
		return &DamageError{Kind: DamageRollback, Published: stored.Note, Found: raw,
			Detail: fmt.Sprintf("the log holds %d entries, but the gateway published a checkpoint of size %d: the directory was restored from an older copy or truncated", found.Size, stored.Size)}
	case stored.Note != nil && found.Size == stored.Size && !bytes.Equal(found.Hash, stored.Hash):
		return &DamageError{Kind: DamageFork, Published: stored.Note, Found: raw,
			Detail: fmt.Sprintf("the log's root for tree size %d is not the one the gateway published", found.Size)}
	}
	if found.Size > 0 {
		if err := l.fsck(ctx); err != nil {
			return &DamageError{Kind: DamageCorrupt, Published: stored.Note, Found: raw, Detail: err.Error()}
		}
	}
	if stored.Note != nil && found.Size > stored.Size {
		if err := verifyExtension(ctx, l.files, stored.Size, stored.Hash, found.Size, found.Hash); err != nil {
			return &DamageError{Kind: DamageFork, Published: stored.Note, Found: raw, Detail: err.Error()}
		}
	}
	l.signed, l.published = root{size: found.Size, hash: found.Hash}, found
	if raw == nil {
		l.signed.hash = nil // a fresh log: Tessera signs its empty tree first
	}
	if stored.Note != nil {
		l.persisted = stored.Size
	}
	if raw != nil && found.Size > stored.Size {
		return l.persist(ctx, found)
	}
	return nil
}

// newestStored reads and verifies the newest checkpoint in the checkpoint store; a
// zero Checkpoint if there is none.
func (l *Log) newestStored(ctx context.Context) (ledger.Checkpoint, error) {
	raw, err := l.cfg.Checkpoints.Latest(ctx)
	if errors.Is(err, ledger.ErrNotFound) {
		return ledger.Checkpoint{}, nil
	}
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("reading the newest published checkpoint: %w", err)
	}
	cp, err := l.open(raw)
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("the newest checkpoint in the checkpoint store does not verify with the log's key: %w", err)
	}
	return cp, nil
}

// fsck recomputes every tile and the root of the log's checkpoint from its entry
// bundles, with Tessera's fsck.
func (l *Log) fsck(ctx context.Context) error {
	f := fsck.New(l.cfg.Signer.Name(), l.cfg.Verifier, l.files, hashBundle, fsck.Opts{N: fsckWorkers})
	if err := f.Check(ctx); err != nil {
		return fmt.Errorf("the log's tiles and entry bundles do not recompute to its checkpoint: %w", err)
	}
	return nil
}
