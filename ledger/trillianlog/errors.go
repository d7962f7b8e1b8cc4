package trillianlog

import (
	"fmt"

	"github.com/evidencegw/evidencegw/ledger"
)

// ErrSecurity is matched (errors.Is) by every error that shows the log forking: a
// Trillian root that does not extend the last signed checkpoint, or two roots for one
// tree size. Such an error is never retried away; report it with its data. It is the
// ledger's ErrSecurity, which the embedded log's errors match too.
var ErrSecurity = ledger.ErrSecurity

// InconsistentRootError reports a Trillian root that is not an append-only extension of
// the last checkpoint the gateway signed. Nothing was signed for the new root.
type InconsistentRootError struct {
	// Signed is the last signed checkpoint (a C2SP signed note): the old root.
	Signed []byte
	// OldSize and OldHash are the old root, as in Signed.
	OldSize uint64
	OldHash []byte
	// NewSize and NewHash are the root Trillian served.
	NewSize uint64
	NewHash []byte
	// Proof is the consistency proof Trillian served from OldSize to NewSize (empty
	// when the sizes are equal).
	Proof [][]byte
	// Err is why the proof did not verify.
	Err error
}

func (e *InconsistentRootError) Error() string {
	return fmt.Sprintf("trillianlog: security error: trillian root %d/%x is not consistent with signed checkpoint %d/%x: %v",
		e.NewSize, e.NewHash, e.OldSize, e.OldHash, e.Err)
}

// Is makes the error match ErrSecurity.
func (e *InconsistentRootError) Is(target error) bool { return target == ErrSecurity }

func (e *InconsistentRootError) Unwrap() error { return e.Err }

// ConflictingCheckpointError reports a checkpoint already stored for a tree size (signed
// by this gateway's key, by this or another replica) over another root than Trillian's
// current one for that size. The gateway did not publish a second checkpoint.
type ConflictingCheckpointError struct {
	Size uint64
	// Stored is the signed checkpoint found in the store.
	Stored []byte
	// Proposed is the unsigned checkpoint body (C2SP tlog-checkpoint) of Trillian's
	// root for Size, which the gateway refused to publish.
	Proposed []byte
}

func (e *ConflictingCheckpointError) Error() string {
	return fmt.Sprintf("trillianlog: security error: stored checkpoint for tree size %d commits to another root than trillian's", e.Size)
}

// Is makes the error match ErrSecurity.
func (e *ConflictingCheckpointError) Is(target error) bool { return target == ErrSecurity }
