package trillianlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/trillian"

	"github.com/evidencegw/evidencegw/ledger"
)

// Checkpoint implements ledger.Log: it signs Trillian's current root first if it is
// newer than the last signed checkpoint, by the rules of the package doc.
func (l *Log) Checkpoint(ctx context.Context) (ledger.Checkpoint, error) {
	if err := l.refresh(ctx); err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("refreshing checkpoint of trillian tree %d: %w", l.cfg.TreeID, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signed == nil {
		return ledger.Checkpoint{}, errors.New("trillianlog: no checkpoint signed yet")
	}
	return l.signed.parsed(l.origin), nil
}

// InclusionProof implements ledger.Log.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("inclusion proof of leaf %d in tree %d: index out of range", index, size)
	}
	if b := l.batchOf(index, size); b != nil {
		if p, err := b.inclusion(index); err == nil {
			return p, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := l.client.GetInclusionProof(ctx, &trillian.GetInclusionProofRequest{
		LogId: l.cfg.TreeID, LeafIndex: int64(index), TreeSize: int64(size)})
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of leaf %d in tree %d of trillian tree %d: %w", index, size, l.cfg.TreeID, err)
	}
	if resp.GetProof() == nil {
		return nil, fmt.Errorf("inclusion proof of leaf %d in tree %d: trillian tree %d is smaller", index, size, l.cfg.TreeID)
	}
	return resp.GetProof().GetHashes(), nil
}

// ConsistencyProof implements ledger.Log.
func (l *Log) ConsistencyProof(ctx context.Context, from, to uint64) ([][]byte, error) {
	switch {
	case from > to:
		return nil, fmt.Errorf("consistency proof from tree %d to %d: sizes out of order", from, to)
	case from == 0 || from == to:
		return [][]byte{}, nil // RFC 9162 2.1.4: empty
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := l.client.GetConsistencyProof(ctx, &trillian.GetConsistencyProofRequest{
		LogId: l.cfg.TreeID, FirstTreeSize: int64(from), SecondTreeSize: int64(to)})
	if err != nil {
		return nil, fmt.Errorf("consistency proof from tree %d to %d of trillian tree %d: %w", from, to, l.cfg.TreeID, err)
	}
	if resp.GetProof() == nil {
		return nil, fmt.Errorf("consistency proof from tree %d to %d: trillian tree %d is smaller", from, to, l.cfg.TreeID)
	}
	return resp.GetProof().GetHashes(), nil
}

// batchOf returns the recent batch that ends at size and holds leaf index, if any.
func (l *Log) batchOf(index, size uint64) *batch {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.batches {
		if b.end == size && b.begin <= index {
			return b
		}
	}
	return nil
}

var _ ledger.LeafReader = (*Log)(nil)

// Leaves implements ledger.LeafReader with Trillian's GetLeavesByRange. Whoever reads
// them checks them against a signed checkpoint (custody.CheckCompleteness).
func (l *Log) Leaves(ctx context.Context, start, count, treeSize uint64) ([][]byte, error) {
	if count == 0 || start+count > treeSize {
		return nil, fmt.Errorf("leaves [%d, %d) outside the tree of size %d", start, start+count, treeSize)
	}
	out := make([][]byte, 0, count)
	for uint64(len(out)) < count {
		next := start + uint64(len(out))
		leaves, err := l.leaves(ctx, next, count-uint64(len(out)))
		if err != nil {
			return nil, err
		}
		for _, lf := range leaves {
			out = append(out, lf.GetLeafValue())
		}
	}
	return out, nil
}
