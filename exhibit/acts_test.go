package exhibit_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/pki"
)

// actRefusedWith wants an *exhibit.ActError whose message contains msg.
func actRefusedWith(msg string) errWant {
	return errWant{"an *exhibit.ActError containing " + msg, func(err error) bool {
		var a *exhibit.ActError
		return errors.As(err, &a) && strings.Contains(a.Msg, msg)
	}}
}

// certFor certifies pub for subject with ca, valid from notBefore to notAfter.
func certFor(t *testing.T, ca *pki.CA, subject pkix.Name, pub any, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	var der []byte
	if notBefore.IsZero() {
		p, err := ca.IssueSigning(subject, pub, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(p)
		der = b.Bytes
	} else {
		c, _, err := ca.IssueClientWindow(subject, notBefore, notAfter)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(c)
		der = b.Bytes
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestShareActRefused: a share whose act is not the owner's own, or does not name this
// share, is refused and records nothing.
func TestShareActRefused(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	other := env.Register(t, env.Investigator, []byte("other")).Evidence.EvidenceID
	sha := env.Show(t, env.Investigator, id).SHA256
	req := env.ShareRequest(exhibittest.AgencyUS)
	terms := &custody.GrantTerms{To: req.To, LegalBasis: req.LegalBasis, Expires: req.Expires}
	act := func(f func(a *custody.Act)) custody.Act {
		a := custody.Act{Action: custody.ActionShare, Terms: terms, Time: time.Now()}
		if f != nil {
			f(&a)
		}
		return a
	}
	nlSubject := env.Investigator.Principal.Cert.Subject
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sign := func(key crypto.Signer, cert *x509.Certificate, evidenceID, digest string, a custody.Act) exhibit.Principal {
		p := env.Investigator.Principal
		p.Act = exhibittest.SignAct(t, key, []*x509.Certificate{cert}, evidenceID, digest, a)
		return p
	}
	nlCert := env.Investigator.Principal.Cert
	noAct := env.Investigator.Principal
	replayed := exhibittest.SignedBy(t, env.Investigator, id, sha, act(nil))
	if _, err := env.Service.Share(t.Context(), replayed, id, req); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    exhibit.Principal
		want errWant
	}{
		{"no act", noAct, isErr(exhibit.ErrActRequired)},
		{"signed with another key", sign(otherKey, nlCert, id, sha, act(nil)), actRefusedWith("signature does not verify")},
		{"certificate of another agency's CA", sign(otherKey, certFor(t, env.CAOf(exhibittest.AgencyUS), nlSubject, &otherKey.PublicKey, time.Time{}, time.Time{}), id, sha, act(nil)),
			actRefusedWith("does not chain to the agency's CA")},
		{"expired certificate", sign(otherKey, certFor(t, env.CAOf(exhibittest.AgencyNL), nlSubject, nil, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)), id, sha, act(nil)),
			actRefusedWith("does not chain to the agency's CA")},
		{"another member's certificate", sign(rsaKey, certFor(t, env.CAOf(exhibittest.AgencyNL), pkix.Name{CommonName: "colleague", Organization: []string{"agency-nl"}}, &rsaKey.PublicKey, time.Time{}, time.Time{}), id, sha, act(nil)),
			actRefusedWith("you are authenticated as")},
		{"names other evidence", sign(env.Investigator.Key, nlCert, other, sha, act(nil)), actRefusedWith("names evidence " + other)},
		{"names other content", sign(env.Investigator.Key, nlCert, id, strings.Repeat("0", 64), act(nil)), actRefusedWith("names content")},
		{"names another action", sign(env.Investigator.Key, nlCert, id, sha, act(func(a *custody.Act) { a.Action, a.Terms, a.Reason = custody.ActionLegalHold, nil, "x" })), actRefusedWith("asks for legal-hold")},
		{"other terms", sign(env.Investigator.Key, nlCert, id, sha, act(func(a *custody.Act) {
			a.Terms = &custody.GrantTerms{To: exhibittest.CourtNL, LegalBasis: req.LegalBasis, Expires: req.Expires}
		})),
			actRefusedWith("grant terms differ")},
		{"signed an hour ago", sign(env.Investigator.Key, nlCert, id, sha, act(func(a *custody.Act) { a.Time = time.Now().Add(-time.Hour) })), actRefusedWith("from the gateway's clock")},
		{"replayed", replayed, actRefusedWith("already recorded, as event 1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Share(t.Context(), tt.p, id, req)
			checkErr(t, "Share", err, tt.want)
		})
	}
	if v := env.Show(t, env.Investigator, id); v.EventCount != 2 {
		t.Errorf("after the refused acts: %d events, want 2", v.EventCount)
	}
}

// TestRegisterActRefused: a registration whose act names other content or another case
// stores nothing.
func TestRegisterActRefused(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	u := exhibittest.Upload([]byte("content"))
	for name, f := range map[string]func(a *custody.Act){
		"another case":        func(a *custody.Act) { a.CaseID = "OTHER-CASE" },
		"another description": func(a *custody.Act) { a.Description = "something else" },
	} {
		a := custody.Act{Action: custody.ActionRegister, CaseID: u.CaseID, Description: u.Description}
		f(&a)
		p := exhibittest.SignedBy(t, env.Investigator, "", exhibittest.DigestHex([]byte("content")), a)
		_, err := env.Service.Register(t.Context(), p, u)
		checkErr(t, name, err, actRefusedWith("does not name this request"))
	}
	p := exhibittest.SignedBy(t, env.Investigator, "", strings.Repeat("1", 64), custody.Act{Action: custody.ActionRegister, CaseID: u.CaseID, Description: u.Description})
	_, err := env.Service.Register(t.Context(), p, u)
	checkErr(t, "other content", err, actRefusedWith("names content"))
	if names, _ := env.Store.List(t.Context(), ""); len(names) != 0 {
		t.Errorf("refused registrations left objects %q", names)
	}
}

// TestActsRecorded: every change of an exchange records its actor's act, and the court
// bundle verifies offline with each actor's signature checked against its agency's CA.
func TestActsRecorded(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("seized laptop image")
	id, g := env.Exchange(t, content, env.ShareRequest(exhibittest.AgencyUS))
	if _, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, "appeal"), id, true, "appeal"); err != nil {
		t.Fatal(err)
	}
	_, dl := env.Download(t, env.Partner, id)
	sha := exhibittest.DigestHex(content)
	rc, err := env.Service.Received(t.Context(), env.ReceivedAct(t, env.Partner, id, dl.Custody, sha, int64(len(content))), id)
	if err != nil {
		t.Fatalf("Received: %v", err)
	}
	if ev := exhibittest.Event(t, rc); ev.Action != custody.ActionReceived || ev.Grant == nil || ev.Grant.ID != g.GrantID || ev.Act == nil {
		t.Errorf("got a %s event under grant %v, want a received event with the act, under %s", ev.Action, ev.Grant, g.GrantID)
	}
	// A second receipt of the same download is refused.
	_, err = env.Service.Received(t.Context(), env.ReceivedAct(t, env.Partner, id, dl.Custody, sha, int64(len(content))), id)
	checkErr(t, "second receipt", err, actRefusedWith("already acknowledged"))
	// The owner cannot acknowledge the partner's download.
	_, err = env.Service.Received(t.Context(), env.ReceivedAct(t, env.Investigator, id, dl.Custody, sha, int64(len(content))), id)
	checkErr(t, "the owner acknowledging the partner's download", err, actRefusedWith("no download of your agency"))
	_, second := env.Download(t, env.Partner, id)

	r := env.VerifyBundle(t, env.Investigator, id, content)
	want := map[custody.Action]string{
		custody.ActionRegister: "investigator-nl", custody.ActionShare: "investigator-nl", custody.ActionAccept: "partner-us",
		custody.ActionLegalHold: "investigator-nl", custody.ActionReceived: "partner-us",
	}
	for _, ve := range r.Events {
		person, signed := want[ve.Event.Action]
		switch {
		case signed && (ve.Act == nil || !strings.Contains(ve.Act.Subject, "CN="+person)):
			t.Errorf("event %d (%s): actor signature %+v, want one by %s", ve.Event.Seq, ve.Event.Action, ve.Act, person)
		case !signed && ve.Act != nil:
			t.Errorf("event %d (%s) carries an act", ve.Event.Seq, ve.Event.Action)
		}
	}
	// A download is a transfer: the second one's delivery is the download no receipt
	// acknowledges.
	secondTransfer := exhibittest.Event(t, second.Custody).Transfer
	var secondSeq uint64
	for _, ve := range r.Events {
		if ve.Event.Action == custody.ActionDownloadDeliver && ve.Event.Transfer.ID == secondTransfer.ID {
			secondSeq = ve.Event.Seq
		}
	}
	if u := r.Unreceived(); secondSeq == 0 || len(u) != 1 || u[0] != secondSeq {
		t.Errorf("unreceived downloads: got %v, want [%d] (the second download's delivery, never acknowledged)", u, secondSeq)
	}
	h, err := env.Service.History(t.Context(), env.Investigator.Principal, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Events {
		if e.Action == string(custody.ActionDownloadDeliver) && (e.ReceivedIn == nil) != (e.Seq == secondSeq) {
			t.Errorf("history: download %d received in %v", e.Seq, e.ReceivedIn)
		}
		if _, signed := want[custody.Action(e.Action)]; signed && e.Signer == "" {
			t.Errorf("history: event %d (%s) names no signer", e.Seq, e.Action)
		}
	}
}
