// Package catalog is the port of the gateway's catalog: a derived, queryable view of
// the cases, exhibits, grants and requests that the custody chains record
// (docs/catalog.md).
//
// The custody chains stay the source of truth. The application layer (package
// exhibit) folds each chain into the rows of its subject ([Subject]) and writes them
// here after every custody event it records; `evidencegw catalog rebuild` recomputes
// every row from the stored chains. The catalog decides nothing: the application
// layer filters every row it returns through the same policies as a single read.
//
// The implementations are catalog/sqlite (the embedded default, modernc.org/sqlite),
// catalog/postgres (jackc/pgx), both on the SQL of catalog/sqlcatalog with its goose
// migrations; catalog/catalogtest is the conformance suite every implementation runs.
//
// It imports the standard library only.
package catalog

import (
	"context"
	"errors"
	"time"
)

// ErrBadQuery is returned for a query the catalog cannot run (a limit out of range).
var ErrBadQuery = errors.New("invalid catalog query")

// MaxLimit bounds the rows one query returns.
const MaxLimit = 1000

// Subject is every row the catalog keeps for one custody subject, folded from its
// chain up to event Seq: an exhibit with its grants, or a request.
type Subject struct {
	// ID is the evidence id (ev-...) or the request id (rq-...).
	ID string
	// Seq is the sequence number of the chain's last stored event.
	Seq     uint64
	Exhibit *Exhibit
	// Grants are the exhibit's grants, in the order they were made.
	Grants  []Grant
	Request *Request
}

// Exhibit is the catalog row of an exhibit.
type Exhibit struct {
	EvidenceID   string
	CaseID       string
	Owner        string
	Jurisdiction string
	Description  string
	SHA256       string
	Size         int64
	RegisteredAt time.Time
	// Events is the number of stored events of its chain; UpdatedAt the time of the
	// last one that verified.
	Events    int
	UpdatedAt time.Time
	Held      bool
	// Damaged is set when a stored event of the chain failed verification.
	Damaged bool
	// ExhibitNumber is the registering agency's own exhibit number, from the forensic
	// metadata of the register event ("" when it reported none).
	ExhibitNumber string
	// RetainUntil is the end of the retention period the register event records (zero
	// when it records none).
	RetainUntil time.Time
	// DisposedAt is the time of the exhibit's dispose event: set, its content and data
	// keys are destroyed (or being destroyed); zero while they are kept.
	DisposedAt time.Time
}

// Grant is the catalog row of a grant of an exhibit to an agency.
type Grant struct {
	GrantID    string
	EvidenceID string
	CaseID     string
	Owner      string
	To         string
	LegalBasis string
	// Instrument and RequestID are set for a grant made in answer to a request.
	Instrument   string
	RequestID    string
	GrantedAt    time.Time
	Expires      time.Time
	MaxDownloads int
	Downloads    int
	ViewOnly     bool
	Accepted     bool
	Revoked      bool
}

// Request states, as the catalog keeps them. A request is open until it is answered
// (fulfilled, partially fulfilled or refused) or withdrawn; partially fulfilled
// requests may be answered again.
const (
	RequestOpen               = "open"
	RequestAcknowledged       = "acknowledged"
	RequestFulfilled          = "fulfilled"
	RequestPartiallyFulfilled = "partially-fulfilled"
	RequestRefused            = "refused"
	RequestWithdrawn          = "withdrawn"
)

// Request is the catalog row of a request for evidence.
type Request struct {
	RequestID        string
	CaseID           string
	From             string
	To               string
	Instrument       string
	Reference        string
	IssuingAuthority string
	Sought           string
	Deadline         time.Time
	Emergency        bool
	State            string
	// Overdue is set once a request-overdue event is recorded.
	Overdue   bool
	FiledAt   time.Time
	UpdatedAt time.Time
	// Reason is the reason of a refusal or a withdrawal.
	Reason string
	Events int
	// Shares are the exhibits shared in answer, with their grants.
	Shares []Share
	// Damaged is set when a stored event of the chain failed verification.
	Damaged bool
}

// Share is one exhibit shared in answer to a request.
type Share struct {
	EvidenceID string
	GrantID    string
}

// Intent is a custody event about to be recorded: the catalog row of its subject is
// to be refreshed once it is (see Writer).
type Intent struct {
	ID    string
	Seq   uint64
	Since time.Time
}

// Writer keeps the rows of each subject.
//
// Implementations are safe for concurrent use.
type Writer interface {
	// Intend records, durably, that event seq of subject id is about to be recorded.
	// The record path calls it before it appends, and Done after Put, so that a
	// crash in between leaves an intent that Pending finds.
	Intend(ctx context.Context, id string, seq uint64, now time.Time) error
	// Put replaces every row of s.ID with those of s, atomically, unless the
	// catalog already holds the subject at a later Seq (a stale fold loses; an equal
	// Seq replaces). A retry is safe.
	Put(ctx context.Context, s Subject) error
	// Done removes the intents of id up to seq.
	Done(ctx context.Context, id string, seq uint64) error
	// Pending returns the intents recorded before the given time, oldest first.
	Pending(ctx context.Context, before time.Time) ([]Intent, error)
}

// ExhibitQuery selects exhibits a caller might see.
type ExhibitQuery struct {
	// Agency is the caller's agency: only exhibits it owns, or holds (or held) a
	// grant of, are candidates. Required.
	Agency string
	// CaseID, if set, selects one case; Owner one owning agency; IDs a set of
	// evidence ids.
	CaseID string
	Owner  string
	IDs    []string
	// After continues a listing after the exhibit with this key.
	After *ExhibitKey
	Limit int
}

// ExhibitKey orders exhibits: by registration time, then id.
type ExhibitKey struct {
	RegisteredAt time.Time
	EvidenceID   string
}

// ExhibitRow is an exhibit with every one of its grants (the policies decide on all
// of them).
type ExhibitRow struct {
	Exhibit
	Grants []Grant
}

// GrantQuery selects grants a caller might see.
type GrantQuery struct {
	// Agency is the caller's agency: only grants to it, or of exhibits it owns, are
	// candidates. Required.
	Agency string
	// To and Owner select the grantee or the owning agency.
	To    string
	Owner string
	// CaseID, Instrument, RequestID and EvidenceID select by those fields.
	CaseID     string
	Instrument string
	RequestID  string
	EvidenceID string
	// Open selects grants neither revoked nor expired at Now; Unaccepted those not
	// accepted yet.
	Open       bool
	Unaccepted bool
	Now        time.Time
	After      *GrantKey
	Limit      int
}

// GrantKey orders grants: by expiry, then id.
type GrantKey struct {
	Expires time.Time
	GrantID string
}

// RequestQuery selects requests a caller might see.
type RequestQuery struct {
	// Agency is the caller's agency: only requests from or to it are candidates.
	// Required.
	Agency string
	// From and To select the requesting or the addressed agency.
	From string
	To   string
	// States selects requests in any of these states; Open those not answered and
	// not withdrawn (open, acknowledged, partially fulfilled).
	States []string
	Open   bool
	// CaseID and Instrument select by those fields.
	CaseID     string
	Instrument string
	// DeadlineBefore and DeadlineAfter bound the deadline (exclusive), if set.
	DeadlineBefore time.Time
	DeadlineAfter  time.Time
	IDs            []string
	After          *RequestKey
	Limit          int
}

// RequestKey orders requests: by deadline, then id (the most urgent first).
type RequestKey struct {
	Deadline  time.Time
	RequestID string
}

// CaseQuery selects the cases of a caller's candidate exhibits.
type CaseQuery struct {
	Agency string
	// After continues after this case id.
	After string
	Limit int
}

// Reader answers queries. Every query returns candidates: the rows the caller's
// agency takes part in, in a stable order, for the application layer to filter with
// the policies. Limit must be 1 to MaxLimit (ErrBadQuery otherwise).
//
// Implementations are safe for concurrent use.
type Reader interface {
	Exhibits(ctx context.Context, q ExhibitQuery) ([]ExhibitRow, error)
	Grants(ctx context.Context, q GrantQuery) ([]Grant, error)
	Requests(ctx context.Context, q RequestQuery) ([]Request, error)
	// Cases returns case ids that have candidate exhibits, in order.
	Cases(ctx context.Context, q CaseQuery) ([]string, error)
}

// Snapshot is every row of a catalog, in a canonical order, for comparing a rebuilt
// catalog with a live one.
type Snapshot struct {
	Subjects []Subject
}

// Admin serves the operator's rebuild and check.
//
// Implementations are safe for concurrent use.
type Admin interface {
	// Snapshot returns every subject's rows, ordered by id (grants by time of grant).
	Snapshot(ctx context.Context) (*Snapshot, error)
	// Subjects returns every subject id the catalog holds, in order.
	Subjects(ctx context.Context) ([]string, error)
	// Delete removes every row of subject id (one no chain holds any more).
	Delete(ctx context.Context, id string) error
	// Overdue returns, by deadline, up to limit requests of any agency that are open
	// (open, acknowledged or partially fulfilled), due before now and not yet marked
	// overdue.
	Overdue(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// Catalog is the whole port, as one implementation provides it.
type Catalog interface {
	Writer
	Reader
	Admin
	// Close releases the catalog's connections.
	Close() error
}

// CheckLimit reports whether a query limit is in range.
func CheckLimit(n int) error {
	if n < 1 || n > MaxLimit {
		return ErrBadQuery
	}
	return nil
}
