package tesseralog

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
)

// This file checks what the log's files say against roots the gateway already verified.
// Tiles and entry bundles are files anyone with the disk may edit: they are trusted only
// once they lead to a verified root. Proofs are built from the tiles of the newest tree
// only: Tessera removes the partial tiles of smaller trees.

// fetcher reads the log's files.
type fetcher interface {
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// verifyLeaves checks that leaves are the leaves [start, start+len(leaves)) of the tree
// of size size and root root, a root already verified: each must have an inclusion
// proof, built from the tiles of that tree, that leads to root. A corrupted tile or
// leaf fails, short of a SHA-256 collision.
func verifyLeaves(ctx context.Context, f fetcher, start uint64, leaves [][]byte, size uint64, root []byte) error {
	end := start + uint64(len(leaves))
	if end > size {
		return fmt.Errorf("leaves [%d, %d) beyond the tree of size %d", start, end, size)
	}
	if len(leaves) == 0 {
		return nil
	}
	pb, err := client.NewProofBuilder(ctx, size, f.ReadTile)
	if err != nil {
		return fmt.Errorf("reading the tiles of tree %d: %w", size, err)
	}
	for i, leaf := range leaves {
		idx := start + uint64(i)
		hashes, err := pb.InclusionProof(ctx, idx)
		if err != nil {
			return fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", idx, size, err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, idx, size, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, root); err != nil {
			return fmt.Errorf("leaf %d, as its entry bundle holds it, is not in the tree of size %d: %w", idx, size, err)
		}
	}
	return nil
}

// verifyExtension checks, with a consistency proof built from the tiles of the tree of
// size size, that its root hash extends the verified root (from, prev).
func verifyExtension(ctx context.Context, f fetcher, from uint64, prev []byte, size uint64, hash []byte) error {
	if from == 0 {
		return nil // every tree extends the empty one
	}
	pb, err := client.NewProofBuilder(ctx, size, f.ReadTile)
	if err != nil {
		return fmt.Errorf("reading the tiles of tree %d: %w", size, err)
	}
	hashes, err := pb.ConsistencyProof(ctx, from, size)
	if err != nil {
		return fmt.Errorf("consistency proof from %d to %d: %w", from, size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, from, size, hashes, prev, hash); err != nil {
		return fmt.Errorf("the root of size %d does not extend the verified root of size %d: %w", size, from, err)
	}
	return nil
}

// readLeaves reads the leaves [start, end) from the entry bundles of the tree of size
// treeSize (unverified).
func readLeaves(ctx context.Context, f fetcher, start, end, treeSize uint64) ([][]byte, error) {
	out := make([][]byte, 0, end-start)
	for i := start; i < end; {
		b, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, i/layout.EntryBundleWidth, treeSize)
		if err != nil {
			return nil, fmt.Errorf("reading the entry bundle of leaf %d: %w", i, err)
		}
		off := i % layout.EntryBundleWidth
		if off >= uint64(len(b.Entries)) {
			return nil, fmt.Errorf("the entry bundle of leaf %d holds %d entries", i, len(b.Entries))
		}
		for ; off < uint64(len(b.Entries)) && i < end; off, i = off+1, i+1 {
			out = append(out, b.Entries[off])
		}
	}
	return out, nil
}

// hashBundle hashes the entries of an encoded entry bundle, for tessera's fsck.
func hashBundle(data []byte) ([][]byte, error) {
	var b api.EntryBundle
	if err := b.UnmarshalText(data); err != nil {
		return nil, err
	}
	out := make([][]byte, len(b.Entries))
	for i, e := range b.Entries {
		out[i] = rfc6962.DefaultHasher.HashLeaf(e)
	}
	return out, nil
}
