package ledger

import "context"

// Log is an append-only transparency log (RFC 6962 tree, C2SP signed checkpoints).
//
// Implementations are safe for concurrent use.
type Log interface {
	// Append adds leaf and returns once the leaf is durably sequenced, integrated and
	// covered by a published signed checkpoint: its index and that checkpoint (a C2SP
	// tlog-checkpoint signed note whose size is greater than index). A retry after an
	// error may add the leaf a second time; callers record the index they got.
	Append(ctx context.Context, leaf []byte) (index uint64, checkpoint []byte, err error)
	// Checkpoint returns the latest published signed checkpoint.
	Checkpoint(ctx context.Context) ([]byte, error)
	// InclusionProof returns the RFC 6962 inclusion proof of the leaf at index in the
	// tree of the given size (size must not exceed the latest checkpoint's).
	InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error)
	// ConsistencyProof returns the RFC 6962 consistency proof between two tree sizes.
	ConsistencyProof(ctx context.Context, from, to uint64) ([][]byte, error)
}

// LeafReader is implemented by logs that can return their leaves, for the completeness
// scan of courts (docs/bundle.md).
type LeafReader interface {
	// Leaves returns count leaves starting at index start, all below treeSize, the
	// size of a published checkpoint.
	Leaves(ctx context.Context, start, count, treeSize uint64) ([][]byte, error)
}
