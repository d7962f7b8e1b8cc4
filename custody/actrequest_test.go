package custody

import (
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The acts of requests, answers, disposals and the acquisition facts of a
// registration: what ParseActStatement and CheckActEvent accept and refuse, the checks
// the gateway makes before it records an act and a court makes after.

const otherRequestID = "rq-bbbbbbbbbbbbbbbbbbbbbbbbbb"

// actCase is an act about subject (id, digest) and the event that records it.
type actCase struct {
	name       string
	id, digest string
	act        Act
	event      Event
	registered string
	want       string // "" for success, else a part of the error
}

func (c actCase) run(t *testing.T) {
	t.Helper()
	c.act.Nonce = strings.Repeat("cd", 16)
	if c.act.Time.IsZero() {
		c.act.Time = signedStart
	}
	b, err := NewActStatement(c.id, c.digest, c.act).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseActStatement(b)
	if err == nil {
		err = CheckActEvent(s, c.event, c.registered)
	}
	switch {
	case c.want == "" && err != nil:
		t.Errorf("%s: got %v, want the act accepted", c.name, err)
	case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
		t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
	}
}

// filedEvent is the request-filed event of validRequestStatement and the act that
// files it.
func filedEvent(t *testing.T) (Event, ActRequest) {
	t.Helper()
	ev := validRequestStatement().Predicate
	r := ev.Request
	return ev, ActRequest{To: r.To, Instrument: r.Instrument, Reference: r.Reference, IssuingAuthority: r.IssuingAuthority,
		Sought: r.Sought, Emergency: r.Emergency}
}

func TestRequestFiledActs(t *testing.T) {
	ev, facts := filedEvent(t)
	with := func(f func(r *ActRequest)) *ActRequest { r := facts; f(&r); return &r }
	act := func(r *ActRequest) Act { return Act{Action: ActionRequestFiled, CaseID: ev.CaseID, Request: r} }
	deadline := ev.Request.Deadline.In(time.FixedZone("CET", 3600))
	other := ev
	other.Actor.Agency = "agency-de"
	for _, c := range []actCase{
		{name: "as filed, the deadline the instrument's", act: act(&facts), event: ev},
		{name: "as filed, with its deadline", act: act(with(func(r *ActRequest) { r.Deadline = &deadline })), event: ev},
		{name: "another deadline", act: act(with(func(r *ActRequest) { d := deadline.Add(time.Hour); r.Deadline = &d })), event: ev,
			want: "files another request"},
		{name: "another thing sought", act: act(with(func(r *ActRequest) { r.Sought = "everything" })), event: ev, want: "files another request"},
		{name: "another addressee", act: act(with(func(r *ActRequest) { r.To = "agency-de" })), event: ev, want: "files another request"},
		{name: "an emergency the event does not record", act: act(with(func(r *ActRequest) { r.Emergency = true })), event: ev,
			want: "files another request"},
		{name: "another case", act: Act{Action: ActionRequestFiled, CaseID: "CASE-2", Request: &facts}, event: ev, want: "files another request"},
		{name: "filed by another agency than the requester", act: act(&facts), event: other, want: "files another request"},
		{name: "no request", digest: strings.Repeat("0", 64), act: Act{Action: ActionRequestFiled, CaseID: ev.CaseID}, event: ev, want: "needs request"},
		{name: "nothing sought", act: act(with(func(r *ActRequest) { r.Sought = "" })), event: ev, want: "what is sought"},
		{name: "naming the request id", id: testRequestID, act: act(&facts), event: ev, want: "request-filed act no request id"},
	} {
		if c.digest == "" && c.act.Request != nil {
			c.digest = FilingDigest(c.act.CaseID, *c.act.Request)
		}
		c.run(t)
	}
	// The subject digest is the filing digest of the facts the act names.
	actCase{name: "subject digest of other facts", digest: FilingDigest(ev.CaseID, *with(func(r *ActRequest) { r.Sought = "x" })),
		act: act(&facts), event: ev, want: "not the filing digest"}.run(t)
}

func TestRequestChangeActs(t *testing.T) {
	filed, _ := filedEvent(t)
	digest := filed.SubjectDigest()
	ev := func(a Action, detail string) Event {
		return Event{EvidenceID: testRequestID, CaseID: filed.CaseID, Seq: 1, Action: a, Detail: detail,
			Actor: Party{Agency: "agency-us", Jurisdiction: "US"}}
	}
	answered := ev(ActionRequestFulfilled, "")
	answered.Answer = &Answer{Shares: []AnswerShare{{EvidenceID: signedEvidenceID, GrantID: signedGrantID},
		{EvidenceID: otherEvidenceID, GrantID: "gr-zzzzzzzzzzzzzzzz"}}}
	answer := &ActAnswer{Exhibits: []string{signedEvidenceID, otherEvidenceID}}
	for _, c := range []actCase{
		{name: "acknowledge", act: Act{Action: ActionRequestAcknowledged}, event: ev(ActionRequestAcknowledged, "")},
		{name: "acknowledge with a note", act: Act{Action: ActionRequestAcknowledged, Reason: "assigned"}, event: ev(ActionRequestAcknowledged, "assigned")},
		{name: "acknowledge with another note", act: Act{Action: ActionRequestAcknowledged, Reason: "assigned"}, event: ev(ActionRequestAcknowledged, "x"),
			want: "reason differs"},
		{name: "acknowledge another request", id: otherRequestID, act: Act{Action: ActionRequestAcknowledged}, event: ev(ActionRequestAcknowledged, ""),
			want: "names request " + otherRequestID},
		{name: "acknowledge with another digest", digest: strings.Repeat("0", 64), act: Act{Action: ActionRequestAcknowledged},
			event: ev(ActionRequestAcknowledged, ""), want: "names content"},
		{name: "acknowledge naming an exhibit", id: signedEvidenceID, act: Act{Action: ActionRequestAcknowledged}, event: ev(ActionRequestAcknowledged, ""),
			want: "names a request"},
		{name: "withdraw", act: Act{Action: ActionRequestWithdrawn, Reason: "solved"}, event: ev(ActionRequestWithdrawn, "solved")},
		{name: "withdraw recorded as acknowledged", act: Act{Action: ActionRequestWithdrawn}, event: ev(ActionRequestAcknowledged, ""),
			want: "asks for request-withdrawn"},
		{name: "refuse", act: Act{Action: ActionRequestRefused, Reason: "no dual criminality"}, event: ev(ActionRequestRefused, "no dual criminality")},
		{name: "refuse without a reason", act: Act{Action: ActionRequestRefused}, event: ev(ActionRequestRefused, ""), want: "needs reason"},
		{name: "refuse for another reason", act: Act{Action: ActionRequestRefused, Reason: "late"}, event: ev(ActionRequestRefused, "no grounds"),
			want: "reason differs"},
		{name: "refuse with an answer", act: Act{Action: ActionRequestRefused, Reason: "x", Answer: answer}, event: ev(ActionRequestRefused, "x"),
			want: "has no answer"},
		{name: "fulfil", act: Act{Action: ActionRequestFulfilled, Answer: answer}, event: answered},
		{name: "fulfil with other exhibits", act: Act{Action: ActionRequestFulfilled, Answer: &ActAnswer{Exhibits: []string{signedEvidenceID}}},
			event: answered, want: "other exhibits"},
		{name: "fulfil in another order", act: Act{Action: ActionRequestFulfilled, Answer: &ActAnswer{Exhibits: []string{otherEvidenceID, signedEvidenceID}}},
			event: answered, want: "other exhibits"},
		{name: "fulfil without an answer", act: Act{Action: ActionRequestFulfilled}, event: answered, want: "needs answer"},
		{name: "fulfil naming an exhibit twice", act: Act{Action: ActionRequestFulfilled, Answer: &ActAnswer{Exhibits: []string{signedEvidenceID, signedEvidenceID}}},
			event: answered, want: "named once"},
		{name: "fulfilment recorded as partial", act: Act{Action: ActionRequestFulfilled, Answer: answer},
			event: func() Event { e := answered; e.Action = ActionRequestPartiallyFulfilled; return e }(), want: "asks for request-fulfilled"},
		{name: "overdue is not signed", act: Act{Action: ActionRequestOverdue}, event: ev(ActionRequestOverdue, ""), want: "not one a member signs"},
	} {
		if c.id == "" {
			c.id = testRequestID
		}
		if c.digest == "" {
			c.digest = digest
		}
		c.registered = digest
		c.run(t)
	}
}

// TestAnswerActOnShares: the act of an answer is recorded on each share of the answer,
// whose grant must be made in answer to the request the act names, of an exhibit it
// names, on its terms.
func TestAnswerActOnShares(t *testing.T) {
	expires := signedStart.Add(30 * 24 * time.Hour)
	share := func(edit func(ev *Event)) Event {
		ev := Event{EvidenceID: signedEvidenceID, CaseID: signedCaseID, Seq: 3, Action: ActionShare, RequestID: testRequestID,
			Actor: Party{Agency: "agency-us", Jurisdiction: "US"}, Grant: &Grant{ID: signedGrantID, To: "agency-nl",
				LegalBasis: "epoc EPOC 2026/7", Expires: expires, MaxDownloads: 2, Instrument: "epoc", RequestID: testRequestID}}
		if edit != nil {
			edit(&ev)
		}
		return ev
	}
	answer := func(edit func(a *ActAnswer)) Act {
		a := &ActAnswer{Exhibits: []string{otherEvidenceID, signedEvidenceID}, MaxDownloads: 2}
		if edit != nil {
			edit(a)
		}
		return Act{Action: ActionRequestPartiallyFulfilled, Answer: a}
	}
	other := expires.Add(time.Hour)
	for _, c := range []actCase{
		{name: "a share of the answer", act: answer(nil), event: share(nil)},
		{name: "with the expiry it names", act: answer(func(a *ActAnswer) { a.Expires = &expires }), event: share(nil)},
		{name: "another expiry", act: answer(func(a *ActAnswer) { a.Expires = &other }), event: share(nil), want: "grant terms differ"},
		{name: "other download limit", act: answer(func(a *ActAnswer) { a.MaxDownloads = 0 }), event: share(nil), want: "grant terms differ"},
		{name: "view only the grant is not", act: answer(func(a *ActAnswer) { a.ViewOnly = true }), event: share(nil), want: "grant terms differ"},
		{name: "an exhibit the answer does not name", act: answer(func(a *ActAnswer) { a.Exhibits = []string{otherEvidenceID} }), event: share(nil),
			want: "does not name " + signedEvidenceID},
		{name: "a share in answer to another request", act: answer(nil),
			event: share(func(ev *Event) { ev.RequestID, ev.Grant.RequestID = otherRequestID, otherRequestID }), want: "not made in answer to it"},
		{name: "a share in answer to no request", act: answer(nil),
			event: share(func(ev *Event) { ev.RequestID, ev.Grant.RequestID = "", "" }), want: "not made in answer to it"},
		{name: "a refusal on a share", act: Act{Action: ActionRequestRefused, Reason: "x"}, event: share(nil), want: "asks for request-refused"},
	} {
		c.id, c.digest = testRequestID, strings.Repeat("ab", 32)
		c.registered = strings.Repeat("0", 64) // the exhibit's: an answer's act names the request instead
		c.run(t)
	}
}

func TestDisposeActs(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	ev := Event{EvidenceID: signedEvidenceID, CaseID: signedCaseID, Seq: 5, Action: ActionDispose, LegalBasis: "order 2036/17",
		Actor: Party{Agency: "agency-nl", Jurisdiction: "NL"}}
	for _, c := range []actCase{
		{name: "dispose", act: Act{Action: ActionDispose, Authority: "order 2036/17"}, event: ev},
		{name: "dispose without an authority", act: Act{Action: ActionDispose}, event: ev, want: "needs authority"},
		{name: "dispose under another authority", act: Act{Action: ActionDispose, Authority: "retention schedule"}, event: ev,
			want: "another authority"},
		{name: "dispose with a reason", act: Act{Action: ActionDispose, Authority: "order 2036/17", Reason: "x"}, event: ev, want: "has no reason"},
		{name: "an authority on a hold", act: Act{Action: ActionLegalHold, Authority: "order"}, event: ev, want: "has no authority"},
		{name: "dispose of other content", digest: strings.Repeat("cd", 32), act: Act{Action: ActionDispose, Authority: "order 2036/17"}, event: ev,
			want: "names content"},
	} {
		c.id, c.registered = signedEvidenceID, sha
		if c.digest == "" {
			c.digest = sha
		}
		c.run(t)
	}
}

func TestRegisterActAcquisition(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	seized := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
	facts := func() *Acquisition {
		s := seized
		return &Acquisition{ExhibitNumber: "NL-0042-EX3", SourceHashes: map[string]string{"md5": strings.Repeat("ab", 16)},
			Tool: "FTK Imager", ToolVersion: "4.7.1", Examiner: "J. de Vries", SeizedAt: &s, SeizedPlace: "Rotterdam"}
	}
	ev := func(a *Acquisition) Event {
		return Event{EvidenceID: signedEvidenceID, CaseID: signedCaseID, Action: ActionRegister,
			Exhibit: &Exhibit{SHA256: sha, Description: "phone", Acquisition: a}}
	}
	act := func(edit func(a *Acquisition)) Act {
		a := facts()
		if edit != nil {
			edit(a)
		}
		return Act{Action: ActionRegister, CaseID: signedCaseID, Description: "phone", Acquisition: a}
	}
	local := seized.In(time.FixedZone("CET", 3600))
	for _, c := range []actCase{
		{name: "the acquisition recorded", act: act(nil), event: ev(facts())},
		{name: "the seizure time in another zone", act: act(func(a *Acquisition) { a.SeizedAt = &local }), event: ev(facts())},
		{name: "no acquisition, none recorded", act: Act{Action: ActionRegister, CaseID: signedCaseID, Description: "phone"}, event: ev(nil)},
		{name: "an empty acquisition, none recorded", act: Act{Action: ActionRegister, CaseID: signedCaseID, Description: "phone", Acquisition: &Acquisition{}},
			event: ev(nil)},
		{name: "no acquisition, one recorded", act: Act{Action: ActionRegister, CaseID: signedCaseID, Description: "phone"}, event: ev(facts()),
			want: "acquisition facts differ"},
		{name: "an acquisition, none recorded", act: act(nil), event: ev(nil), want: "acquisition facts differ"},
		{name: "another examiner", act: act(func(a *Acquisition) { a.Examiner = "P. Jansen" }), event: ev(facts()), want: "acquisition facts differ"},
		{name: "another source hash", act: act(func(a *Acquisition) { a.SourceHashes["md5"] = strings.Repeat("cd", 16) }), event: ev(facts()),
			want: "acquisition facts differ"},
		{name: "another seizure time", act: act(func(a *Acquisition) { s := seized.Add(time.Second); a.SeizedAt = &s }), event: ev(facts()),
			want: "acquisition facts differ"},
		{name: "no seizure time", act: act(func(a *Acquisition) { a.SeizedAt = nil }), event: ev(facts()), want: "acquisition facts differ"},
		{name: "a malformed source hash", act: act(func(a *Acquisition) { a.SourceHashes["crc32"] = "00" }), event: ev(facts()),
			want: "not md5, sha1 or sha256"},
		{name: "an acquisition on a share", id: signedEvidenceID, act: Act{Action: ActionShare, Acquisition: facts(),
			Terms: &GrantTerms{To: "x", LegalBasis: "y", Expires: seized}}, event: ev(nil), want: "has no acquisition"},
	} {
		c.digest, c.registered = sha, sha
		c.run(t)
	}
}

// TestAnswerActExhibitBound: an answer act names 1 to 64 exhibits.
func TestAnswerActExhibitBound(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("ev-%026s", strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString([]byte{byte(i), byte(i >> 8)}), "=")))
			out[i] = strings.ReplaceAll(out[i], "0", "a")
		}
		return out
	}
	for _, tt := range []struct {
		n  int
		ok bool
	}{{1, true}, {maxAnswerExhibits, true}, {maxAnswerExhibits + 1, false}} {
		a := Act{Action: ActionRequestFulfilled, Answer: &ActAnswer{Exhibits: ids(tt.n)}}
		if err := a.checkFields(); (err == nil) != tt.ok {
			t.Errorf("an answer of %d exhibits: got %v, want ok=%v", tt.n, err, tt.ok)
		}
	}
}
