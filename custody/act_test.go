package custody

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Acts in signed test exhibits: the story of newSignedExhibit, with the register and
// share signed by the Dutch investigator (ECDSA P-256, certificate of the Dutch CA) and
// the accept by the American partner (RSA 2048, certificate of the American CA), and
// its last event turned into the partner's received act for the download.

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA", Organization: []string{name}},
		NotBefore: signedStart.Add(-24 * time.Hour), NotAfter: signedStart.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert, key}
}

type actMember struct {
	key  crypto.Signer
	cert []byte
}

// issue certifies key for subject from notBefore to notAfter.
func (ca testCA) issue(t testing.TB, cn, org string, key crypto.Signer, notBefore, notAfter time.Time) actMember {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return actMember{key: key, cert: der}
}

// signAct signs the act about evidence id with content digest sha as m would.
func signAct(t testing.TB, m actMember, id, sha string, a Act) *SignedAct {
	t.Helper()
	if a.Nonce == "" {
		a.Nonce = strings.Repeat("ab", 16)
	}
	st, err := NewActStatement(id, sha, a).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pae := PAE(PayloadType, st)
	h := sha256.Sum256(pae)
	var sig []byte
	switch k := m.key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, pae)
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, h[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(m.cert)
	keyID, _ := KeyID(cert.PublicKey)
	return &SignedAct{Envelope: Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(st),
		Signatures: []Signature{{KeyID: keyID, Sig: base64.StdEncoding.EncodeToString(sig)}}}, Certificates: [][]byte{m.cert}}
}

type actWorld struct {
	nlCA, usCA testCA
	nl, us     actMember
}

// sharedActWorld is built once per test binary: RSA key generation is slow, and the
// mutation tests run this package's tests once per mutant.
var sharedActWorld struct {
	once sync.Once
	w    *actWorld
}

func newActWorld(t testing.TB) *actWorld {
	t.Helper()
	sharedActWorld.once.Do(func() { sharedActWorld.w = buildActWorld(t) })
	return sharedActWorld.w
}

func buildActWorld(t testing.TB) *actWorld {
	t.Helper()
	w := &actWorld{nlCA: newTestCA(t, "politie-nl"), usCA: newTestCA(t, "fbi-us")}
	nlKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	usKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	from, to := signedStart.Add(-time.Hour), signedStart.Add(365*24*time.Hour)
	w.nl = w.nlCA.issue(t, "j.devries", "politie-nl", nlKey, from, to)
	w.us = w.usCA.issue(t, "b.smith", "fbi-us", usKey, from, to)
	return w
}

// sign adds the acts of the story to event i, then applies edit (if not nil).
func (w *actWorld) sign(edit func(t testing.TB, x *signedExhibit, i int, ev *Event)) func(t testing.TB) func(x *signedExhibit, i int, ev *Event) {
	return func(t testing.TB) func(x *signedExhibit, i int, ev *Event) {
		return func(x *signedExhibit, i int, ev *Event) {
			at := ev.Time.Add(-time.Second)
			switch i {
			case 0:
				ev.Act = signAct(t, w.nl, "", x.sha256, Act{Action: ActionRegister, Time: at, CaseID: ev.CaseID})
			case 1:
				g := ev.Grant
				ev.Act = signAct(t, w.nl, ev.EvidenceID, x.sha256, Act{Action: ActionShare, Time: at,
					Terms: &GrantTerms{To: g.To, LegalBasis: g.LegalBasis, Expires: g.Expires, MaxDownloads: g.MaxDownloads, ViewOnly: g.ViewOnly}})
			case 2:
				ev.Receipt = nil
				ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, Act{Action: ActionAccept, Time: at, GrantID: ev.Grant.ID})
			case 4:
				us := x.envelopesEvent(t, 3)
				ev.Action, ev.Actor, ev.Counterparty, ev.Grant = ActionReceived, us.Actor, us.Counterparty, us.Grant
				ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, Act{Action: ActionReceived, Time: at,
					GrantID: ev.Grant.ID, Download: Digest(x.statements[3]), Size: int64(len(signedContent))})
			}
			if edit != nil {
				edit(t, x, i, ev)
			}
		}
	}
}

// envelopesEvent returns the event of statement i of x.
func (x *signedExhibit) envelopesEvent(t testing.TB, i int) Event {
	t.Helper()
	st, err := ParseStatement(x.statements[i])
	if err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// verifyActs builds the story with edit and verifies it against a trust root that
// lists both agencies (or none, without agencies).
func (w *actWorld) verifyActs(t *testing.T, agencies bool, edit func(t testing.TB, x *signedExhibit, i int, ev *Event)) (*Report, error) {
	t.Helper()
	x := newSignedExhibit(t, w.sign(edit)(t))
	tr := *x.tr
	if agencies {
		tr.Agencies = []TrustedAgency{NewTrustedAgency("politie-nl", "NL", []*x509.Certificate{w.nlCA.cert}),
			NewTrustedAgency("fbi-us", "US", []*x509.Certificate{w.usCA.cert})}
	}
	raw, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseTrustRoot(raw)
	if err != nil {
		t.Fatalf("the trust root with agencies does not parse: %v", err)
	}
	return Verify(x.bundle(t, x.logLeaves()), parsed, VerifyOptions{})
}

func TestVerifyActs(t *testing.T) {
	w := newActWorld(t)
	r, err := w.verifyActs(t, true, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for i, want := range []string{"CN=j.devries,O=politie-nl", "CN=j.devries,O=politie-nl", "CN=b.smith,O=fbi-us", "", "CN=b.smith,O=fbi-us"} {
		got := ""
		if a := r.Events[i].Act; a != nil {
			got = a.Subject
		}
		if got != want {
			t.Errorf("event %d: got actor signature %q, want %q", i, got, want)
		}
	}
	if rc := r.Events[3].Received; rc == nil || rc.Seq != 4 || !rc.Matches || rc.Size != int64(len(signedContent)) {
		t.Errorf("the download's acknowledgement: got %+v, want event 4, matching, %d bytes", rc, len(signedContent))
	}
	if u := r.Unreceived(); len(u) != 0 {
		t.Errorf("unreceived downloads: got %v, want none", u)
	}
}

func TestVerifyActsDownloadNotReceived(t *testing.T) {
	w := newActWorld(t)
	r, err := w.verifyActs(t, true, func(t testing.TB, x *signedExhibit, i int, ev *Event) {
		if i == 4 {
			*ev = Event{EvidenceID: ev.EvidenceID, CaseID: ev.CaseID, Seq: ev.Seq, Prev: ev.Prev, Time: ev.Time,
				Action: ActionBundleExport, Actor: x.envelopesEvent(t, 0).Actor}
		}
	})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if u := r.Unreceived(); !slices.Equal(u, []uint64{3}) {
		t.Errorf("unreceived downloads: got %v, want [3]", u)
	}
}

// TestVerifyActsAcquisitionAndDisposal: a register act naming the acquisition facts
// its event records and a dispose act naming its authority verify as the actor's.
func TestVerifyActsAcquisitionAndDisposal(t *testing.T) {
	w := newActWorld(t)
	seized := signedStart.Add(-48 * time.Hour)
	r, err := w.verifyActs(t, true, func(t testing.TB, x *signedExhibit, i int, ev *Event) {
		switch i {
		case 0:
			ev.Exhibit.Acquisition = &Acquisition{ExhibitNumber: "NL-0042-EX3", SeizedAt: &seized, SourceHashes: map[string]string{"sha1": strings.Repeat("ab", 20)}}
			a := mustAct(t, ev.Act)
			local := seized.In(time.FixedZone("CET", 3600))
			a.Acquisition = &Acquisition{ExhibitNumber: "NL-0042-EX3", SeizedAt: &local, SourceHashes: map[string]string{"sha1": strings.Repeat("ab", 20)}}
			ev.Act = signAct(t, w.nl, "", x.sha256, a)
		case 4:
			ev.Action, ev.LegalBasis, ev.Actor, ev.Counterparty, ev.Grant = ActionDispose, "order 2036/17", x.envelopesEvent(t, 0).Actor, nil, nil
			ev.Act = signAct(t, w.nl, ev.EvidenceID, x.sha256, Act{Action: ActionDispose, Time: ev.Time, Authority: "order 2036/17"})
		}
	})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for _, i := range []int{0, 4} {
		if a := r.Events[i].Act; a == nil || a.Subject != "CN=j.devries,O=politie-nl" {
			t.Errorf("event %d (%s): act %+v, want signed by j.devries", i, r.Events[i].Event.Action, a)
		}
	}
}

// TestVerifyActsRefused: an act that is not its actor's, or does not name its event, is
// refused offline.
func TestVerifyActsRefused(t *testing.T) {
	w := newActWorld(t)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name   string
		event  int
		edit   func(t testing.TB, x *signedExhibit, ev *Event)
		noTrAg bool
		want   string
	}{
		{"signed with another key", 1, func(t testing.TB, x *signedExhibit, ev *Event) {
			forged := signAct(t, actMember{key: otherKey, cert: w.nl.cert}, ev.EvidenceID, x.sha256, mustAct(t, ev.Act))
			ev.Act = forged
		}, false, "signature does not verify"},
		{"certificate of another agency's CA", 1, func(t testing.TB, x *signedExhibit, ev *Event) {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			m := w.usCA.issue(t, "j.devries", "politie-nl", k, signedStart.Add(-time.Hour), signedStart.Add(time.Hour*24))
			ev.Act = signAct(t, m, ev.EvidenceID, x.sha256, mustAct(t, ev.Act))
		}, false, "does not chain to the agency's CA"},
		{"certificate expired at the event", 2, func(t testing.TB, x *signedExhibit, ev *Event) {
			m := w.usCA.issue(t, "b.smith", "fbi-us", w.us.key, signedStart.Add(-time.Hour), signedStart.Add(time.Hour))
			ev.Act = signAct(t, m, ev.EvidenceID, x.sha256, mustAct(t, ev.Act))
		}, false, "does not chain to the agency's CA"},
		{"names another evidence", 1, func(t testing.TB, x *signedExhibit, ev *Event) {
			ev.Act = signAct(t, w.nl, otherEvidenceID, x.sha256, mustAct(t, ev.Act))
		}, false, "names evidence " + otherEvidenceID},
		{"names another grant", 2, func(t testing.TB, x *signedExhibit, ev *Event) {
			a := mustAct(t, ev.Act)
			a.GrantID = "gr-zzzzzzzzzzzzzzzz"
			ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, a)
		}, false, "names grant"},
		{"other share terms", 1, func(t testing.TB, x *signedExhibit, ev *Event) {
			a := mustAct(t, ev.Act)
			a.Terms.MaxDownloads = 7
			ev.Act = signAct(t, w.nl, ev.EvidenceID, x.sha256, a)
		}, false, "grant terms differ"},
		{"names another action", 2, func(t testing.TB, x *signedExhibit, ev *Event) {
			a := mustAct(t, ev.Act)
			a.Action, a.GrantID, a.Reason = ActionRevoke, ev.Grant.ID, "x"
			ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, a)
		}, false, "asks for revoke"},
		{"signed long before", 2, func(t testing.TB, x *signedExhibit, ev *Event) {
			a := mustAct(t, ev.Act)
			a.Time = ev.Time.Add(-time.Hour)
			ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, a)
		}, false, "before the event"},
		{"recorded twice", 2, func(t testing.TB, x *signedExhibit, ev *Event) {
			prev := x.envelopesEvent(t, 1)
			ev.Action, ev.Actor, ev.Counterparty, ev.Grant, ev.Act, ev.Time = prev.Action, prev.Actor, prev.Counterparty, prev.Grant, prev.Act, prev.Time
		}, false, "records the same act as event 1"},
		{"acknowledges no download", 4, func(t testing.TB, x *signedExhibit, ev *Event) {
			a := mustAct(t, ev.Act)
			a.Download = Digest(x.statements[2])
			ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, a)
		}, false, "not a download"},
		{"trust root without agencies", 0, nil, true, "lists no CA for agency politie-nl"},
		{"register act without the event's acquisition facts", 0, func(t testing.TB, x *signedExhibit, ev *Event) {
			ev.Exhibit.Acquisition = &Acquisition{ExhibitNumber: "NL-0042-EX3"}
		}, false, "acquisition facts differ"},
		{"register act with other acquisition facts", 0, func(t testing.TB, x *signedExhibit, ev *Event) {
			ev.Exhibit.Acquisition = &Acquisition{ExhibitNumber: "NL-0042-EX3"}
			a := mustAct(t, ev.Act)
			a.Acquisition = &Acquisition{ExhibitNumber: "NL-0042-EX4"}
			ev.Act = signAct(t, w.nl, "", x.sha256, a)
		}, false, "acquisition facts differ"},
		{"dispose act under another authority", 4, func(t testing.TB, x *signedExhibit, ev *Event) {
			ev.Action, ev.LegalBasis, ev.Actor, ev.Counterparty, ev.Grant = ActionDispose, "order 2036/17", x.envelopesEvent(t, 0).Actor, nil, nil
			ev.Act = signAct(t, w.nl, ev.EvidenceID, x.sha256, Act{Action: ActionDispose, Time: ev.Time, Authority: "retention schedule"})
		}, false, "another authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := w.verifyActs(t, !tt.noTrAg, func(t testing.TB, x *signedExhibit, i int, ev *Event) {
				if i == tt.event && tt.edit != nil {
					tt.edit(t, x, ev)
				}
			})
			if !errors.Is(err, ErrVerification) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: got %v, want a verification failure containing %q", err, tt.want)
			}
			if r.Events[tt.event].Verified() {
				t.Errorf("event %d is marked verified", tt.event)
			}
		})
	}
}

func mustAct(t testing.TB, sa *SignedAct) Act {
	t.Helper()
	p, err := sa.Envelope.PayloadBytes()
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseActStatement(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// TestVerifyActEd25519: an Ed25519 key signs acts too.
func TestVerifyActEd25519(t *testing.T) {
	ca := newTestCA(t, "politie-nl")
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	m := ca.issue(t, "j.devries", "politie-nl", k, signedStart.Add(-time.Hour), signedStart.Add(time.Hour))
	sa := signAct(t, m, signedEvidenceID, strings.Repeat("0", 64), Act{Action: ActionLegalHold, Time: signedStart})
	va, err := VerifyAct(*sa, []*x509.Certificate{ca.cert}, signedStart)
	if err != nil {
		t.Fatalf("VerifyAct: %v", err)
	}
	if va.Statement.Predicate.Action != ActionLegalHold || va.Signer.Subject.CommonName != "j.devries" {
		t.Errorf("got %s by %s, want a legal-hold act by j.devries", va.Statement.Predicate.Action, va.Signer.Subject)
	}
}

// TestParseActStatementFields: each action takes its own fields only.
func TestParseActStatementFields(t *testing.T) {
	sha := strings.Repeat("0", 64)
	base := Act{Time: signedStart, Nonce: strings.Repeat("ab", 16)}
	with := func(f func(a *Act)) Act { a := base; f(&a); return a }
	tests := []struct {
		name string
		id   string
		act  Act
		want string
	}{
		{"register with an evidence id", signedEvidenceID, with(func(a *Act) { a.Action, a.CaseID = ActionRegister, "C-1" }), "names no evidence id"},
		{"share without an evidence id", "", with(func(a *Act) { a.Action = ActionShare }), "names no evidence id"},
		{"share without terms", signedEvidenceID, with(func(a *Act) { a.Action = ActionShare }), "needs terms"},
		{"accept without a grant", signedEvidenceID, with(func(a *Act) { a.Action = ActionAccept }), "needs grant_id"},
		{"accept with a reason", signedEvidenceID, with(func(a *Act) { a.Action, a.GrantID, a.Reason = ActionAccept, signedGrantID, "x" }), "has no reason"},
		{"download is not signed by members", signedEvidenceID, with(func(a *Act) { a.Action = ActionDownload }), "not one a member signs"},
		{"received without a download", signedEvidenceID, with(func(a *Act) { a.Action = ActionReceived }), "needs download"},
		{"no nonce", signedEvidenceID, with(func(a *Act) { a.Action, a.Nonce = ActionLegalHold, "" }), "nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewActStatement(tt.id, sha, tt.act).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseActStatement(b); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseActStatement: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// BenchmarkVerifyActs measures offline verification of the five-event story without
// its members' signed acts (a first-release trust root, no agency) and with them (ECDSA
// P-256 and RSA 2048 certificates of two agency CAs), to show what checking actors'
// signatures costs a court.
func BenchmarkVerifyActs(b *testing.B) {
	w := newActWorld(b)
	for _, acts := range []bool{false, true} {
		name := "without-acts"
		if acts {
			name = "with-acts"
		}
		b.Run(name, func(b *testing.B) {
			x := newSignedExhibit(b, nil)
			tr := *x.tr
			if acts {
				x = newSignedExhibit(b, w.sign(nil)(b))
				tr = *x.tr
				tr.Agencies = []TrustedAgency{NewTrustedAgency("politie-nl", "NL", []*x509.Certificate{w.nlCA.cert}),
					NewTrustedAgency("fbi-us", "US", []*x509.Certificate{w.usCA.cert})}
			}
			raw, _ := tr.Marshal()
			parsed, err := ParseTrustRoot(raw)
			if err != nil {
				b.Fatal(err)
			}
			bundle := x.bundle(b, x.logLeaves())
			for b.Loop() {
				if _, err := Verify(bundle, parsed, VerifyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestActStatementSizeBound: an act statement of exactly the bound encodes and parses;
// one byte more is refused both ways.
func TestActStatementSizeBound(t *testing.T) {
	sha := strings.Repeat("0", 64)
	statement := func(n int) ActStatement {
		return NewActStatement("", sha, Act{Action: ActionRegister, CaseID: "C-1", Time: signedStart,
			Nonce: strings.Repeat("ab", 16), Description: strings.Repeat("d", n)})
	}
	base, err := json.Marshal(statement(1))
	if err != nil {
		t.Fatal(err)
	}
	n := maxActStatement - len(base) + 1
	b, err := statement(n).Marshal()
	if err != nil || len(b) != maxActStatement {
		t.Fatalf("a statement of %d bytes: got %d bytes, %v; want it encoded", maxActStatement, len(b), err)
	}
	if _, err := ParseActStatement(b); err != nil {
		t.Errorf("a statement of exactly %d bytes does not parse: %v", maxActStatement, err)
	}
	if _, err := statement(n + 1).Marshal(); err == nil {
		t.Errorf("a statement of %d bytes encoded", maxActStatement+1)
	}
	over, _ := json.Marshal(statement(n + 1))
	if _, err := ParseActStatement(over); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("a statement of %d bytes: got %v, want it refused for its size", len(over), err)
	}
}

// TestUnreceivedOnlyVerifiedDownloads: a download event that failed verification is not
// reported as not received (it is reported as failed); a verified one is.
func TestUnreceivedOnlyVerifiedDownloads(t *testing.T) {
	r := &Report{Events: []VerifiedEvent{
		{Event: Event{Seq: 0, Action: ActionRegister}},
		{Event: Event{Seq: 1, Action: ActionDownload}, Failure: "altered"},
		{Event: Event{Seq: 2, Action: ActionDownload}},
		{Event: Event{Seq: 3, Action: ActionDownload}, Received: &Acknowledgement{Seq: 4}},
	}}
	if got := r.Unreceived(); !slices.Equal(got, []uint64{2}) {
		t.Errorf("Unreceived: got %v, want [2]", got)
	}
}

// TestReceiptOfATransfer: a download is a transfer (start, deliver); the received act
// names its start event and acknowledges the whole transfer, so its delivery is not
// reported as not received, and the delivery carries the acknowledgement. Without the
// receipt the delivery is the one download not received.
func TestReceiptOfATransfer(t *testing.T) {
	w := newActWorld(t)
	transfer := &Transfer{ID: "tr-" + strings.Repeat("a", 26)}
	story := func(receipt bool) func(t testing.TB, x *signedExhibit, i int, ev *Event) {
		return func(t testing.TB, x *signedExhibit, i int, ev *Event) {
			at := ev.Time.Add(-time.Second)
			switch i {
			case 2: // the transfer starts (no accept in this story: the verifier does not decide policy)
				ev.Action, ev.Actor, ev.Receipt, ev.Act, ev.Transfer = ActionDownloadStart, *x.envelopesEvent(t, 1).Counterparty, nil, nil, transfer
			case 3:
				ev.Action, ev.Actor, ev.Transfer = ActionDownloadDeliver, *x.envelopesEvent(t, 1).Counterparty, &Transfer{ID: transfer.ID, Request: 2}
			case 4:
				if !receipt {
					ev.Action, ev.Actor, ev.Act, ev.Grant, ev.Counterparty = ActionBundleExport, x.envelopesEvent(t, 0).Actor, nil, nil, nil
					return
				}
				ev.Act = signAct(t, w.us, ev.EvidenceID, x.sha256, Act{Action: ActionReceived, Time: at,
					GrantID: ev.Grant.ID, Download: Digest(x.statements[2]), Size: int64(len(signedContent))})
			}
		}
	}
	r, err := w.verifyActs(t, true, story(true))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if u := r.Unreceived(); len(u) != 0 {
		t.Errorf("Unreceived: got %v, want none: the receipt names the transfer's start", u)
	}
	if rc := r.Events[3].Received; rc == nil || rc.Seq != 4 || !rc.Matches {
		t.Errorf("the delivery's acknowledgement: got %+v, want event 4, matching", rc)
	}
	if rc := r.Events[1].Received; rc != nil {
		t.Errorf("the share carries an acknowledgement %+v", rc)
	}
	r, err = w.verifyActs(t, true, story(false))
	if err != nil {
		t.Fatalf("Verify without the receipt: %v", err)
	}
	if u := r.Unreceived(); !slices.Equal(u, []uint64{3}) {
		t.Errorf("Unreceived without the receipt: got %v, want [3], the delivery", u)
	}
}
