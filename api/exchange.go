package api

import (
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// This file holds the JSON shapes of the exchange: requests for evidence under a legal
// instrument, the inbox and the catalog's listings (docs/api.md, "Requests" and
// "Listings"). Field names are stable: the console and scripts read them.

// Legal basis kinds, as reported in [GrantView.LegalBasisKind].
const (
	// LegalBasisInstrument: the grant was made in answer to a request, under its
	// instrument.
	LegalBasisInstrument = "instrument"
	// LegalBasisFreeText: the legal basis is the owner's free text only.
	LegalBasisFreeText = "free-text"
)

// FileRequest is the body of POST /v1/requests: a request for evidence under a legal
// instrument, to another agency.
type FileRequest struct {
	// To is the agency the request is addressed to.
	To string `json:"to"`
	// Instrument is the id of a legal instrument of the gateway's table
	// (GET /v1/instruments).
	Instrument string `json:"instrument"`
	// Reference is the requesting authority's own reference.
	Reference string `json:"reference"`
	// IssuingAuthority names the authority that issued the order or request.
	IssuingAuthority string `json:"issuing_authority"`
	// Sought says what evidence is sought.
	Sought string `json:"sought"`
	// CaseID is the requester's case, optional.
	CaseID string `json:"case_id,omitempty"`
	// Deadline is when the answer is due; absent, the instrument's deadline (its
	// emergency deadline for an emergency request).
	Deadline  *time.Time `json:"deadline,omitempty"`
	Emergency bool       `json:"emergency,omitempty"`
}

// RespondRequest is the body of POST /v1/requests/{id}/respond: the addressee shares
// exhibits in answer, or refuses.
type RespondRequest struct {
	// Share lists the evidence ids shared in answer (with the requester, under the
	// request's instrument); empty when refusing.
	Share []string `json:"share,omitempty"`
	// Partial marks an answer that shares only part of what was sought: the request
	// stays open for a later answer.
	Partial bool `json:"partial,omitempty"`
	// Refuse refuses the request; Reason is then required.
	Refuse bool   `json:"refuse,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Expires ends the grants made in answer; absent, the instrument's grant days.
	Expires *time.Time `json:"expires,omitempty"`
	// MaxDownloads limits the downloads of each grant; 0 means no limit.
	MaxDownloads int  `json:"max_downloads,omitempty"`
	ViewOnly     bool `json:"view_only,omitempty"`
}

// RequestAction is the optional body of POST /v1/requests/{id}/acknowledge and
// /withdraw.
type RequestAction struct {
	Reason string `json:"reason,omitempty"`
}

// Request states, as reported in [RequestView.State].
const (
	RequestOpen               = "open"
	RequestAcknowledged       = "acknowledged"
	RequestFulfilled          = "fulfilled"
	RequestPartiallyFulfilled = "partially-fulfilled"
	RequestRefused            = "refused"
	RequestWithdrawn          = "withdrawn"
)

// RequestView is a request for evidence (GET /v1/requests/{id}).
type RequestView struct {
	RequestID string `json:"request_id"`
	CaseID    string `json:"case_id,omitempty"`
	// From is the requesting agency, To the agency it is addressed to.
	From string `json:"from"`
	To   string `json:"to"`
	// Instrument is the instrument's id; InstrumentName its name in the gateway's
	// table ("" if the table no longer lists it).
	Instrument       string    `json:"instrument"`
	InstrumentName   string    `json:"instrument_name,omitempty"`
	Reference        string    `json:"reference"`
	IssuingAuthority string    `json:"issuing_authority"`
	Sought           string    `json:"sought"`
	Deadline         time.Time `json:"deadline"`
	Emergency        bool      `json:"emergency"`
	// State is one of the Request* states.
	State string `json:"state"`
	// Overdue is set when the deadline passed with the request still open.
	Overdue   bool      `json:"overdue"`
	FiledAt   time.Time `json:"filed_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Reason is the reason of a refusal or withdrawal.
	Reason     string         `json:"reason,omitempty"`
	EventCount int            `json:"event_count"`
	Shares     []RequestShare `json:"shares"`
	// Damage is set when a stored event of the request's chain failed verification.
	Damage *Damage `json:"damage,omitempty"`
	// Digest is the request's subject digest (docs/bundle.md, "Requests"), which the
	// members' acts on the request name. Set on a single request, absent in listings.
	Digest string `json:"digest,omitempty"`
}

// RequestShare is an exhibit shared in answer to a request, with its grant.
type RequestShare struct {
	EvidenceID string `json:"evidence_id"`
	GrantID    string `json:"grant_id"`
}

// RequestResult is the answer to a change of a request: the request after it, the
// event it recorded, and the grants a response made.
type RequestResult struct {
	Request RequestView    `json:"request"`
	Custody CustodyReceipt `json:"custody"`
	Grants  []GrantResult  `json:"grants,omitempty"`
}

// RequestHistory is the custody history of a request (GET /v1/requests/{id}/events).
type RequestHistory struct {
	RequestID string         `json:"request_id"`
	Events    []HistoryEvent `json:"events"`
	Damage    *Damage        `json:"damage,omitempty"`
}

// InstrumentView is one legal instrument of the gateway's table (GET /v1/instruments).
type InstrumentView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Law  string `json:"law"`
	// Kind is "production" or "preservation".
	Kind string `json:"kind"`
	// DeadlineSeconds is the time to answer; EmergencyDeadlineSeconds the time in an
	// emergency, 0 when the instrument has no emergency procedure.
	DeadlineSeconds          int64 `json:"deadline_seconds"`
	EmergencyDeadlineSeconds int64 `json:"emergency_deadline_seconds"`
	AllowsDownload           bool  `json:"allows_download"`
	GrantDays                int   `json:"grant_days"`
}

// ExhibitListing is an exhibit as a listing shows it; Grants are those the caller may
// see (all for the owner, its own for a partner).
type ExhibitListing struct {
	EvidenceID   string    `json:"evidence_id"`
	CaseID       string    `json:"case_id"`
	Description  string    `json:"description,omitempty"`
	SHA256       string    `json:"sha256"`
	Size         int64     `json:"size"`
	Owner        string    `json:"owner"`
	Jurisdiction string    `json:"jurisdiction"`
	RegisteredAt time.Time `json:"registered_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	EventCount   int       `json:"event_count"`
	Held         bool      `json:"held"`
	Damaged      bool      `json:"damaged"`
	// ExhibitNumber is the registering agency's exhibit number, when its forensic
	// metadata gave one.
	ExhibitNumber string `json:"exhibit_number,omitempty"`
	// RetainUntil is the end of the retention period recorded at registration; absent
	// for evidence registered before it was recorded.
	RetainUntil time.Time `json:"retain_until,omitzero"`
	// Disposed is set once the exhibit was disposed of (its content and data keys
	// destroyed), at DisposedAt.
	Disposed   bool           `json:"disposed"`
	DisposedAt time.Time      `json:"disposed_at,omitzero"`
	Grants     []GrantListing `json:"grants"`
}

// GrantListing is a grant as a listing shows it: the grant and the exhibit it is of.
type GrantListing struct {
	GrantView
	EvidenceID string    `json:"evidence_id"`
	CaseID     string    `json:"case_id"`
	Owner      string    `json:"owner"`
	GrantedAt  time.Time `json:"granted_at"`
}

// ExhibitPage is a page of exhibits; Next, when set, is the cursor of the next page.
type ExhibitPage struct {
	Exhibits []ExhibitListing `json:"exhibits"`
	Next     string           `json:"next,omitempty"`
}

// GrantPage is a page of grants.
type GrantPage struct {
	Grants []GrantListing `json:"grants"`
	Next   string         `json:"next,omitempty"`
}

// RequestPage is a page of requests.
type RequestPage struct {
	Requests []RequestView `json:"requests"`
	Next     string        `json:"next,omitempty"`
}

// CasePage is a page of case ids.
type CasePage struct {
	Cases []string `json:"cases"`
	Next  string   `json:"next,omitempty"`
}

// CaseView summarizes what the caller may see of a case (GET /v1/cases/{case}).
type CaseView struct {
	CaseID string `json:"case_id"`
	// Exhibits counts the exhibits of the case the caller may see; Owners are their
	// owning agencies.
	Exhibits int      `json:"exhibits"`
	Owners   []string `json:"owners"`
	// Requests counts the requests of the case the caller takes part in.
	Requests          int       `json:"requests"`
	FirstRegisteredAt time.Time `json:"first_registered_at,omitzero"`
	LastActivityAt    time.Time `json:"last_activity_at,omitzero"`
}

// Inbox is what awaits an agency (GET /v1/inbox): requests addressed to it that are
// still open, grants to it awaiting acceptance, its active grants, and the deadlines
// of every open request it takes part in, most urgent first.
type Inbox struct {
	Agency             string      `json:"agency"`
	Requests           RequestPage `json:"requests"`
	AwaitingAcceptance GrantPage   `json:"awaiting_acceptance"`
	ActiveGrants       GrantPage   `json:"active_grants"`
	Deadlines          RequestPage `json:"deadlines"`
}

// Listing bounds.
const (
	// DefaultPageSize is the page size of a listing without limit.
	DefaultPageSize = 50
	// MaxPageSize is the largest limit a listing takes.
	MaxPageSize = 500
)

// Act returns the act a member signs to file r (docs/bundle.md, "Acts"), to be signed
// about no subject id and the digest custody.FilingDigest(r.CaseID, *act.Request).
func (r FileRequest) Act() custody.Act {
	return custody.Act{Action: custody.ActionRequestFiled, CaseID: r.CaseID, Request: &custody.ActRequest{To: r.To,
		Instrument: r.Instrument, Reference: r.Reference, IssuingAuthority: r.IssuingAuthority, Sought: r.Sought,
		Deadline: r.Deadline, Emergency: r.Emergency}}
}

// Act returns the act a member signs to give the answer r, about the request and its
// digest (RequestView.Digest).
func (r RespondRequest) Act() custody.Act {
	if r.Refuse {
		return custody.Act{Action: custody.ActionRequestRefused, Reason: r.Reason}
	}
	a := custody.Act{Action: custody.ActionRequestFulfilled, Reason: r.Reason, Answer: &custody.ActAnswer{
		Exhibits: r.Share, Expires: r.Expires, MaxDownloads: r.MaxDownloads, ViewOnly: r.ViewOnly}}
	if r.Partial {
		a.Action = custody.ActionRequestPartiallyFulfilled
	}
	return a
}
