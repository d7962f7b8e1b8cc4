package trillianlog

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// A batch is the leaves integrated between two roots the follower scanned: the tree of
// size begin, known by its peaks (the compact range [0, begin)), and the hashes of
// leaves [begin, end). It is enough to compute the root of the tree of size end and
// the inclusion proof of every leaf of the batch in it (RFC 6962 2.1.1): a node of such
// a proof lies either inside [begin, end) or is a peak of [0, begin).
//
// The follower checks each batch's root against Trillian's before signing, so the
// gateway never signs a root that the leaves it read do not hash to, and serves the
// appends' inclusion proofs without asking Trillian.
type batch struct {
	begin, end uint64

	mu    sync.Mutex
	nodes map[[2]uint64][]byte // hash of the RFC 6962 subtree [lo, hi)
}

// peaks is the compact range [0, size): the hashes of compact.RangeNodes(0, size).
type peaks struct {
	size   uint64
	hashes [][]byte
}

func newBatch(p peaks) *batch {
	b := &batch{begin: p.size, end: p.size, nodes: make(map[[2]uint64][]byte)}
	for i, id := range compact.RangeNodes(0, p.size, nil) {
		lo, hi := id.Coverage()
		b.nodes[[2]uint64{lo, hi}] = p.hashes[i]
	}
	return b
}

// seedPeaks returns the peaks of [0, size) from the inclusion proof of the tree's last
// leaf and that leaf's hash: the proof's nodes are the peaks of [0, size-1), bottom up.
func seedPeaks(size uint64, lastProof [][]byte, lastLeaf []byte) (peaks, error) {
	if n := compact.RangeSize(0, size-1); len(lastProof) != n {
		return peaks{}, fmt.Errorf("inclusion proof of leaf %d in tree %d has %d hashes, want %d", size-1, size, len(lastProof), n)
	}
	hashes := slices.Clone(lastProof)
	slices.Reverse(hashes)
	b := newBatch(peaks{size: size - 1, hashes: hashes})
	b.add(lastLeaf)
	return b.peaks()
}

// add appends a leaf hash.
func (b *batch) add(leafHash []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nodes[[2]uint64{b.end, b.end + 1}] = leafHash
	b.end++
}

// root returns the root hash of the tree of size end.
func (b *batch) root() ([]byte, error) {
	if b.end == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.node(0, b.end)
}

// peaks returns the compact range [0, end), to start the next batch.
func (b *batch) peaks() (peaks, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := peaks{size: b.end}
	for _, id := range compact.RangeNodes(0, b.end, nil) {
		lo, hi := id.Coverage()
		h, err := b.node(lo, hi)
		if err != nil {
			return peaks{}, err
		}
		p.hashes = append(p.hashes, h)
	}
	return p, nil
}

// inclusion returns the RFC 6962 inclusion proof of leaf index in the tree of size end.
func (b *batch) inclusion(index uint64) ([][]byte, error) {
	if index < b.begin || index >= b.end {
		return nil, fmt.Errorf("leaf %d is not in batch [%d, %d)", index, b.begin, b.end)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	proof := make([][]byte, 0, bits.Len64(b.end))
	for lo, hi := uint64(0), b.end; hi-lo > 1; {
		k := split(hi - lo)
		var sib []byte
		var err error
		if index < lo+k {
			sib, err = b.node(lo+k, hi)
			hi = lo + k
		} else {
			sib, err = b.node(lo, lo+k)
			lo += k
		}
		if err != nil {
			return nil, err
		}
		proof = append(proof, sib)
	}
	slices.Reverse(proof) // PATH lists the deepest sibling first
	return proof, nil
}

var errUnknownNode = errors.New("subtree is neither in the batch nor a peak before it")

// node returns the hash of subtree [lo, hi) (RFC 6962 2.1 MTH), memoised. b.mu is held.
func (b *batch) node(lo, hi uint64) ([]byte, error) {
	if h, ok := b.nodes[[2]uint64{lo, hi}]; ok {
		return h, nil
	}
	if hi-lo <= 1 {
		return nil, fmt.Errorf("hash of leaves [%d, %d): %w", lo, hi, errUnknownNode)
	}
	k := split(hi - lo)
	left, err := b.node(lo, lo+k)
	if err != nil {
		return nil, err
	}
	right, err := b.node(lo+k, hi)
	if err != nil {
		return nil, err
	}
	h := rfc6962.DefaultHasher.HashChildren(left, right)
	b.nodes[[2]uint64{lo, hi}] = h
	return h, nil
}

// split returns the largest power of two smaller than n (n > 1).
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }
