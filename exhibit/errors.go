package exhibit

import (
	"errors"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// Errors of the use cases. The HTTP layer maps each to one status (gateway/errors.go).
// Errors of the collaborators pass through wrapped; those a caller branches on are
// named here too, so that callers need not import the collaborators.
var (
	// ErrDigestMismatch: uploaded content does not hash to its declared digest;
	// nothing was stored.
	ErrDigestMismatch = storage.ErrDigestMismatch
	// ErrIntegrity: stored content failed its integrity check; the failure was
	// recorded in custody.
	ErrIntegrity = storage.ErrIntegrity
	// ErrKeysUnavailable: the key manager cannot be reached; retry later.
	ErrKeysUnavailable = keys.ErrUnavailable
	// ErrConflict: the chain kept changing concurrently; retry.
	ErrConflict = ledger.ErrConflict
	// ErrRetained: the object store refused to destroy an object under retention or
	// legal hold.
	ErrRetained = storage.ErrRetained
	// ErrLogDamaged: the transparency log rolled back, forked or holds damaged data;
	// nothing is signed until the operator repairs it (docs/log.md).
	ErrLogDamaged = ledger.ErrSecurity
	// ErrWitnessQuorum: the witnesses did not cosign the checkpoint of a custody
	// change; it does not count until they do: retry later (docs/log.md).
	ErrWitnessQuorum = ledger.ErrWitnessQuorum

	// ErrNotFound hides both absent evidence and evidence the caller may not see.
	ErrNotFound = errors.New("no such evidence")
	// ErrGrantNotFound is a grant id the exhibit does not have.
	ErrGrantNotFound = errors.New("no such grant")
	// ErrNotImplemented is a read the configured log backend does not serve.
	ErrNotImplemented = errors.New("not implemented by this log backend")
	// ErrRequestNotFound hides both absent requests and requests the caller may not
	// see.
	ErrRequestNotFound = errors.New("no such request")
	// ErrCaseNotFound is a case of which the caller may see nothing.
	ErrCaseNotFound = errors.New("no such case")
	// ErrNoCatalog is a listing on a gateway configured without a catalog.
	ErrNoCatalog = errors.New("this gateway keeps no catalog")
	// ErrCatalogUnavailable: the catalog cannot be reached; nothing was recorded.
	ErrCatalogUnavailable = errors.New("the catalog is unavailable")
)

// WitnessQuorumError says which witnesses did not cosign, and whether one refused a
// fork or a rollback (Refused).
type WitnessQuorumError = ledger.WitnessQuorumError

// WitnessRefusal is one witness's part of a WitnessQuorumError.
type WitnessRefusal = ledger.WitnessRefusal

// InvalidError is input that breaks a rule of the use case; Msg is safe to show.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// ConflictError is a request the exhibit's current state does not allow (a grant
// already revoked, a hold already set). Kind names it for the API's problem type.
type ConflictError struct {
	Kind string
	Msg  string
}

func (e *ConflictError) Error() string { return e.Msg }

// Conflict kinds.
const (
	ConflictAlreadyRevoked     = "already-revoked"
	ConflictGrantNotAcceptable = "grant-not-acceptable"
	ConflictHoldState          = "hold-state"
	// ConflictTransferNotResumable: a Transfer-Id the caller cannot continue.
	ConflictTransferNotResumable = "transfer-not-resumable"
	// ConflictRequestClosed: the request was already answered or withdrawn.
	ConflictRequestClosed = "request-closed"
	// ConflictRequestState: the request's state does not allow the action (a second
	// acknowledgement).
	ConflictRequestState = "request-state"
	// ConflictRetained: a disposal inside the retention period.
	ConflictRetained = "retained"
	// ConflictUnderLegalHold: a disposal of evidence under legal hold.
	ConflictUnderLegalHold = "under-legal-hold"
)

// DeniedError is an authorization refusal for a caller that may know the evidence
// exists. Policies are the ids of the policies that decided.
type DeniedError struct {
	Action   string
	Policies []string
	Reason   string
}

func (e *DeniedError) Error() string { return e.Reason }

// FrozenError refuses a new grant, acceptance or download of an exhibit whose custody
// chain failed verification: stored event Seq was altered, removed or forged. Reads of
// the exhibit, its history and its bundle still work and show the failure.
type FrozenError struct {
	Seq    uint64
	Reason string
}

func (e *FrozenError) Error() string {
	return fmt.Sprintf("the exhibit is frozen: its custody record failed its integrity check at event %d (%s); no new grant, acceptance or download until it is investigated", e.Seq, e.Reason)
}

// DisposedError refuses what needs the content of an exhibit that was disposed of
// (download, share, accept, hold): its content and data keys are destroyed. Reads of
// the exhibit, its history and its bundle still work and show the disposal.
type DisposedError struct {
	Seq       uint64
	Time      time.Time
	Authority string
}

func (e *DisposedError) Error() string {
	return fmt.Sprintf("the evidence was disposed of at %s under %q (custody event %d): its content is destroyed; its record and custody history remain",
		e.Time.UTC().Format(time.RFC3339), e.Authority, e.Seq)
}

// DisposalUnfinishedError is a disposal recorded in custody event Seq whose objects
// were not all destroyed: the store refused (Err wraps ErrRetained) or failed. The
// exhibit counts as disposed of; running the disposal again finishes it.
type DisposalUnfinishedError struct {
	ID  string
	Seq uint64
	Err error
}

func (e *DisposalUnfinishedError) Error() string {
	return fmt.Sprintf("the disposal of %s is recorded (custody event %d), but destroying its objects failed; run it again to finish: %v", e.ID, e.Seq, e.Err)
}

func (e *DisposalUnfinishedError) Unwrap() error { return e.Err }
