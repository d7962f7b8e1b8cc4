package custody

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Media and type identifiers of the formats this package speaks.
const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType identifies the custody event predicate, version 1.
	PredicateType = "https://github.com/evidencegw/evidencegw/custody-event/v1"
	// PayloadType is the DSSE payload type of a signed statement.
	PayloadType = "application/vnd.in-toto+json"
)

// MaxStatementSize bounds a statement's encoded size; larger ones are refused.
const MaxStatementSize = 64 << 10

// Action is what a custody event records.
type Action string

// The custody actions.
const (
	ActionRegister         Action = "register"
	ActionShare            Action = "share"
	ActionAccept           Action = "accept"
	ActionDownload         Action = "download"
	ActionRevoke           Action = "revoke"
	ActionIntegrityFailure Action = "integrity-failure"
	ActionBundleExport     Action = "bundle-export"
	ActionLegalHold        Action = "legal-hold"
	ActionLegalHoldRelease Action = "legal-hold-release"
	ActionKeyRewrap        Action = "key-rewrap"

	// The events of a download transfer (Event.Transfer names it): a download is
	// counted against its grant when it is delivered, not when it starts.
	//
	// ActionDownloadStart opens a new transfer and reserves one download of the grant;
	// ActionDownloadResume opens a further request of a transfer (a resumed, ranged
	// download), reserving again if the transfer had been abandoned;
	// ActionDownloadProgress renews the reservation of a request still sending;
	// ActionDownloadDeliver records that a request sent the content's last byte: the
	// transfer is delivered and counts; ActionDownloadAbandon records that a request
	// ended without that (the client left, stalled, or the reservation expired): the
	// reservation is released.
	ActionDownloadStart    Action = "download-start"
	ActionDownloadResume   Action = "download-resume"
	ActionDownloadProgress Action = "download-progress"
	ActionDownloadDeliver  Action = "download-deliver"
	ActionDownloadAbandon  Action = "download-abandon"
	// ActionReceived records the signed receipt of what a download delivered.
	ActionReceived Action = "received"
	// ActionDispose records that the exhibit's content and every version of its data
	// key are destroyed (docs/bundle.md, "Disposal"); legal_basis names the authority.
	ActionDispose Action = "dispose"
)

var validActions = map[Action]bool{
	ActionRegister: true, ActionShare: true, ActionAccept: true, ActionDownload: true,
	ActionRevoke: true, ActionIntegrityFailure: true, ActionBundleExport: true,
	ActionLegalHold: true, ActionLegalHoldRelease: true, ActionKeyRewrap: true,
	ActionDownloadStart: true, ActionDownloadResume: true, ActionDownloadProgress: true,
	ActionDownloadDeliver: true, ActionDownloadAbandon: true, ActionReceived: true,
	ActionRequestFiled: true, ActionRequestAcknowledged: true, ActionRequestFulfilled: true,
	ActionRequestPartiallyFulfilled: true, ActionRequestRefused: true, ActionRequestWithdrawn: true,
	ActionRequestOverdue: true, ActionDispose: true,
}

// IsTransferAction reports whether a is one of the download transfer actions, whose
// events carry a Transfer.
func IsTransferAction(a Action) bool {
	switch a {
	case ActionDownloadStart, ActionDownloadResume, ActionDownloadProgress, ActionDownloadDeliver, ActionDownloadAbandon:
		return true
	}
	return false
}

// Party is an actor or counterparty of an event, as the gateway authenticated it.
type Party struct {
	Agency       string `json:"agency"`
	Jurisdiction string `json:"jurisdiction"`
	Person       string `json:"person,omitempty"`
	Role         string `json:"role,omitempty"`
}

// Exhibit describes the evidence content; it is set on the register event.
type Exhibit struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	Description string `json:"description,omitempty"`
	// TagKey is the hex 32-byte key of the exhibit's leaf tags (see Leaf).
	TagKey string `json:"tag_key"`
	// Acquisition is what the registering agency reports of the exhibit's
	// acquisition; absent when it reported nothing.
	Acquisition *Acquisition `json:"acquisition,omitempty"`
}

// StorageFacts say where and how the sealed content is kept.
type StorageFacts struct {
	Location         string `json:"location"`
	Version          string `json:"version,omitempty"`
	ETag             string `json:"etag,omitempty"`
	CiphertextSHA256 string `json:"ciphertext_sha256"`
	CiphertextSize   int64  `json:"ciphertext_size"`
	KeyRef           string `json:"key_ref"`
	Cipher           string `json:"cipher"`
}

// Grant is the access a share event gives, and the grant a later event acts under.
type Grant struct {
	ID           string    `json:"id"`
	To           string    `json:"to"`
	LegalBasis   string    `json:"legal_basis"`
	Expires      time.Time `json:"expires"`
	MaxDownloads int       `json:"max_downloads,omitempty"`
	ViewOnly     bool      `json:"view_only,omitempty"`
	// Instrument is the legal instrument of the grant when it was made in answer to a
	// request (the request's instrument, docs/exchange.md); absent for a grant whose
	// legal basis is free text only.
	Instrument string `json:"instrument,omitempty"`
	// RequestID is the request the grant answers, if any.
	RequestID string `json:"request_id,omitempty"`
}

// Receipt is a partner's own signature over what it accepted, made with the private key
// of its client certificate.
type Receipt struct {
	// Statement is the exact bytes the partner signed (see ReceiptStatement).
	Statement []byte `json:"statement"`
	// Signature is an ASN.1 ECDSA (or Ed25519) signature over SHA-256(Statement).
	Signature []byte `json:"signature"`
	// Certificate is the partner's DER client certificate.
	Certificate []byte `json:"certificate"`
}

// Transfer is the download transfer an event of the download-* actions belongs to, and
// what the event says of it (docs/bundle.md, "Download transfers").
type Transfer struct {
	// ID names the transfer: "tr-" and 26 characters [a-z2-7].
	ID string `json:"id"`
	// Request is the seq of the download-start or download-resume event that opened
	// the request a progress, deliver or abandon event is about (for an abandon of a
	// lapsed reservation, the request that lapsed); 0 on start and resume.
	Request uint64 `json:"request,omitempty"`
	// Offset and Length are the plaintext range the request asked for (start, resume).
	Offset int64 `json:"offset,omitempty"`
	Length int64 `json:"length,omitempty"`
	// Sent is how many bytes of its range the request had sent (progress, deliver,
	// abandon).
	Sent int64 `json:"sent,omitempty"`
	// LeaseUntil is when the reservation lapses unless the transfer ends or is renewed
	// first (start, resume, progress).
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

// Event is the custody event predicate.
type Event struct {
	EvidenceID   string        `json:"evidence_id"`
	CaseID       string        `json:"case_id"`
	Seq          uint64        `json:"seq"`
	Prev         string        `json:"prev"`
	Action       Action        `json:"action"`
	Time         time.Time     `json:"time"`
	Actor        Party         `json:"actor"`
	Counterparty *Party        `json:"counterparty,omitempty"`
	LegalBasis   string        `json:"legal_basis,omitempty"`
	Exhibit      *Exhibit      `json:"exhibit,omitempty"`
	Storage      *StorageFacts `json:"storage,omitempty"`
	Grant        *Grant        `json:"grant,omitempty"`
	Receipt      *Receipt      `json:"receipt,omitempty"`
	Transfer     *Transfer     `json:"transfer,omitempty"`
	Detail       string        `json:"detail,omitempty"`
	// Act is the member's own signed act that asked for this event (docs/bundle.md,
	// "Acts"); absent on the events the gateway records on its own.
	Act *SignedAct `json:"act,omitempty"`
	// Request is set on a request-filed event: the request's facts.
	Request *Request `json:"request,omitempty"`
	// Answer is set on a request-fulfilled or request-partially-fulfilled event: the
	// exhibits shared in answer and their grants.
	Answer *Answer `json:"answer,omitempty"`
	// RequestID is set on an exhibit's share event made in answer to a request.
	RequestID string `json:"request_id,omitempty"`
	// RetainUntil, on a register event, is when the retention period of the exhibit's
	// case ends for it: the content and its data keys are kept, under object lock,
	// until then, and may be disposed of after it.
	RetainUntil *time.Time `json:"retain_until,omitempty"`
}

// Subject is an in-toto resource descriptor.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement v1 carrying a custody event.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Event     `json:"predicate"`
}

var (
	evidenceIDRe = regexp.MustCompile(`^ev-[a-z2-7]{26}$`)
	grantIDRe    = regexp.MustCompile(`^gr-[a-z2-7]{16}$`)
	transferIDRe = regexp.MustCompile(`^tr-[a-z2-7]{26}$`)
	caseIDRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	hexDigestRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidEvidenceID reports whether s is a well-formed evidence id ("ev-" and 26 base32 letters).
func ValidEvidenceID(s string) bool { return evidenceIDRe.MatchString(s) }

// ValidGrantID reports whether s is a well-formed grant id ("gr-" and 16 base32 letters).
func ValidGrantID(s string) bool { return grantIDRe.MatchString(s) }

// ValidTransferID reports whether s is a well-formed transfer id ("tr-" and 26 base32
// letters).
func ValidTransferID(s string) bool { return transferIDRe.MatchString(s) }

// ValidCaseID reports whether s is an acceptable case id: 1 to 64 letters, digits, '.',
// '_' or '-', starting with a letter or digit.
func ValidCaseID(s string) bool { return caseIDRe.MatchString(s) }

// NewStatement wraps ev in a statement whose subject is the exhibit with the given
// hex SHA-256 digest.
func NewStatement(exhibitSHA256 string, ev Event) Statement {
	return Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: ev.EvidenceID, Digest: map[string]string{"sha256": exhibitSHA256}}},
		PredicateType: PredicateType,
		Predicate:     ev,
	}
}

// Marshal encodes the statement as the canonical DSSE payload bytes.
func (s Statement) Marshal() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding statement: %w", err)
	}
	if len(b) > MaxStatementSize {
		return nil, fmt.Errorf("statement of %d bytes exceeds %d", len(b), MaxStatementSize)
	}
	return b, nil
}

// ParseStatement decodes and checks a statement: types, one subject with a sha256
// digest, a known action, well-formed ids. Unknown fields are refused.
func ParseStatement(b []byte) (Statement, error) {
	var s Statement
	if len(b) > MaxStatementSize {
		return s, fmt.Errorf("statement of %d bytes exceeds %d", len(b), MaxStatementSize)
	}
	if err := decodeStrict(b, &s); err != nil {
		return s, fmt.Errorf("decoding statement: %w", err)
	}
	if err := s.check(); err != nil {
		return s, fmt.Errorf("checking statement: %w", err)
	}
	return s, nil
}

func (s Statement) check() error {
	switch {
	case s.Type != StatementType:
		return fmt.Errorf("_type %q, want %q", s.Type, StatementType)
	case s.PredicateType != PredicateType:
		return fmt.Errorf("predicateType %q, want %q", s.PredicateType, PredicateType)
	case len(s.Subject) != 1:
		return fmt.Errorf("%d subjects, want 1", len(s.Subject))
	case !hexDigestRe.MatchString(s.Subject[0].Digest["sha256"]):
		return fmt.Errorf("subject has no valid sha256 digest")
	case s.Subject[0].Name != s.Predicate.EvidenceID:
		return fmt.Errorf("subject name %q differs from evidence id %q", s.Subject[0].Name, s.Predicate.EvidenceID)
	}
	ev := s.Predicate
	if err := ev.checkIDs(); err != nil {
		return err
	}
	switch {
	case !validActions[ev.Action]:
		return fmt.Errorf("unknown action %q", ev.Action)
	case ev.Seq == 0 && ev.Prev != "":
		return fmt.Errorf("first event has a previous digest")
	case ev.Seq > 0 && !hexDigestRe.MatchString(ev.Prev):
		return fmt.Errorf("event %d has no valid previous digest", ev.Seq)
	case IsTransferAction(ev.Action) != (ev.Transfer != nil):
		return fmt.Errorf("event %d is %q: a transfer belongs to the download-* events and to them only", ev.Seq, ev.Action)
	case ev.Transfer != nil && !ValidTransferID(ev.Transfer.ID):
		return fmt.Errorf("invalid transfer id %q", ev.Transfer.ID)
	case ev.RequestID != "" && !ValidRequestID(ev.RequestID):
		return fmt.Errorf("invalid request id %q", ev.RequestID)
	}
	if err := ev.checkSubject(s.Subject[0].Digest["sha256"]); err != nil {
		return err
	}
	if ev.Exhibit != nil && ev.Exhibit.Acquisition != nil {
		if err := ev.Exhibit.Acquisition.check(); err != nil {
			return fmt.Errorf("exhibit acquisition: %w", err)
		}
	}
	if ev.Action == ActionDispose && ev.LegalBasis == "" {
		return fmt.Errorf("dispose event names no authority (legal_basis)")
	}
	return nil
}

// Digest returns the hex SHA-256 of a statement's bytes: the event digest that the
// next event's Prev and the log leaf carry.
func Digest(statement []byte) string {
	sum := sha256.Sum256(statement)
	return hex.EncodeToString(sum[:])
}
