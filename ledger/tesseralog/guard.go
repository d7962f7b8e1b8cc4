package tesseralog

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// guardTimeout bounds the reading back of new entries before a checkpoint is signed.
const guardTimeout = 30 * time.Second

// guard is the note.Signer Tessera signs checkpoints with: before it lets the log's key
// sign a root, it checks that the root extends the last root it signed with exactly the
// entries the entry bundles hold (see the package doc).
type guard struct {
	note.Signer
	log *Log
}

// Sign implements note.Signer. msg is the checkpoint body Tessera wants signed.
func (g *guard) Sign(msg []byte) ([]byte, error) {
	var cp log.Checkpoint
	if _, err := cp.Unmarshal(msg); err != nil {
		return nil, fmt.Errorf("refusing to sign: %w", err)
	}
	if err := g.log.approve(cp.Size, cp.Hash); err != nil {
		return nil, err
	}
	return g.Signer.Sign(msg)
}

// approve checks a root before it is signed, and records it as signed.
func (l *Log) approve(size uint64, hash []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refusal != nil {
		return l.refusal
	}
	last := l.signed
	var err error
	switch {
	case size < last.size:
		err = &DamageError{Kind: DamageRollback, Published: l.published.Note,
			Detail: fmt.Sprintf("asked to sign a root of size %d after one of size %d", size, last.size)}
	case size == last.size && last.hash != nil && !bytes.Equal(hash, last.hash):
		err = &DamageError{Kind: DamageFork, Published: l.published.Note,
			Detail: fmt.Sprintf("asked to sign a second root for tree size %d", size)}
	case size == 0 && !bytes.Equal(hash, rfc6962.DefaultHasher.EmptyRoot()):
		err = &DamageError{Kind: DamageCorrupt, Detail: "asked to sign an empty tree with a non-empty root"}
	case size > last.size:
		err = l.recompute(last, size, hash)
	}
	if err != nil {
		l.refuseLocked(err)
		return err
	}
	l.signed = root{size: size, hash: hash}
	l.recent = append(l.recent, l.signed)
	if len(l.recent) > keptSignedRoots {
		l.recent = l.recent[len(l.recent)-keptSignedRoots:]
	}
	return nil
}

// keptSignedRoots is how many recently signed roots a published checkpoint is matched
// against.
const keptSignedRoots = 64

// signedLocked reports whether the guard signed root (size, hash) lately. l.mu is held.
func (l *Log) signedLocked(size uint64, hash []byte) bool {
	for _, r := range l.recent {
		if r.size == size && bytesEqual(r.hash, hash) {
			return true
		}
	}
	return size == l.signed.size && bytesEqual(hash, l.signed.hash)
}

// recompute checks a new root against the last one signed: the tiles must prove that
// it extends it, and every new entry, read back from the entry bundles, must be in it.
func (l *Log) recompute(last root, size uint64, hash []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), guardTimeout)
	defer cancel()
	err := verifyExtension(ctx, l.files, last.size, last.hash, size, hash)
	if err == nil {
		var leaves [][]byte
		if leaves, err = readLeaves(ctx, l.files, last.size, size, size); err == nil {
			err = verifyLeaves(ctx, l.files, last.size, leaves, size, hash)
		}
	}
	if err != nil {
		return &DamageError{Kind: DamageCorrupt, Published: l.published.Note,
			Detail: fmt.Sprintf("refusing to sign the root of size %d: %v", size, err)}
	}
	return nil
}

// refuse stops the log signing for good: every waiting and later append fails with
// err.
func (l *Log) refuse(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refuseLocked(err)
}

func (l *Log) refuseLocked(err error) {
	if l.refusal != nil {
		return
	}
	l.refusal = err
	close(l.refused)
	l.cfg.Logger.Error("custody log damaged: refusing to sign", "err", err)
}

func bytesEqual(a, b []byte) bool { return bytes.Equal(a, b) }
