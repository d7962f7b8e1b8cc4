package exhibit

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
)

// ErrActRequired refuses a change of custody that carries no signed act of the member
// who asks for it.
var ErrActRequired = errors.New("a change of custody must carry your signed act (the Custody-Act header)")

// ActError is a signed act the gateway refused: not the caller's (another key, a
// certificate of another CA, an expired one), or naming another change than the one
// asked for. Msg is safe to show.
type ActError struct{ Msg string }

func (e *ActError) Error() string { return e.Msg }

func actRefused(format string, args ...any) error {
	return &ActError{Msg: fmt.Sprintf(format, args...)}
}

// checkAct verifies the act p signed for the change ev of an exhibit, and returns it to
// be recorded in ev (docs/bundle.md, "Acts"): its certificate chains to a CA of p's
// agency and is p's own (the subject of p's client certificate), valid now; its
// signature verifies; it names ev (custody.CheckActEvent, the check a court makes); it
// was signed within custody.ActSkew of now; and, for an existing exhibit (st not nil),
// no event records it yet. registered is the exhibit's registered content digest.
func (s *Service) checkAct(p Principal, st *state, ev custody.Event, registered string) (*custody.SignedAct, error) {
	var recorded func(string) (uint64, bool)
	if st != nil {
		ev.EvidenceID, ev.CaseID = st.id(), st.register.CaseID
		recorded = st.acts.get
	}
	return s.verifyAct(p, ev, registered, recorded)
}

// checkRequestAct is checkAct for the change ev of a request: r is nil for a filing,
// which names no request yet.
func (s *Service) checkRequestAct(p Principal, r *requestState, ev custody.Event) (*custody.SignedAct, error) {
	if r == nil {
		return s.verifyAct(p, ev, "", nil)
	}
	ev.EvidenceID, ev.CaseID = r.id(), r.filed.CaseID
	return s.verifyAct(p, ev, r.digest(), func(d string) (uint64, bool) {
		seq, ok := r.acts[d]
		return seq, ok
	})
}

// verifyAct checks the act p signed for ev (see checkAct); recorded, if not nil, looks
// up the digest of an act the subject's chain records and returns its event.
func (s *Service) verifyAct(p Principal, ev custody.Event, registered string, recorded func(digest string) (uint64, bool)) (*custody.SignedAct, error) {
	if p.Act == nil {
		return nil, ErrActRequired
	}
	ag, _ := s.agency(p.Agency)
	if len(ag.CAs) == 0 {
		return nil, actRefused("the gateway knows no CA of agency %s to check your act against", p.Agency)
	}
	now := s.cfg.Now()
	va, err := custody.VerifyAct(*p.Act, ag.CAs, now)
	if err != nil {
		return nil, actRefused("your act is refused: %v", err)
	}
	if p.Cert != nil && va.Signer.Subject.String() != p.Cert.Subject.String() {
		return nil, actRefused("your act is signed as %s, you are authenticated as %s", va.Signer.Subject, p.Cert.Subject)
	}
	if err := custody.CheckActEvent(va.Statement, ev, registered); err != nil {
		return nil, actRefused("your act does not name this request: %v", err)
	}
	if d := va.Statement.Predicate.Time.Sub(now); d > custody.ActSkew || d < -custody.ActSkew {
		return nil, actRefused("your act is dated %s, more than %v from the gateway's clock (%s): sign it now, with a clock that is right",
			va.Statement.Predicate.Time.UTC().Format(time.RFC3339), custody.ActSkew, now.UTC().Format(time.RFC3339))
	}
	if recorded != nil {
		if seq, ok := recorded(va.Digest); ok {
			return nil, actRefused("your act is already recorded, as event %d: a new request needs a new act", seq)
		}
	}
	return p.Act, nil
}

// actDigest returns the digest of the act an event records, "" if it records none or
// its act is unreadable.
func actDigest(ev custody.Event) string {
	if ev.Act == nil {
		return ""
	}
	p, err := ev.Act.Envelope.PayloadBytes()
	if err != nil {
		return ""
	}
	return custody.Digest(p)
}

// actStatement decodes, without verifying it, the statement of the act p sent.
func actStatement(p Principal) (custody.ActStatement, error) {
	if p.Act == nil {
		return custody.ActStatement{}, ErrActRequired
	}
	b, err := p.Act.Envelope.PayloadBytes()
	if err != nil {
		return custody.ActStatement{}, actRefused("your act is refused: %v", err)
	}
	st, err := custody.ParseActStatement(b)
	if err != nil {
		return custody.ActStatement{}, actRefused("your act is refused: %v", err)
	}
	return st, nil
}

// describeAct adds to a history event who signed its act and, for a download or a
// received event, which event acknowledges it or which it acknowledges.
func (s *state) describeAct(he *api.HistoryEvent, rec ledger.Record) {
	ev := rec.Event
	if ev.Act != nil && len(ev.Act.Certificates) > 0 {
		if c, err := x509.ParseCertificate(ev.Act.Certificates[0]); err == nil {
			he.Signer = c.Subject.String()
		}
	}
	switch ev.Action {
	case custody.ActionDownload, custody.ActionDownloadDeliver:
		if seq, ok := s.received.get(ackKey(&rec)); ok {
			he.ReceivedIn = &seq
		}
	case custody.ActionReceived:
		if st, err := custody.ParseActStatement(mustPayload(ev.Act)); err == nil {
			if dl := s.recordByDigest(st.Predicate.Download); dl != nil {
				seq := dl.Event.Seq
				he.Acknowledges = &seq
			}
		}
	}
}
