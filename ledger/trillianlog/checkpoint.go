package trillianlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/storage"
)

// checkpointPrefix is where signed checkpoints live in the store. Names carry the tree
// size on 20 digits, so the bytewise order of List is the numeric order.
const checkpointPrefix = "checkpoints/"

func checkpointName(size uint64) string { return fmt.Sprintf("%s%020d", checkpointPrefix, size) }

// checkpoint is a signed checkpoint and the root it commits to.
type checkpoint struct {
	size uint64
	hash []byte
	note []byte // the C2SP signed note
}

// publish returns the signed checkpoint for Trillian's root (size, hash), by the rules
// of the package doc: the checkpoint stored for size if there is one and it commits to
// hash, else a new one, stored write-once before it is returned. The caller has checked
// that the root is consistent with the last signed checkpoint.
func (l *Log) publish(ctx context.Context, size uint64, hash []byte) (*checkpoint, error) {
	body := log.Checkpoint{Origin: l.origin, Size: size, Hash: hash}.Marshal()
	name := checkpointName(size)
	stored, err := l.readCheckpoint(ctx, name)
	switch {
	case err == nil:
		return adopt(stored, body)
	case !errors.Is(err, storage.ErrNotFound):
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: string(body)}, l.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("signing checkpoint %d: %w", size, err)
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := l.cfg.Store.Create(sctx, name, bytes.NewReader(signed)); err != nil {
		if !errors.Is(err, storage.ErrExists) {
			return nil, fmt.Errorf("storing checkpoint %d: %w", size, err)
		}
		// Another replica stored its checkpoint for size first. Ours is discarded
		// unpublished: only the stored one is ever used.
		if stored, err = l.readCheckpoint(ctx, name); err != nil {
			return nil, err
		}
		return adopt(stored, body)
	}
	return &checkpoint{size: size, hash: hash, note: signed}, nil
}

// adopt returns the stored checkpoint if it commits to the same root as body.
func adopt(stored *checkpoint, body []byte) (*checkpoint, error) {
	var want log.Checkpoint
	if _, err := want.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("parsing own checkpoint: %w", err)
	}
	if !bytes.Equal(stored.hash, want.Hash) {
		return nil, &ConflictingCheckpointError{Size: stored.size, Stored: stored.note, Proposed: body}
	}
	return stored, nil
}

// readCheckpoint reads and verifies the checkpoint stored under name. ErrNotFound (from
// the store) if there is none.
func (l *Log) readCheckpoint(ctx context.Context, name string) (*checkpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	rc, _, err := l.cfg.Store.Open(ctx, name, "")
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCheckpointSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint %s: %w", name, err)
	}
	if len(b) > maxCheckpointSize {
		return nil, fmt.Errorf("reading checkpoint %s: larger than %d bytes", name, maxCheckpointSize)
	}
	cp, _, _, err := log.ParseCheckpoint(b, l.origin, l.cfg.Verifier)
	if err != nil {
		return nil, fmt.Errorf("stored checkpoint %s: %w", name, err)
	}
	if checkpointName(cp.Size) != name {
		return nil, fmt.Errorf("stored checkpoint %s has tree size %d", name, cp.Size)
	}
	return &checkpoint{size: cp.Size, hash: cp.Hash, note: b}, nil
}

// loadLatest reads the highest checkpoint in the store; nil if there is none.
func (l *Log) loadLatest(ctx context.Context) (*checkpoint, error) {
	names, err := l.cfg.Store.List(ctx, checkpointPrefix)
	if err != nil {
		return nil, fmt.Errorf("listing stored checkpoints: %w", err)
	}
	for i := len(names) - 1; i >= 0; i-- {
		digits := strings.TrimPrefix(names[i], checkpointPrefix)
		if len(digits) != 20 {
			continue
		}
		if _, err := strconv.ParseUint(digits, 10, 64); err != nil {
			continue
		}
		return l.readCheckpoint(ctx, names[i])
	}
	return nil, nil
}
