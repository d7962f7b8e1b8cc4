package trillianlog

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/trillian"
	"github.com/transparency-dev/merkle/rfc6962"
)

// scan reads the leaves integrated since the last scan, up to r's size, gives each
// waiting append its index and checks that the leaves hash to r's root. It returns the
// batch read, or nil if no append waited: then nothing is read, as any leaf queued
// later lands at or after r's size.
func (l *Log) scan(ctx context.Context, r root) (*batch, error) {
	l.mu.Lock()
	start := l.scanned
	idle := len(l.pending) == 0
	if idle && start < r.size {
		l.scanned = r.size
	}
	l.mu.Unlock()
	if start >= r.size {
		return nil, nil
	}
	if idle {
		l.known = nil
		return nil, nil
	}
	b, hashes, err := l.read(ctx, start, r)
	if err != nil {
		l.known = nil // seed again next time
		return nil, err
	}
	l.match(start, hashes)
	return b, nil
}

// read reads leaves [start, r.size) into a batch and checks that they hash to r's root.
// It returns the batch and the leaf hashes.
func (l *Log) read(ctx context.Context, start uint64, r root) (*batch, [][]byte, error) {
	if l.known == nil || l.known.size != start {
		p, err := l.seed(ctx, start)
		if err != nil {
			return nil, nil, err
		}
		l.known = &p
	}
	b := newBatch(*l.known)
	hashes := make([][]byte, 0, r.size-start)
	for pos := start; pos < r.size; pos = start + uint64(len(hashes)) {
		leaves, err := l.leaves(ctx, pos, min(r.size-pos, leavesPerRequest))
		if err != nil {
			return nil, nil, err
		}
		for _, lf := range leaves {
			// Hashed here rather than trusted from the response.
			h := rfc6962.DefaultHasher.HashLeaf(lf.GetLeafValue())
			b.add(h)
			hashes = append(hashes, h)
		}
	}
	got, err := b.root()
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(got, r.hash) {
		return nil, nil, fmt.Errorf("trillianlog: trillian tree %d: leaves [%d, %d) hash to root %x, trillian's root is %x: %w",
			l.cfg.TreeID, start, r.size, got, r.hash, ErrSecurity)
	}
	p, err := b.peaks()
	if err != nil {
		return nil, nil, err
	}
	l.known = &p
	return b, hashes, nil
}

// seed returns the compact range [0, size), from the inclusion proof of leaf size-1.
func (l *Log) seed(ctx context.Context, size uint64) (peaks, error) {
	if size == 0 {
		return peaks{}, nil
	}
	leaves, err := l.leaves(ctx, size-1, 1)
	if err != nil {
		return peaks{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := l.client.GetInclusionProof(rctx, &trillian.GetInclusionProofRequest{
		LogId: l.cfg.TreeID, LeafIndex: int64(size - 1), TreeSize: int64(size)})
	if err != nil {
		return peaks{}, fmt.Errorf("inclusion proof of leaf %d in tree %d of trillian tree %d: %w", size-1, size, l.cfg.TreeID, err)
	}
	if resp.GetProof() == nil {
		return peaks{}, fmt.Errorf("inclusion proof of leaf %d in tree %d: trillian tree %d is smaller", size-1, size, l.cfg.TreeID)
	}
	return seedPeaks(size, resp.GetProof().GetHashes(), rfc6962.DefaultHasher.HashLeaf(leaves[0].GetLeafValue()))
}

func (l *Log) leaves(ctx context.Context, start, count uint64) ([]*trillian.LogLeaf, error) {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := l.client.GetLeavesByRange(rctx, &trillian.GetLeavesByRangeRequest{
		LogId: l.cfg.TreeID, StartIndex: int64(start), Count: int64(count)})
	if err != nil {
		return nil, fmt.Errorf("reading leaves [%d, %d) of trillian tree %d: %w", start, start+count, l.cfg.TreeID, err)
	}
	leaves := resp.GetLeaves()
	if len(leaves) == 0 || uint64(len(leaves)) > count {
		return nil, fmt.Errorf("reading leaves [%d, %d) of trillian tree %d: got %d leaves", start, start+count, l.cfg.TreeID, len(leaves))
	}
	for i, lf := range leaves {
		if lf.GetLeafIndex() != int64(start)+int64(i) {
			return nil, fmt.Errorf("reading leaves of trillian tree %d: leaf %d has index %d", l.cfg.TreeID, start+uint64(i), lf.GetLeafIndex())
		}
	}
	return leaves, nil
}

// match gives the appends waiting for the leaves with these hashes, from index start,
// their index, and moves the scan past them.
func (l *Log) match(start uint64, hashes [][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, h := range hashes {
		for _, w := range l.pending[string(h)] {
			w.index = start + uint64(i)
			l.located[w] = struct{}{}
		}
		delete(l.pending, string(h))
	}
	l.scanned = start + uint64(len(hashes))
}
