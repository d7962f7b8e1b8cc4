package ledgertest

import (
	"context"
	"fmt"
	"sync"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
)

// MemLog is an in-memory ledger.Log and ledger.LeafReader: every Append integrates the
// leaf at once and signs a checkpoint for the new size. It is a fake for fast tests;
// FailAppend injects faults. Safe for concurrent use.
type MemLog struct {
	signer note.Signer

	mu     sync.Mutex
	tree   *testonly.Tree
	leaves [][]byte
	latest ledger.Checkpoint

	// FailAppend, if set, is called before each Append; a non-nil error fails it and
	// adds nothing.
	FailAppend func(leaf []byte) error
}

var (
	_ ledger.Log        = (*MemLog)(nil)
	_ ledger.LeafReader = (*MemLog)(nil)
)

// NewMemLog returns an empty log whose checkpoints s signs; s.Name() is the origin.
func NewMemLog(s note.Signer) *MemLog {
	l := &MemLog{signer: s, tree: testonly.New(rfc6962.DefaultHasher)}
	l.latest = l.sign()
	return l
}

// sign signs a checkpoint of the current tree. Called with mu held, or before use.
func (l *MemLog) sign() ledger.Checkpoint {
	c := log.Checkpoint{Origin: l.signer.Name(), Size: l.tree.Size(), Hash: l.tree.Hash()}
	n, err := note.Sign(&note.Note{Text: string(c.Marshal())}, l.signer)
	if err != nil {
		panic(fmt.Sprintf("ledgertest: signing a checkpoint: %v", err))
	}
	return ledger.Checkpoint{Checkpoint: c, Note: n}
}

// Append implements ledger.Log.
func (l *MemLog) Append(ctx context.Context, leaf []byte) (uint64, ledger.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return 0, ledger.Checkpoint{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.FailAppend != nil {
		if err := l.FailAppend(leaf); err != nil {
			return 0, ledger.Checkpoint{}, err
		}
	}
	idx := l.tree.Size()
	l.tree.AppendData(leaf)
	l.leaves = append(l.leaves, append([]byte(nil), leaf...))
	l.latest = l.sign()
	return idx, l.latest, nil
}

// Checkpoint implements ledger.Log.
func (l *MemLog) Checkpoint(context.Context) (ledger.Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.latest, nil
}

// InclusionProof implements ledger.Log.
func (l *MemLog) InclusionProof(_ context.Context, index, size uint64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if index >= size || size > l.tree.Size() {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w", index, size, ledger.ErrBadSize)
	}
	return l.tree.InclusionProof(index, size)
}

// ConsistencyProof implements ledger.Log.
func (l *MemLog) ConsistencyProof(_ context.Context, from, to uint64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from > to || to > l.tree.Size() {
		return nil, fmt.Errorf("consistency proof from %d to %d: %w", from, to, ledger.ErrBadSize)
	}
	if from == 0 || from == to {
		return [][]byte{}, nil
	}
	return l.tree.ConsistencyProof(from, to)
}

// Leaves implements ledger.LeafReader.
func (l *MemLog) Leaves(_ context.Context, start, count, treeSize uint64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if count == 0 || start+count > treeSize || treeSize > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("leaves [%d, %d) of tree %d: %w", start, start+count, treeSize, ledger.ErrBadSize)
	}
	out := make([][]byte, count)
	for i := range out {
		out[i] = append([]byte(nil), l.leaves[start+uint64(i)]...)
	}
	return out, nil
}
