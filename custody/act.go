package custody

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ActPredicateType identifies the act predicate, version 1: what a member signs with
// their own key when they ask the gateway to change custody (docs/bundle.md, "Acts").
const ActPredicateType = "https://github.com/evidencegw/evidencegw/custody-act/v1"

// ActSkew bounds how far an act's time may be from the time of the event that records
// it: an act is signed just before it is sent. A register act is only bounded from
// above: the upload it announces may last hours.
const ActSkew = 5 * time.Minute

// Bounds of a signed act.
const (
	// MaxActSize bounds the JSON encoding of a SignedAct.
	MaxActSize = 16 << 10
	// maxActStatement bounds an act statement.
	maxActStatement = 8 << 10
	// maxActCertificates bounds the certificate chain of an act.
	maxActCertificates = 4
)

// actActions are the actions a member signs an act for.
var actActions = map[Action]bool{
	ActionRegister: true, ActionShare: true, ActionRevoke: true, ActionAccept: true,
	ActionLegalHold: true, ActionLegalHoldRelease: true, ActionReceived: true, ActionDispose: true,
	ActionRequestFiled: true, ActionRequestAcknowledged: true, ActionRequestFulfilled: true,
	ActionRequestPartiallyFulfilled: true, ActionRequestRefused: true, ActionRequestWithdrawn: true,
}

// answerActions are the acts of an answer to a request that shares exhibits: each
// share event of the answer records the act too.
var answerActions = map[Action]bool{ActionRequestFulfilled: true, ActionRequestPartiallyFulfilled: true}

// ActActions reports whether a is an action a member signs an act for.
func ActActions(a Action) bool { return actActions[a] }

// Act is the act predicate: the change of custody a member asks for, in their own name.
// Which fields an action uses is specified in docs/bundle.md; the others are absent.
type Act struct {
	Action Action `json:"action"`
	// Time is when the member signed, in UTC.
	Time time.Time `json:"time"`
	// Nonce is 16 random bytes in hex: two acts are never the same bytes.
	Nonce string `json:"nonce"`
	// CaseID and Description: register; CaseID also request-filed, where it is
	// optional.
	CaseID      string `json:"case_id,omitempty"`
	Description string `json:"description,omitempty"`
	// Acquisition: register, the forensic metadata the register event records
	// (exhibit.acquisition), when the upload carries any.
	Acquisition *Acquisition `json:"acquisition,omitempty"`
	// GrantID: revoke, accept, and received under a grant.
	GrantID string `json:"grant_id,omitempty"`
	// Terms: share.
	Terms *GrantTerms `json:"terms,omitempty"`
	// Reason: revoke, legal-hold, legal-hold-release; the note of
	// request-acknowledged, request-withdrawn and of an answer that shares exhibits;
	// the reason of request-refused, which needs one.
	Reason string `json:"reason,omitempty"`
	// Request: request-filed, the request as the member files it.
	Request *ActRequest `json:"request,omitempty"`
	// Answer: request-fulfilled and request-partially-fulfilled, the exhibits shared
	// in answer and the terms of their grants.
	Answer *ActAnswer `json:"answer,omitempty"`
	// Authority: dispose, the authority the disposal is made under.
	Authority string `json:"authority,omitempty"`
	// Download is the event digest of the download a received act acknowledges; Size
	// the number of bytes received.
	Download string `json:"download,omitempty"`
	Size     int64  `json:"size,omitempty"`
}

// GrantTerms are the terms of a share, as the owner signs them.
type GrantTerms struct {
	To           string    `json:"to"`
	LegalBasis   string    `json:"legal_basis"`
	Expires      time.Time `json:"expires"`
	MaxDownloads int       `json:"max_downloads,omitempty"`
	ViewOnly     bool      `json:"view_only,omitempty"`
}

// ActRequest is a request for evidence as the requesting member files it: the facts of
// the request-filed event (Request) the member chooses. The gateway assigns the
// request's id and leaf-tag key; with no Deadline, the instrument's default deadline
// applies, which the gateway sets.
type ActRequest struct {
	To               string     `json:"to"`
	Instrument       string     `json:"instrument"`
	Reference        string     `json:"reference"`
	IssuingAuthority string     `json:"issuing_authority"`
	Sought           string     `json:"sought"`
	Deadline         *time.Time `json:"deadline,omitempty"`
	Emergency        bool       `json:"emergency,omitempty"`
}

// ActAnswer is an answer that shares exhibits, as the addressee signs it: the exhibits
// it shares (each once, in the order of the answer) and the terms of every grant made
// in answer. The grants go to the requester under the request's instrument; with no
// Expires, the instrument's grant period applies, which the gateway sets.
type ActAnswer struct {
	Exhibits     []string   `json:"exhibits"`
	Expires      *time.Time `json:"expires,omitempty"`
	MaxDownloads int        `json:"max_downloads,omitempty"`
	ViewOnly     bool       `json:"view_only,omitempty"`
}

// maxAnswerExhibits bounds the exhibits an answer act names.
const maxAnswerExhibits = 64

// filingDigestContext starts the bytes a request-filed act's subject digest is taken
// over.
const filingDigestContext = "evidencegw-request-filing/v1\n"

// FilingDigest returns the subject digest of a request-filed act filing r under case
// caseID: the hex SHA-256 of
//
//	"evidencegw-request-filing/v1\n" || to || "\n" || instrument || "\n" || reference ||
//	"\n" || issuing_authority || "\n" || sought || "\n" || case_id || "\n" ||
//	deadline (RFC 3339, UTC; "" if absent) || "\n" || emergency ("true"/"false") || "\n"
//
// The request's own subject digest (RequestDigest) covers its id and leaf-tag key,
// which the gateway assigns after the act is signed.
func FilingDigest(caseID string, r ActRequest) string {
	var b strings.Builder
	b.WriteString(filingDigestContext)
	deadline := ""
	if r.Deadline != nil {
		deadline = r.Deadline.UTC().Format(time.RFC3339)
	}
	for _, f := range []string{r.To, r.Instrument, r.Reference, r.IssuingAuthority, r.Sought, caseID, deadline,
		strconv.FormatBool(r.Emergency)} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// ActSubject is the in-toto subject of an act: the evidence (no name for a register
// act, whose evidence id the gateway assigns) and the SHA-256 of its content (for a
// received act: of the content received); for an act on a request, the request and
// its subject digest (RequestDigest), except for a request-filed act: no name (the
// gateway assigns the id) and the FilingDigest of the request it files.
type ActSubject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// ActStatement is an in-toto Statement v1 carrying an act.
type ActStatement struct {
	Type          string       `json:"_type"`
	Subject       []ActSubject `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     Act          `json:"predicate"`
}

// SignedAct is an act as the member sends it and as the event that records it keeps
// it: the DSSE envelope of the act statement, signed with the member's key, and the
// certificate of that key with its intermediates (DER, leaf first).
type SignedAct struct {
	Envelope     Envelope `json:"envelope"`
	Certificates [][]byte `json:"certificates"`
}

var nonceRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// NewActStatement wraps a in the statement about the subject with the given id ("" for
// a register or request-filed act) and digest (hex SHA-256: see ActSubject). Times are
// kept in UTC; an acquisition that says nothing is left out.
func NewActStatement(evidenceID, sha256Hex string, a Act) ActStatement {
	a.Time = a.Time.UTC()
	if a.Terms != nil {
		t := *a.Terms
		t.Expires = t.Expires.UTC()
		a.Terms = &t
	}
	if a.Acquisition.IsZero() {
		a.Acquisition = nil
	} else if a.Acquisition.SeizedAt != nil {
		c, t := *a.Acquisition, a.Acquisition.SeizedAt.UTC()
		c.SeizedAt = &t
		a.Acquisition = &c
	}
	if a.Request != nil && a.Request.Deadline != nil {
		r, t := *a.Request, a.Request.Deadline.UTC()
		r.Deadline = &t
		a.Request = &r
	}
	if a.Answer != nil && a.Answer.Expires != nil {
		an, t := *a.Answer, a.Answer.Expires.UTC()
		an.Expires = &t
		a.Answer = &an
	}
	return ActStatement{
		Type:          StatementType,
		Subject:       []ActSubject{{Name: evidenceID, Digest: map[string]string{"sha256": sha256Hex}}},
		PredicateType: ActPredicateType,
		Predicate:     a,
	}
}

// Marshal encodes the statement as the DSSE payload bytes to sign.
func (s ActStatement) Marshal() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding act statement: %w", err)
	}
	if len(b) > maxActStatement {
		return nil, fmt.Errorf("act statement of %d bytes exceeds %d", len(b), maxActStatement)
	}
	return b, nil
}

// EvidenceID returns the subject the act names: an evidence or request id; "" for a
// register or request-filed act.
func (s ActStatement) EvidenceID() string { return s.Subject[0].Name }

// SHA256 returns the subject digest the act names: a content digest, or a request's.
func (s ActStatement) SHA256() string { return s.Subject[0].Digest["sha256"] }

// ParseActStatement decodes and checks an act statement: its types, one subject with a
// sha256 digest, named by a well-formed evidence id except for a register act, an
// action members sign, a time, a nonce, and the fields of its action. Unknown fields are
// refused.
func ParseActStatement(b []byte) (ActStatement, error) {
	var s ActStatement
	if len(b) > maxActStatement {
		return s, fmt.Errorf("act statement of %d bytes exceeds %d", len(b), maxActStatement)
	}
	if err := decodeStrict(b, &s); err != nil {
		return s, fmt.Errorf("decoding act statement: %w", err)
	}
	if err := s.check(); err != nil {
		return s, fmt.Errorf("checking act statement: %w", err)
	}
	return s, nil
}

func (s ActStatement) check() error {
	switch {
	case s.Type != StatementType:
		return fmt.Errorf("_type %q, want %q", s.Type, StatementType)
	case s.PredicateType != ActPredicateType:
		return fmt.Errorf("predicateType %q, want %q", s.PredicateType, ActPredicateType)
	case len(s.Subject) != 1:
		return fmt.Errorf("%d subjects, want 1", len(s.Subject))
	case len(s.Subject[0].Digest) != 1 || !hexDigestRe.MatchString(s.Subject[0].Digest["sha256"]):
		return fmt.Errorf("subject has not exactly one digest, a valid sha256")
	}
	a := s.Predicate
	switch {
	case !actActions[a.Action]:
		return fmt.Errorf("action %q is not one a member signs", a.Action)
	case (a.Action == ActionRegister || a.Action == ActionRequestFiled) != (s.EvidenceID() == ""):
		return fmt.Errorf("a register act names no evidence id and a request-filed act no request id, every other act names one")
	case requestActions[a.Action] && a.Action != ActionRequestFiled && !ValidRequestID(s.EvidenceID()):
		return fmt.Errorf("a %s act names a request, not %q", a.Action, s.EvidenceID())
	case !requestActions[a.Action] && s.EvidenceID() != "" && !ValidEvidenceID(s.EvidenceID()):
		return fmt.Errorf("invalid evidence id %q", s.EvidenceID())
	case a.Time.IsZero():
		return fmt.Errorf("no time")
	case !nonceRe.MatchString(a.Nonce):
		return fmt.Errorf("nonce is not 32 lowercase hex digits")
	case a.GrantID != "" && !ValidGrantID(a.GrantID):
		return fmt.Errorf("invalid grant id %q", a.GrantID)
	case a.Size < 0:
		return fmt.Errorf("negative size")
	}
	if err := a.checkFields(); err != nil {
		return err
	}
	return s.checkFiling()
}

// actFields lists, for each field an action may carry, the actions it belongs to and
// whether they require it.
var actFields = []struct {
	name     string
	set      func(Act) bool
	allowed  []Action
	required []Action
}{
	{"case_id", func(a Act) bool { return a.CaseID != "" }, []Action{ActionRegister, ActionRequestFiled}, []Action{ActionRegister}},
	{"description", func(a Act) bool { return a.Description != "" }, []Action{ActionRegister}, nil},
	{"acquisition", func(a Act) bool { return a.Acquisition != nil }, []Action{ActionRegister}, nil},
	{"grant_id", func(a Act) bool { return a.GrantID != "" }, []Action{ActionRevoke, ActionAccept, ActionReceived}, []Action{ActionRevoke, ActionAccept}},
	{"terms", func(a Act) bool { return a.Terms != nil }, []Action{ActionShare}, []Action{ActionShare}},
	{"reason", func(a Act) bool { return a.Reason != "" }, []Action{ActionRevoke, ActionLegalHold, ActionLegalHoldRelease,
		ActionRequestAcknowledged, ActionRequestWithdrawn, ActionRequestFulfilled, ActionRequestPartiallyFulfilled, ActionRequestRefused},
		[]Action{ActionRequestRefused}},
	{"request", func(a Act) bool { return a.Request != nil }, []Action{ActionRequestFiled}, []Action{ActionRequestFiled}},
	{"answer", func(a Act) bool { return a.Answer != nil }, []Action{ActionRequestFulfilled, ActionRequestPartiallyFulfilled},
		[]Action{ActionRequestFulfilled, ActionRequestPartiallyFulfilled}},
	{"authority", func(a Act) bool { return a.Authority != "" }, []Action{ActionDispose}, []Action{ActionDispose}},
	{"download", func(a Act) bool { return a.Download != "" }, []Action{ActionReceived}, []Action{ActionReceived}},
	{"size", func(a Act) bool { return a.Size != 0 }, []Action{ActionReceived}, nil},
}

// checkFields checks that the act carries the fields its action requires and no field
// of another action.
func (a Act) checkFields() error {
	for _, f := range actFields {
		set := f.set(a)
		switch {
		case set && !slices.Contains(f.allowed, a.Action):
			return fmt.Errorf("a %s act has no %s", a.Action, f.name)
		case !set && slices.Contains(f.required, a.Action):
			return fmt.Errorf("a %s act needs %s", a.Action, f.name)
		}
	}
	switch {
	case a.Action == ActionRegister && !ValidCaseID(a.CaseID):
		return fmt.Errorf("invalid case id %q", a.CaseID)
	case a.Action == ActionReceived && !hexDigestRe.MatchString(a.Download):
		return fmt.Errorf("download is not an event digest")
	case a.Terms != nil && a.Terms.Expires.IsZero():
		return fmt.Errorf("the grant terms have no expiry")
	case a.Acquisition != nil && a.Acquisition.IsZero():
		return fmt.Errorf("an acquisition that says nothing is left out")
	case a.Request != nil && (a.Request.To == "" || a.Request.Instrument == "" || a.Request.Reference == "" || a.Request.IssuingAuthority == "" || a.Request.Sought == ""):
		return fmt.Errorf("the request needs an addressee, instrument, reference, issuing authority and what is sought")
	case a.Action == ActionRequestFiled && a.CaseID != "" && !ValidCaseID(a.CaseID):
		return fmt.Errorf("invalid case id %q", a.CaseID)
	}
	if a.Acquisition != nil {
		if err := a.Acquisition.check(); err != nil {
			return err
		}
	}
	if an := a.Answer; an != nil {
		if len(an.Exhibits) == 0 || len(an.Exhibits) > maxAnswerExhibits {
			return fmt.Errorf("an answer names 1 to %d exhibits, not %d", maxAnswerExhibits, len(an.Exhibits))
		}
		for i, id := range an.Exhibits {
			if !ValidEvidenceID(id) || slices.Contains(an.Exhibits[:i], id) {
				return fmt.Errorf("the answer's exhibit %d is not a valid evidence id named once", i)
			}
		}
		if an.MaxDownloads < 0 {
			return fmt.Errorf("the answer's max_downloads is negative")
		}
	}
	return nil
}

// checkFiling checks that the subject of a request-filed act is: the FilingDigest of
// the request it files.
func (s ActStatement) checkFiling() error {
	if s.Predicate.Action == ActionRequestFiled && s.SHA256() != FilingDigest(s.Predicate.CaseID, *s.Predicate.Request) {
		return fmt.Errorf("the subject digest of a request-filed act is not the filing digest of its request")
	}
	return nil
}

// CheckActEvent checks that an act names exactly the event that records it: the same
// action, subject (and, for a register act, case, description, acquisition and content
// digest; for a request-filed act, the request as filed), grant and grant terms,
// reason, answer and authority. registered is the subject digest of the event's chain
// (an exhibit's registered content digest, a request's RequestDigest): every act but a
// received or request-filed one names it. A share event made in answer to a request
// records the answer's act, which names the request instead (checkAnswerShare). It does
// not check the signature, the act's time or its place in the chain.
func CheckActEvent(s ActStatement, ev Event, registered string) error {
	a := s.Predicate
	if ev.Action == ActionShare && answerActions[a.Action] {
		return checkAnswerShare(s, ev)
	}
	switch {
	case a.Action != ev.Action:
		return fmt.Errorf("the act asks for %s, the event records %s", a.Action, ev.Action)
	case a.Action != ActionRegister && a.Action != ActionRequestFiled && s.EvidenceID() != ev.EvidenceID:
		return fmt.Errorf("the act names %s %s, the event is about %s", subjectKind(s.EvidenceID()), s.EvidenceID(), ev.EvidenceID)
	case a.Action != ActionReceived && a.Action != ActionRequestFiled && s.SHA256() != registered:
		return fmt.Errorf("the act names content %s, the subject was registered with %s", s.SHA256(), registered)
	}
	switch a.Action {
	case ActionRegister:
		if ev.Exhibit == nil || a.CaseID != ev.CaseID || a.Description != ev.Exhibit.Description {
			return fmt.Errorf("the act registers content for case %q described %q, the event records another case or description", a.CaseID, a.Description)
		}
		if !a.Acquisition.equal(ev.Exhibit.Acquisition) {
			return fmt.Errorf("the act's acquisition facts differ from the event's")
		}
	case ActionShare:
		if ev.Grant == nil || !a.Terms.equal(ev.Grant) {
			return fmt.Errorf("the act's grant terms differ from the event's grant")
		}
	case ActionRevoke, ActionRequestAcknowledged, ActionRequestWithdrawn, ActionRequestRefused:
		if ev.Detail != a.Reason {
			return fmt.Errorf("the act's reason differs from the event's")
		}
	case ActionLegalHold, ActionLegalHoldRelease:
		if a.Reason != "" && ev.Detail != a.Reason && !hasDetailPrefix(ev.Detail, a.Reason) {
			return fmt.Errorf("the act's reason differs from the event's")
		}
	case ActionRequestFiled:
		if ev.Request == nil || a.CaseID != ev.CaseID || !a.Request.matches(ev.Request) || ev.Request.From != ev.Actor.Agency {
			return fmt.Errorf("the act files another request than the event records")
		}
	case ActionRequestFulfilled, ActionRequestPartiallyFulfilled:
		if ev.Detail != a.Reason {
			return fmt.Errorf("the act's reason differs from the event's")
		}
		if ev.Answer == nil || len(ev.Answer.Shares) != len(a.Answer.Exhibits) {
			return fmt.Errorf("the act answers with other exhibits than the event records")
		}
		for i, sh := range ev.Answer.Shares {
			if sh.EvidenceID != a.Answer.Exhibits[i] {
				return fmt.Errorf("the act answers with other exhibits than the event records")
			}
		}
	case ActionDispose:
		if ev.LegalBasis != a.Authority {
			return fmt.Errorf("the act names another authority than the event records")
		}
	}
	if a.GrantID != "" || a.Action == ActionRevoke || a.Action == ActionAccept {
		if ev.Grant == nil || ev.Grant.ID != a.GrantID {
			return fmt.Errorf("the act names grant %q, the event another", a.GrantID)
		}
	}
	return nil
}

// subjectKind names the kind of subject id names.
func subjectKind(id string) string {
	if ValidRequestID(id) {
		return "request"
	}
	return "evidence"
}

// checkAnswerShare checks that the act of an answer that shares exhibits names the
// share event that records it: a grant made in answer to the request the act names,
// of one of the exhibits it names, on the act's terms.
func checkAnswerShare(s ActStatement, ev Event) error {
	an := s.Predicate.Answer
	g := ev.Grant
	switch {
	case g == nil || ev.RequestID != s.EvidenceID() || g.RequestID != s.EvidenceID():
		return fmt.Errorf("the act answers request %s, the share is not made in answer to it", s.EvidenceID())
	case !slices.Contains(an.Exhibits, ev.EvidenceID):
		return fmt.Errorf("the act's answer does not name %s", ev.EvidenceID)
	case g.MaxDownloads != an.MaxDownloads || g.ViewOnly != an.ViewOnly || (an.Expires != nil && !an.Expires.Equal(g.Expires)):
		return fmt.Errorf("the act's grant terms differ from the event's grant")
	}
	return nil
}

// matches reports whether the request r as the member filed it is the request the
// event records: the same facts, and the same deadline if the member named one.
func (r *ActRequest) matches(e *Request) bool {
	return r.To == e.To && r.Instrument == e.Instrument && r.Reference == e.Reference &&
		r.IssuingAuthority == e.IssuingAuthority && r.Sought == e.Sought && r.Emergency == e.Emergency &&
		(r.Deadline == nil || r.Deadline.Equal(e.Deadline))
}

// equal reports whether the acquisition facts of an act are those of the event: both
// say nothing, or they say the same.
func (a *Acquisition) equal(b *Acquisition) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.ExhibitNumber == b.ExhibitNumber && maps.Equal(a.SourceHashes, b.SourceHashes) && a.Tool == b.Tool &&
		a.ToolVersion == b.ToolVersion && a.Examiner == b.Examiner && a.SeizedPlace == b.SeizedPlace && a.Notes == b.Notes &&
		(a.SeizedAt == nil) == (b.SeizedAt == nil) && (a.SeizedAt == nil || a.SeizedAt.Equal(*b.SeizedAt))
}

// hasDetailPrefix reports whether detail is reason followed by "; " and a note of the
// gateway's (docs/bundle.md, "Acts").
func hasDetailPrefix(detail, reason string) bool {
	return len(detail) > len(reason)+2 && detail[:len(reason)] == reason && detail[len(reason):len(reason)+2] == "; "
}

func (t *GrantTerms) equal(g *Grant) bool {
	return t.To == g.To && t.LegalBasis == g.LegalBasis && t.Expires.Equal(g.Expires) &&
		t.MaxDownloads == g.MaxDownloads && t.ViewOnly == g.ViewOnly
}

// CheckActTime checks an act's time against the time of the event that records it
// (ActSkew).
func CheckActTime(a Act, eventTime time.Time) error {
	if a.Time.After(eventTime.Add(ActSkew)) {
		return fmt.Errorf("the act is dated %s, after the event (%s)", a.Time.UTC().Format(time.RFC3339), eventTime.UTC().Format(time.RFC3339))
	}
	if a.Action != ActionRegister && a.Time.Before(eventTime.Add(-ActSkew)) {
		return fmt.Errorf("the act is dated %s, more than %v before the event (%s)", a.Time.UTC().Format(time.RFC3339), ActSkew, eventTime.UTC().Format(time.RFC3339))
	}
	return nil
}
