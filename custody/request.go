package custody

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Request actions: the custody events of a request's own chain (docs/bundle.md,
// "Requests"). A request is a custody subject like an exhibit: its events are signed,
// chained and logged the same way, under the request's id.
const (
	// ActionRequestFiled is event 0 of a request: the requesting agency files it,
	// with its facts (Event.Request).
	ActionRequestFiled Action = "request-filed"
	// ActionRequestAcknowledged: the addressee acknowledges receipt.
	ActionRequestAcknowledged Action = "request-acknowledged"
	// ActionRequestFulfilled and ActionRequestPartiallyFulfilled: the addressee
	// answers with grants of exhibits (Event.Answer).
	ActionRequestFulfilled          Action = "request-fulfilled"
	ActionRequestPartiallyFulfilled Action = "request-partially-fulfilled"
	// ActionRequestRefused: the addressee refuses, with a reason (Event.Detail).
	ActionRequestRefused Action = "request-refused"
	// ActionRequestWithdrawn: the requesting agency withdraws the request.
	ActionRequestWithdrawn Action = "request-withdrawn"
	// ActionRequestOverdue: the deadline passed with no final answer.
	ActionRequestOverdue Action = "request-overdue"
)

// requestActions are the actions of a request's chain besides those any subject may
// have (bundle-export, integrity-failure).
var requestActions = map[Action]bool{
	ActionRequestFiled: true, ActionRequestAcknowledged: true, ActionRequestFulfilled: true,
	ActionRequestPartiallyFulfilled: true, ActionRequestRefused: true, ActionRequestWithdrawn: true,
	ActionRequestOverdue: true,
}

// subjectActions may appear in the chain of an exhibit and of a request alike.
var subjectActions = map[Action]bool{ActionBundleExport: true, ActionIntegrityFailure: true}

var requestIDRe = regexp.MustCompile(`^rq-[a-z2-7]{26}$`)

// ValidRequestID reports whether s is a well-formed request id ("rq-" and 26 base32
// letters).
func ValidRequestID(s string) bool { return requestIDRe.MatchString(s) }

// ValidSubjectID reports whether s names a custody subject: an exhibit or a request.
func ValidSubjectID(s string) bool { return ValidEvidenceID(s) || ValidRequestID(s) }

// Request is what a request-filed event records: a request for evidence under a legal
// instrument, from one agency to another.
type Request struct {
	// Instrument is the id of the legal instrument (docs/exchange.md), such as "eio",
	// "mlat", "epoc", "epoc-pr" or "budapest-2ap-art7".
	Instrument string `json:"instrument"`
	// Reference is the requesting authority's own reference of the request.
	Reference string `json:"reference"`
	// IssuingAuthority names the authority that issued the order or request.
	IssuingAuthority string `json:"issuing_authority"`
	// Sought says what evidence is sought.
	Sought string `json:"sought"`
	// From is the requesting agency, To the agency the request is addressed to.
	From string `json:"from"`
	To   string `json:"to"`
	// Deadline is when the answer is due (UTC, whole seconds).
	Deadline  time.Time `json:"deadline"`
	Emergency bool      `json:"emergency,omitempty"`
	// TagKey is the hex 32-byte key of the request's leaf tags (see Leaf).
	TagKey string `json:"tag_key"`
}

// requestDigestContext starts the bytes a request's subject digest is taken over.
const requestDigestContext = "evidencegw-request/v1\n"

// RequestDigest returns the subject digest of request id filed with facts r under case
// caseID: the hex SHA-256 of
//
//	"evidencegw-request/v1\n" || id || "\n" || instrument || "\n" || reference || "\n" ||
//	issuing_authority || "\n" || sought || "\n" || case_id || "\n" || from || "\n" ||
//	to || "\n" || deadline (RFC 3339, UTC) || "\n" || emergency ("true"/"false") || "\n" ||
//	tag_key || "\n"
//
// Free text never holds a line break (docs/api.md, "Free text"), so the encoding is
// unambiguous. Every event of the request carries this digest as its subject, binding
// the whole chain to the request as filed.
func RequestDigest(id, caseID string, r Request) string {
	var b strings.Builder
	b.WriteString(requestDigestContext)
	for _, f := range []string{id, r.Instrument, r.Reference, r.IssuingAuthority, r.Sought, caseID, r.From, r.To,
		r.Deadline.UTC().Format(time.RFC3339), strconv.FormatBool(r.Emergency), r.TagKey} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Answer is what an addressee's answer to a request records: the exhibits it shared
// in answer and the grants it made of them.
type Answer struct {
	Shares []AnswerShare `json:"shares"`
}

// AnswerShare is one exhibit shared in answer to a request.
type AnswerShare struct {
	EvidenceID string `json:"evidence_id"`
	GrantID    string `json:"grant_id"`
}

// SubjectDigest returns the hex SHA-256 the statements of this event's subject carry:
// the exhibit's content digest on a register event, the request digest on a
// request-filed event, "" on others (they carry their chain's).
func (e Event) SubjectDigest() string {
	switch {
	case e.Exhibit != nil:
		return e.Exhibit.SHA256
	case e.Request != nil:
		return RequestDigest(e.EvidenceID, e.CaseID, *e.Request)
	}
	return ""
}

// checkIDs checks the subject id and the case id: a request may have no case.
func (ev Event) checkIDs() error {
	switch {
	case !ValidSubjectID(ev.EvidenceID):
		return errorf("invalid evidence id %q", ev.EvidenceID)
	case ValidRequestID(ev.EvidenceID) && ev.CaseID == "":
		return nil
	case !ValidCaseID(ev.CaseID):
		return errorf("invalid case id %q", ev.CaseID)
	}
	return nil
}

// checkSubject checks the rules that depend on the kind of subject: which action
// starts the chain, which actions the chain may hold, what the first event carries.
func (ev Event) checkSubject(subjectDigest string) error {
	request := ValidRequestID(ev.EvidenceID)
	first, firstDoes := ActionRegister, "registers"
	if request {
		first, firstDoes = ActionRequestFiled, "files the request"
	}
	switch {
	case request && !requestActions[ev.Action] && !subjectActions[ev.Action]:
		return errorf("action %q is not an action of a request", ev.Action)
	case !request && requestActions[ev.Action]:
		return errorf("action %q is an action of a request, not of an exhibit", ev.Action)
	case (ev.Seq == 0) != (ev.Action == first):
		return errorf("event %d is %q: only event 0 %s", ev.Seq, ev.Action, firstDoes)
	case ev.Action == ActionRegister && (ev.Exhibit == nil || ev.Storage == nil):
		return errorf("register event lacks exhibit or storage facts")
	case ev.Action == ActionRequestFiled && ev.Request == nil:
		return errorf("request-filed event lacks the request")
	case ev.Request != nil && ev.Action != ActionRequestFiled:
		return errorf("only a request-filed event carries a request")
	}
	if d := ev.SubjectDigest(); d != "" && d != subjectDigest {
		if request {
			return errorf("request digest differs from subject digest")
		}
		return errorf("exhibit digest differs from subject digest")
	}
	return nil
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
