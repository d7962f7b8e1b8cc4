package tesseralog

import (
	"context"
)

// checkStart checks the log directory against the newest checkpoint the gateway
// published (in the checkpoint store) before the log opens: see the package doc and
// Check, which runs the same checks. It then starts the guard from the directory's
// checkpoint, and stores that checkpoint if it is newer than the stored ones.
func (l *Log) checkStart(ctx context.Context) error {
	r, err := inspect(ctx, l.cfg.Dir, l.cfg.Verifier, l.cfg.Checkpoints)
	if err != nil {
		return err
	}
	if r.Damage != nil {
		return r.Damage
	}
	stored, found := r.Stored, r.Found
	l.signed, l.published = root{size: found.Size, hash: found.Hash}, found
	if found.Note == nil {
		l.signed.hash = nil // a fresh log: Tessera signs its empty tree first
	}
	if stored.Note != nil {
		l.persisted = stored.Size
	}
	if found.Note != nil && found.Size > stored.Size {
		return l.persist(ctx, found)
	}
	return nil
}
