package trillianlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// checkpoint is a signed checkpoint and the root it commits to.
type checkpoint struct {
	size uint64
	hash []byte
	note []byte // the C2SP signed note
}

// parsed returns the checkpoint as the ledger takes it.
func (c *checkpoint) parsed(origin string) ledger.Checkpoint {
	return ledger.Checkpoint{Checkpoint: log.Checkpoint{Origin: origin, Size: c.size, Hash: c.hash}, Note: c.note}
}

// publish returns the signed checkpoint for Trillian's root (size, hash), by the rules
// of the package doc: the checkpoint stored for size if there is one and it commits to
// hash, else a new one, stored write-once before it is returned. The caller has checked
// that the root is consistent with the last signed checkpoint.
func (l *Log) publish(ctx context.Context, size uint64, hash []byte) (*checkpoint, error) {
	body := log.Checkpoint{Origin: l.origin, Size: size, Hash: hash}.Marshal()
	stored, err := l.readCheckpoint(ctx, size)
	switch {
	case err == nil:
		return l.adopt(stored, body)
	case !errors.Is(err, ledger.ErrNotFound):
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: string(body)}, l.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("signing checkpoint %d: %w", size, err)
	}
	if l.cfg.Witnesses != nil {
		// Nothing is stored, so nothing published, before the quorum cosigned.
		if signed, err = l.cfg.Witnesses.Cosign(ctx, signed, size, l.ConsistencyProof); err != nil {
			return nil, err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := l.cfg.Checkpoints.Put(sctx, size, signed); err != nil {
		if !errors.Is(err, ledger.ErrConflict) {
			return nil, fmt.Errorf("storing checkpoint %d: %w", size, err)
		}
		// Another replica stored its checkpoint for size first. Ours is discarded
		// unpublished: only the stored one is ever used.
		if stored, err = l.readCheckpoint(ctx, size); err != nil {
			return nil, err
		}
		return l.adopt(stored, body)
	}
	return &checkpoint{size: size, hash: hash, note: signed}, nil
}

// adopt returns the stored checkpoint if it commits to the same root as body and, with
// witnesses, carries their quorum's cosignatures (another replica stored it).
func (l *Log) adopt(stored *checkpoint, body []byte) (*checkpoint, error) {
	var want log.Checkpoint
	if _, err := want.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("parsing own checkpoint: %w", err)
	}
	if !bytes.Equal(stored.hash, want.Hash) {
		return nil, &ConflictingCheckpointError{Size: stored.size, Stored: stored.note, Proposed: body}
	}
	if l.cfg.Witnesses != nil && !l.cfg.Witnesses.Satisfied(stored.note) {
		return nil, &ledger.WitnessQuorumError{Size: stored.size, Refusals: []ledger.WitnessRefusal{{Witness: "(stored checkpoint)",
			Detail: "the checkpoint stored for this size lacks the quorum's cosignatures: a replica without witnesses signed it"}}}
	}
	return stored, nil
}

// readCheckpoint reads and verifies the checkpoint stored for size. ledger.ErrNotFound
// if there is none.
func (l *Log) readCheckpoint(ctx context.Context, size uint64) (*checkpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	b, err := l.cfg.Checkpoints.Get(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint %d: %w", size, err)
	}
	cp, err := l.verify(b)
	if err != nil {
		return nil, err
	}
	if cp.size != size {
		return nil, fmt.Errorf("stored checkpoint %d has tree size %d", size, cp.size)
	}
	return cp, nil
}

// verify checks a stored checkpoint against the log's own key.
func (l *Log) verify(b []byte) (*checkpoint, error) {
	if len(b) > maxCheckpointSize {
		return nil, fmt.Errorf("stored checkpoint larger than %d bytes", maxCheckpointSize)
	}
	cp, _, _, err := log.ParseCheckpoint(b, l.origin, l.cfg.Verifier)
	if err != nil {
		return nil, fmt.Errorf("stored checkpoint: %w", err)
	}
	return &checkpoint{size: cp.Size, hash: cp.Hash, note: b}, nil
}

// loadLatest reads the newest stored checkpoint; nil if there is none.
func (l *Log) loadLatest(ctx context.Context) (*checkpoint, error) {
	b, err := l.cfg.Checkpoints.Latest(ctx)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the newest stored checkpoint: %w", err)
	}
	return l.verify(b)
}
