package api

import (
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// This file holds the JSON shapes of the gateway API (docs/api.md): the gateway encodes
// its answers with them and the client decodes them.

// Media types of the API.
const (
	// ProblemMediaType is the media type of error responses (RFC 9457).
	ProblemMediaType = "application/problem+json"
	// JSONMediaType is the media type of the other JSON requests and responses.
	JSONMediaType = "application/json"
	// ContentMediaType is the media type of evidence content, uploaded and downloaded.
	ContentMediaType = "application/octet-stream"
)

// HTTP header names of the API.
const (
	// HeaderContentDigest carries the RFC 9530 digest of an upload's body.
	HeaderContentDigest = "Content-Digest"
	// HeaderReprDigest carries the RFC 9530 digest of downloaded content.
	HeaderReprDigest = "Repr-Digest"
	// HeaderCustodyEvent carries the base64 (standard, padded) JSON of the
	// [CustodyReceipt] of the event a download or bundle export recorded.
	HeaderCustodyEvent = "Custody-Event"
	// HeaderIdempotencyKey carries an upload's idempotency key, an RFC 8941 string
	// (draft-ietf-httpapi-idempotency-key-header).
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderTransferID names the download transfer a content request belongs to: the
	// gateway sends it with every content answer, a client sends it back to resume
	// that transfer (docs/api.md, "Resumable downloads").
	HeaderTransferID = "Transfer-Id"
)

// Grant states, as reported in [GrantView.State].
const (
	GrantActive    = "active"
	GrantExpired   = "expired"
	GrantRevoked   = "revoked"
	GrantExhausted = "exhausted"
)

// EvidenceView is what the gateway reports about an evidence item
// (GET /v1/evidence/{id}). Grants lists the grants the caller may see: all of them
// for the owning agency, the caller's own for a partner.
type EvidenceView struct {
	EvidenceID  string `json:"evidence_id"`
	CaseID      string `json:"case_id"`
	Description string `json:"description,omitempty"`
	// SHA256 is the lowercase hex SHA-256 of the content, as registered.
	SHA256 string `json:"sha256"`
	// Size is the content length in bytes.
	Size int64 `json:"size"`
	// Owner is the agency that registered the evidence.
	Owner        string      `json:"owner"`
	Jurisdiction string      `json:"jurisdiction"`
	RegisteredAt time.Time   `json:"registered_at"`
	EventCount   int         `json:"event_count"`
	Grants       []GrantView `json:"grants"`
	// Damage is set when a stored custody event failed verification: the exhibit is
	// frozen (no new grant, acceptance or download).
	Damage *Damage `json:"damage,omitempty"`
	// Acquisition is the forensic metadata the owner registered with the evidence.
	Acquisition *custody.Acquisition `json:"acquisition,omitempty"`
	// RetainUntil is when the retention period of the evidence's case ends: it may
	// not be disposed of before. Absent for evidence registered before retention
	// periods were recorded (the gateway then counts from RegisteredAt).
	RetainUntil *time.Time `json:"retain_until,omitempty"`
	// LegalHold is set while the evidence is under legal hold.
	LegalHold bool `json:"legal_hold,omitempty"`
	// Disposal is set once the evidence was disposed of: its content and data keys
	// are destroyed, its custody history is kept.
	Disposal *DisposalView `json:"disposal,omitempty"`
}

// DisposalView is the dispose event of an evidence item.
type DisposalView struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// By is who disposed of it; Authority the court order or schedule it named.
	By        custody.Party `json:"by"`
	Authority string        `json:"authority"`
}

// Damage names the first stored custody event of an exhibit that failed verification
// (altered, removed or forged in the store).
type Damage struct {
	Seq uint64 `json:"seq"`
	// Digest is the hex SHA-256 of the stored statement (or of the stored bytes, when
	// they are not an envelope).
	Digest string `json:"digest"`
	Reason string `json:"reason"`
}

// GrantView is a grant of access to an evidence item for a partner agency.
type GrantView struct {
	GrantID    string    `json:"grant_id"`
	To         string    `json:"to"`
	LegalBasis string    `json:"legal_basis"`
	Expires    time.Time `json:"expires"`
	// MaxDownloads is the number of downloads allowed; 0 means no limit.
	MaxDownloads int `json:"max_downloads"`
	// Downloads counts the downloads delivered under the grant.
	Downloads int `json:"downloads"`
	// DownloadsInProgress counts the transfers under way, each holding one of the
	// grant's downloads until it is delivered or abandoned.
	DownloadsInProgress int  `json:"downloads_in_progress,omitempty"`
	ViewOnly            bool `json:"view_only"`
	Accepted            bool `json:"accepted"`
	Revoked             bool `json:"revoked"`
	// State is one of GrantActive, GrantExpired, GrantRevoked, GrantExhausted.
	State string `json:"state"`
	// LegalBasisKind is LegalBasisInstrument for a grant made in answer to a request
	// (Instrument and RequestID are then set), LegalBasisFreeText otherwise.
	LegalBasisKind string `json:"legal_basis_kind"`
	Instrument     string `json:"instrument,omitempty"`
	RequestID      string `json:"request_id,omitempty"`
}

// CustodyReceipt is the custody event an action recorded, with its proof of inclusion
// in the transparency log.
type CustodyReceipt struct {
	EvidenceID string `json:"evidence_id"`
	Seq        uint64 `json:"seq"`
	Action     string `json:"action"`
	// Digest is the hex SHA-256 of the signed statement (the DSSE payload).
	Digest string `json:"digest"`
	// Envelope is the DSSE envelope signing the event statement.
	Envelope custody.Envelope `json:"envelope"`
	LogIndex uint64           `json:"log_index"`
	// Proof is a C2SP tlog-proof of the event's leaf.
	Proof string `json:"proof"`
	// Checkpoint is the signed checkpoint (C2SP signed note) the proof leads to.
	Checkpoint string `json:"checkpoint"`
}

// UploadResult is the answer to an upload (POST /v1/evidence).
type UploadResult struct {
	Evidence EvidenceView   `json:"evidence"`
	Custody  CustodyReceipt `json:"custody"`
}

// GrantResult is the answer to a share, revoke or accept.
type GrantResult struct {
	Grant   GrantView      `json:"grant"`
	Custody CustodyReceipt `json:"custody"`
}

// History is the custody history of an evidence item (GET /v1/evidence/{id}/events).
type History struct {
	EvidenceID string         `json:"evidence_id"`
	Events     []HistoryEvent `json:"events"`
	// Partial is set when the caller is a partner: it sees the registration and the
	// events it took part in, not the owner's dealings with other agencies.
	Partial bool `json:"partial,omitempty"`
	// Damage is set when a stored event failed verification; the events from it on
	// carry their Failure.
	Damage *Damage `json:"damage,omitempty"`
}

// HistoryEvent is one custody event as the history lists it.
type HistoryEvent struct {
	Seq          uint64         `json:"seq"`
	Action       string         `json:"action"`
	Time         time.Time      `json:"time"`
	Actor        custody.Party  `json:"actor"`
	Counterparty *custody.Party `json:"counterparty,omitempty"`
	LegalBasis   string         `json:"legal_basis,omitempty"`
	Grant        *custody.Grant `json:"grant,omitempty"`
	// Transfer is the download transfer of a download-* event.
	Transfer *custody.Transfer `json:"transfer,omitempty"`
	Detail   string            `json:"detail,omitempty"`
	// RequestID is the request an event answers or cites; Answer the exhibits and
	// grants of a request's answer.
	RequestID string          `json:"request_id,omitempty"`
	Answer    *custody.Answer `json:"answer,omitempty"`
	// Digest is the hex SHA-256 of the signed statement.
	Digest   string `json:"digest"`
	LogIndex uint64 `json:"log_index"`
	// KeyID is the trust-root id of the key that signed the event.
	KeyID string `json:"key_id"`
	// Failure says why the stored event failed verification; absent if it verified.
	Failure string `json:"failure,omitempty"`
	// Signer is the subject of the certificate of the member who signed the act the
	// event records; absent on events the gateway records on its own.
	Signer string `json:"signer,omitempty"`
	// ReceivedIn, on a download, is the seq of the received event acknowledging it;
	// absent while the member's signed receipt has not arrived.
	ReceivedIn *uint64 `json:"received_in,omitempty"`
	// Acknowledges, on a received event, is the seq of the download it acknowledges.
	Acknowledges *uint64 `json:"acknowledges,omitempty"`
}

// ShareRequest is the body of POST /v1/evidence/{id}/grants.
type ShareRequest struct {
	// To is the partner agency the grant is for.
	To string `json:"to"`
	// LegalBasis names the instrument the transfer rests on (an MLAT request, an EIO...).
	LegalBasis string    `json:"legal_basis"`
	Expires    time.Time `json:"expires"`
	// MaxDownloads limits the downloads; 0 means no limit.
	MaxDownloads int  `json:"max_downloads,omitempty"`
	ViewOnly     bool `json:"view_only"`
}

// RevokeRequest is the body of POST /v1/evidence/{id}/grants/{grant_id}/revoke. The
// body is optional: an empty one is a revocation without a reason.
type RevokeRequest struct {
	Reason string `json:"reason,omitempty"`
}

// HoldRequest is the body of POST /v1/evidence/{id}/hold and /release. The body is
// optional: an empty one is a hold (or release) without a reason.
type HoldRequest struct {
	Reason string `json:"reason,omitempty"`
}

// DisposeRequest is the body of POST /v1/evidence/{id}/dispose.
type DisposeRequest struct {
	// Authority names what the disposal rests on: a court order, or the retention
	// schedule once the case's retention period has ended. Required.
	Authority string `json:"authority"`
}

// DisposalResult is the answer to a disposal: the dispose event and what this call
// destroyed (a repeated call destroys what an interrupted one left, and answers with
// the same event).
type DisposalResult struct {
	Custody CustodyReceipt `json:"custody"`
	// ContentDestroyed is set when the sealed content object was destroyed by this call.
	ContentDestroyed bool `json:"content_destroyed"`
	// DataKeysDestroyed counts the versions of the wrapped data key this call destroyed.
	DataKeysDestroyed int `json:"data_keys_destroyed"`
}

// AcceptRequest is the body of POST /v1/evidence/{id}/accept. The member's signed
// accept act (the Custody-Act header) is what accepts; Receipt, the first release's
// receipt, is optional and checked if present.
type AcceptRequest struct {
	GrantID string         `json:"grant_id"`
	Receipt *SignedReceipt `json:"receipt,omitempty"`
}

// SignedReceipt is a partner's signed receipt. Both fields travel as standard base64.
type SignedReceipt struct {
	// Statement is the exact JSON bytes of a [ReceiptStatement].
	Statement []byte `json:"statement"`
	// Signature is an ASN.1 ECDSA P-256 signature over SHA-256(Statement), made with
	// the private key of the partner's client certificate.
	Signature []byte `json:"signature"`
}

// ReceiptStatementType is the _type of a receipt statement, version 1.
const ReceiptStatementType = "evidencegw-receipt/v1"

// ReceiptStatement is what a partner signs when it accepts a grant: that it takes
// delivery of the evidence with this digest under this grant.
type ReceiptStatement struct {
	Type       string `json:"_type"`
	EvidenceID string `json:"evidence_id"`
	GrantID    string `json:"grant_id"`
	// SHA256 is the registered hex SHA-256 of the evidence content.
	SHA256 string `json:"sha256"`
	// Time is when the partner signed, in UTC, whole seconds (RFC 3339).
	Time time.Time `json:"time"`
}

// ConsistencyProof answers GET /v1/log/consistency: the RFC 6962 consistency proof
// between two tree sizes of the custody log.
type ConsistencyProof struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes [][]byte `json:"hashes"`
}

// LeafPage answers GET /v1/log/leaves: consecutive leaves of the custody log.
type LeafPage struct {
	Start  uint64   `json:"start"`
	Size   uint64   `json:"size"`
	Leaves [][]byte `json:"leaves"`
}

// MaxLeafPage is the most leaves one GET /v1/log/leaves returns.
const MaxLeafPage = 1024
