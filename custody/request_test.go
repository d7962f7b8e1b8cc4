package custody

import (
	"strings"
	"testing"
	"time"
)

const testRequestID = "rq-aaaaaaaaaaaaaaaaaaaaaaaaaa"

func validRequestStatement() Statement {
	r := &Request{Instrument: "epoc", Reference: "EPOC 2026/7", IssuingAuthority: "Public Prosecutor, Rotterdam",
		Sought: "subscriber data of one account", From: "agency-nl", To: "agency-us",
		Deadline: time.Unix(1700864000, 0).UTC(), TagKey: strings.Repeat("11", 32)}
	ev := Event{EvidenceID: testRequestID, CaseID: "CASE-1", Action: ActionRequestFiled, Time: time.Unix(1700000000, 0).UTC(),
		Actor: Party{Agency: "agency-nl", Jurisdiction: "NL"}, Counterparty: &Party{Agency: "agency-us", Jurisdiction: "US"}, Request: r}
	return NewStatement(ev.SubjectDigest(), ev)
}

// TestParseRequestStatement: a request's chain has its own first action and actions,
// and its subject digest binds the request's facts.
func TestParseRequestStatement(t *testing.T) {
	later := func(s *Statement) {
		s.Predicate.Seq, s.Predicate.Prev, s.Predicate.Action = 1, strings.Repeat("0", 64), ActionRequestAcknowledged
		s.Predicate.Request = nil
	}
	tests := []struct {
		name   string
		mutate func(*Statement)
		want   string
	}{
		{"valid", func(*Statement) {}, ""},
		{"valid without a case", func(s *Statement) {
			s.Predicate.CaseID = ""
			s.Subject[0].Digest["sha256"] = s.Predicate.SubjectDigest()
		}, ""},
		{"valid later event", later, ""},
		{"valid bundle export", func(s *Statement) { later(s); s.Predicate.Action = ActionBundleExport }, ""},
		{"bad case id", func(s *Statement) { s.Predicate.CaseID = "a/b" }, `invalid case id "a/b"`},
		{"facts changed after filing", func(s *Statement) { s.Predicate.Request.Sought = "everything" }, "request digest differs from subject digest"},
		{"deadline changed after filing", func(s *Statement) { s.Predicate.Request.Deadline = s.Predicate.Request.Deadline.Add(time.Hour) },
			"request digest differs from subject digest"},
		{"filed later", func(s *Statement) { s.Predicate.Seq, s.Predicate.Prev = 1, strings.Repeat("0", 64) },
			`event 1 is "request-filed": only event 0 files the request`},
		{"first not filed", func(s *Statement) { s.Predicate.Action = ActionRequestAcknowledged; s.Predicate.Request = nil },
			`event 0 is "request-acknowledged": only event 0 files the request`},
		{"filed without facts", func(s *Statement) { s.Predicate.Request = nil }, "request-filed event lacks the request"},
		{"facts on a later event", func(s *Statement) {
			r := s.Predicate.Request
			later(s)
			s.Predicate.Request = r
		}, "only a request-filed event carries a request"},
		{"exhibit action on a request", func(s *Statement) { later(s); s.Predicate.Action = ActionDownload },
			`action "download" is not an action of a request`},
		{"bad request id cited", func(s *Statement) { later(s); s.Predicate.RequestID = "rq-x" }, `invalid request id "rq-x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validRequestStatement()
			tt.mutate(&s)
			if s.Subject[0].Name != s.Predicate.EvidenceID {
				s.Subject[0].Name = s.Predicate.EvidenceID
			}
			b, err := s.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseStatement(b)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want success", err)
			case tt.want != "" && (err == nil || err.Error() != "checking statement: "+tt.want):
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRequestActionOnExhibit: an exhibit's chain holds no request action.
func TestRequestActionOnExhibit(t *testing.T) {
	s := validStatement()
	s.Predicate.Seq, s.Predicate.Prev, s.Predicate.Action = 1, strings.Repeat("0", 64), ActionRequestFulfilled
	s.Predicate.Exhibit, s.Predicate.Storage = nil, nil
	b, _ := s.Marshal()
	_, err := ParseStatement(b)
	if want := `checking statement: action "request-fulfilled" is an action of a request, not of an exhibit`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestRequestDigestFields: every fact of a request changes its digest.
func TestRequestDigestFields(t *testing.T) {
	base := *validRequestStatement().Predicate.Request
	d0 := RequestDigest(testRequestID, "CASE-1", base)
	edits := map[string]func(r *Request){
		"instrument": func(r *Request) { r.Instrument = "eio" },
		"reference":  func(r *Request) { r.Reference += "x" },
		"authority":  func(r *Request) { r.IssuingAuthority += "x" },
		"sought":     func(r *Request) { r.Sought += "x" },
		"from":       func(r *Request) { r.From = "agency-be" },
		"to":         func(r *Request) { r.To = "agency-be" },
		"deadline":   func(r *Request) { r.Deadline = r.Deadline.Add(time.Second) },
		"emergency":  func(r *Request) { r.Emergency = true },
		"tag key":    func(r *Request) { r.TagKey = strings.Repeat("22", 32) },
		// Moving text between fields must change the digest too.
		"shifted": func(r *Request) { r.Reference, r.IssuingAuthority = r.Reference+"\n"+r.IssuingAuthority, "" },
	}
	for name, edit := range edits {
		r := base
		edit(&r)
		if RequestDigest(testRequestID, "CASE-1", r) == d0 {
			t.Errorf("changing the %s leaves the digest unchanged", name)
		}
	}
	if RequestDigest(testRequestID, "CASE-2", base) == d0 || RequestDigest("rq-bbbbbbbbbbbbbbbbbbbbbbbbbb", "CASE-1", base) == d0 {
		t.Error("the case or the id does not change the digest")
	}
}
