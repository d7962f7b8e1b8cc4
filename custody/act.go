package custody

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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
	ActionLegalHold: true, ActionLegalHoldRelease: true, ActionReceived: true,
}

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
	// CaseID and Description: register.
	CaseID      string `json:"case_id,omitempty"`
	Description string `json:"description,omitempty"`
	// GrantID: revoke, accept, and received under a grant.
	GrantID string `json:"grant_id,omitempty"`
	// Terms: share.
	Terms *GrantTerms `json:"terms,omitempty"`
	// Reason: revoke, legal-hold, legal-hold-release.
	Reason string `json:"reason,omitempty"`
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

// ActSubject is the in-toto subject of an act: the evidence (no name for a register
// act, whose evidence id the gateway assigns) and the SHA-256 of its content (for a
// received act: of the content received).
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

// NewActStatement wraps a in the statement about the evidence with the given id ("" for
// a register act) and content digest (hex SHA-256). The time is kept in UTC.
func NewActStatement(evidenceID, sha256Hex string, a Act) ActStatement {
	a.Time = a.Time.UTC()
	if a.Terms != nil {
		t := *a.Terms
		t.Expires = t.Expires.UTC()
		a.Terms = &t
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

// EvidenceID returns the evidence the act names; "" for a register act.
func (s ActStatement) EvidenceID() string { return s.Subject[0].Name }

// SHA256 returns the content digest the act names.
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
	case (a.Action == ActionRegister) != (s.EvidenceID() == ""):
		return fmt.Errorf("a register act names no evidence id, every other act names one")
	case s.EvidenceID() != "" && !ValidEvidenceID(s.EvidenceID()):
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
	return a.checkFields()
}

// actFields lists, for each field an action may carry, the actions it belongs to and
// whether they require it.
var actFields = []struct {
	name     string
	set      func(Act) bool
	allowed  []Action
	required []Action
}{
	{"case_id", func(a Act) bool { return a.CaseID != "" }, []Action{ActionRegister}, []Action{ActionRegister}},
	{"description", func(a Act) bool { return a.Description != "" }, []Action{ActionRegister}, nil},
	{"grant_id", func(a Act) bool { return a.GrantID != "" }, []Action{ActionRevoke, ActionAccept, ActionReceived}, []Action{ActionRevoke, ActionAccept}},
	{"terms", func(a Act) bool { return a.Terms != nil }, []Action{ActionShare}, []Action{ActionShare}},
	{"reason", func(a Act) bool { return a.Reason != "" }, []Action{ActionRevoke, ActionLegalHold, ActionLegalHoldRelease}, nil},
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
	}
	return nil
}

// CheckActEvent checks that an act names exactly the event that records it: the same
// action, evidence (and, for a register act, case, description and content
// digest), grant and grant terms, and reason. registered is the exhibit's registered
// content digest: every act but a received one names it. It does not check the
// signature, the act's time or its place in the chain.
func CheckActEvent(s ActStatement, ev Event, registered string) error {
	a := s.Predicate
	switch {
	case a.Action != ev.Action:
		return fmt.Errorf("the act asks for %s, the event records %s", a.Action, ev.Action)
	case a.Action != ActionRegister && s.EvidenceID() != ev.EvidenceID:
		return fmt.Errorf("the act names evidence %s, the event is about %s", s.EvidenceID(), ev.EvidenceID)
	case a.Action != ActionReceived && s.SHA256() != registered:
		return fmt.Errorf("the act names content %s, the evidence was registered with %s", s.SHA256(), registered)
	}
	switch a.Action {
	case ActionRegister:
		if ev.Exhibit == nil || a.CaseID != ev.CaseID || a.Description != ev.Exhibit.Description {
			return fmt.Errorf("the act registers content for case %q described %q, the event records another case or description", a.CaseID, a.Description)
		}
	case ActionShare:
		if ev.Grant == nil || !a.Terms.equal(ev.Grant) {
			return fmt.Errorf("the act's grant terms differ from the event's grant")
		}
	case ActionRevoke:
		if ev.Detail != a.Reason {
			return fmt.Errorf("the act's reason differs from the event's")
		}
	case ActionLegalHold, ActionLegalHoldRelease:
		if a.Reason != "" && ev.Detail != a.Reason && !hasDetailPrefix(ev.Detail, a.Reason) {
			return fmt.Errorf("the act's reason differs from the event's")
		}
	}
	if a.GrantID != "" || a.Action == ActionRevoke || a.Action == ActionAccept {
		if ev.Grant == nil || ev.Grant.ID != a.GrantID {
			return fmt.Errorf("the act names grant %q, the event another", a.GrantID)
		}
	}
	return nil
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
