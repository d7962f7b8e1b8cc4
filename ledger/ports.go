package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/formats/log"
)

// Errors of the ledger and its ports.
var (
	// ErrConflict is returned when another writer stored a different event (or
	// checkpoint) under the same name first; reload the chain and decide again.
	ErrConflict = errors.New("custody chain changed concurrently")
	// ErrNotFound is returned for an exhibit that has no custody events, or a
	// checkpoint that was never stored.
	ErrNotFound = errors.New("no custody record")
	// ErrBadSize is returned for a tree size the log does not have.
	ErrBadSize = errors.New("no such tree size")
	// ErrSecurity is matched (errors.Is) by every error that shows the log rolled
	// back, forked or damaged. Nothing was signed over it. Such an error is never
	// retried away: report it with the data it carries, which proves it offline.
	ErrSecurity = errors.New("custody log security error")
)

// Log is an append-only transparency log (RFC 6962 tree, C2SP signed checkpoints).
//
// Implementations are safe for concurrent use.
type Log interface {
	// Append adds leaf and returns once the leaf is durably sequenced, integrated and
	// covered by a published signed checkpoint: its index and that checkpoint (whose
	// size is greater than index). A retry after an error may add the leaf a second
	// time; callers record the index they got.
	Append(ctx context.Context, leaf []byte) (index uint64, cp Checkpoint, err error)
	// Checkpoint returns the latest published signed checkpoint.
	Checkpoint(ctx context.Context) (Checkpoint, error)
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

// Checkpoint is a signed checkpoint of the log (C2SP tlog-checkpoint in a C2SP signed
// note) with its body parsed.
type Checkpoint struct {
	log.Checkpoint
	// Note is the signed note exactly as published.
	Note []byte
}

// ParseCheckpoint parses the body of a signed checkpoint note with
// transparency-dev/formats/log. It does not check the signatures: the log adapters call
// it on checkpoints they signed or verified themselves.
func ParseCheckpoint(note []byte) (Checkpoint, error) {
	var c log.Checkpoint
	if _, err := c.Unmarshal(note); err != nil {
		return Checkpoint{}, fmt.Errorf("parsing checkpoint: %w", err)
	}
	return Checkpoint{Checkpoint: c, Note: note}, nil
}

// Records keeps the signed custody events of every exhibit, write-once. The
// application layer implements it over the object store (it names the objects).
//
// Implementations are safe for concurrent use.
type Records interface {
	// PutEvent stores the DSSE envelope of event seq of exhibit id and returns once it
	// is durable. Storing the same bytes again succeeds (a retry is safe); other bytes
	// under the same id and seq are ErrConflict and leave the stored ones unchanged, so
	// of concurrent writers of one event exactly one succeeds.
	PutEvent(ctx context.Context, id string, seq uint64, envelope []byte) error
	// PutIndex records the log index of event seq of id, durable on return. Recording
	// the same index again succeeds; another index is ErrConflict.
	PutIndex(ctx context.Context, id string, seq, index uint64) error
	// Events returns every stored event of id with a sequence number of at least
	// from, in order, those after a missing one included. It returns no events (and
	// no error) for an exhibit with none stored at or after from.
	Events(ctx context.Context, id string, from uint64) ([]StoredEvent, error)
	// Next returns the events of id stored consecutively from seq from on, in order,
	// stopping before the first one missing: none if event from is not stored. It
	// reads no listing of the exhibit's events, so its cost grows with the number of
	// events it returns, not with the chain's length (one read more, of the missing
	// event, for the end). A later stored event after a gap is not returned: Events
	// sees it.
	Next(ctx context.Context, id string, from uint64) ([]StoredEvent, error)
}

// StoredEvent is one event as Records holds it: its bytes are not trusted until the
// ledger has parsed and checked them.
type StoredEvent struct {
	Seq      uint64
	Envelope []byte
	// Index is the event's log index; HasIndex is false when none was recorded (the
	// process stopped between storing the event and appending it to the log).
	Index    uint64
	HasIndex bool
}

// CheckpointStore keeps the checkpoints the gateway signed, write-once by tree size, so
// that the gateway never signs two roots for one size and can tell, at start-up, the
// newest checkpoint it ever published.
//
// Implementations are safe for concurrent use.
type CheckpointStore interface {
	// Put stores note as the checkpoint of tree size size, durable on return. The
	// same bytes again succeed; other bytes are ErrConflict and change nothing.
	Put(ctx context.Context, size uint64, note []byte) error
	// Get returns the checkpoint stored for size; ErrNotFound if none.
	Get(ctx context.Context, size uint64) ([]byte, error)
	// Latest returns the stored checkpoint of the largest size; ErrNotFound if none.
	Latest(ctx context.Context) ([]byte, error)
}

// ErrWitnessQuorum is matched (errors.Is) by the error of an Append whose checkpoint
// could not be cosigned by the witness quorum of the log's policy: the leaf may be in
// the log, but no checkpoint covering it was published, and the append did not count.
// It is transient when witnesses are unreachable, and lasting when they refuse (a
// fork, a rollback, a log unknown to them): *WitnessQuorumError says which.
var ErrWitnessQuorum = errors.New("the witness quorum did not cosign the checkpoint")

// WitnessQuorumError is an Append (or a checkpoint publication) that the witnesses of
// the policy did not cosign in time.
type WitnessQuorumError struct {
	// Size is the tree size of the checkpoint that was refused or left uncosigned.
	Size uint64
	// Refusals say, witness by witness, what went wrong (the last answer of each).
	Refusals []WitnessRefusal
}

// WitnessRefusal is one witness's failure to cosign.
type WitnessRefusal struct {
	// Witness is the witness's name in its verifier key; URL where it was asked.
	Witness, URL string
	// Status is its HTTP answer (0 if none came); a 409 or 422 is a refusal of a
	// checkpoint inconsistent with what it cosigned before (a fork or a rollback).
	Status int
	// Detail describes the failure.
	Detail string
}

func (e *WitnessQuorumError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the witness quorum did not cosign the checkpoint of size %d", e.Size)
	for i, r := range e.Refusals {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s", sep, r.Witness)
		if r.Status != 0 {
			fmt.Fprintf(&b, " answered %d", r.Status)
		}
		if r.Detail != "" {
			fmt.Fprintf(&b, " (%s)", r.Detail)
		}
	}
	return b.String()
}

func (e *WitnessQuorumError) Is(target error) bool { return target == ErrWitnessQuorum }

// Refused reports whether a witness refused the checkpoint as inconsistent with what it
// cosigned before (HTTP 409 or 422): the log forked or rolled back, or the witness did.
func (e *WitnessQuorumError) Refused() bool {
	for _, r := range e.Refusals {
		if r.Status == 409 || r.Status == 422 {
			return true
		}
	}
	return false
}
