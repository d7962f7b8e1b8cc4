package exhibittest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
)

// The helpers below run a use case that must succeed and fail the test otherwise; the
// tests of refusals call the Service directly.

// CaseID is the case the helpers register evidence for.
const CaseID = "CASE-2026-0412"

// LegalBasis is the legal basis of ShareRequest.
const LegalBasis = "MLAT request 2026/17"

// Upload returns the upload of content for CaseID with its true digest.
func Upload(content []byte) exhibit.Upload {
	return exhibit.Upload{CaseID: CaseID, Description: "seized phone image", SHA256: Digest(content), Content: bytes.NewReader(content)}
}

// Register registers content as m, with m's signed register act.
func (e *Env) Register(t testing.TB, m Member, content []byte) api.UploadResult {
	t.Helper()
	u := Upload(content)
	res, err := e.Service.Register(t.Context(), RegisterAct(t, m, u), u)
	if err != nil {
		t.Fatalf("registering %d bytes as %s: %v", len(content), m.Principal.Person, err)
	}
	return res
}

// RegisterAct returns m's principal carrying its signed act registering u.
func RegisterAct(t testing.TB, m Member, u exhibit.Upload) exhibit.Principal {
	t.Helper()
	return SignedBy(t, m, "", hex.EncodeToString(u.SHA256), custody.Act{Action: custody.ActionRegister, CaseID: u.CaseID,
		Description: u.Description, Acquisition: u.Acquisition})
}

// SignedBy returns m's principal carrying m's act a about evidence id (with registered
// digest sha; id "" for a register act), signed now with m's key as the client signs it.
func SignedBy(t testing.TB, m Member, id, sha string, a custody.Act) exhibit.Principal {
	t.Helper()
	p := m.Principal
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	p.Act = SignAct(t, m.Key, []*x509.Certificate{m.Principal.Cert}, id, sha, a)
	return p
}

// Signed is SignedBy for an exhibit of the Env, whose registered digest it reads,
// signed at the Env's clock's now unless a says when.
func (e *Env) Signed(t testing.TB, m Member, id string, a custody.Act) exhibit.Principal {
	t.Helper()
	if a.Time.IsZero() {
		a.Time = e.Clock.Now()
	}
	sha := strings.Repeat("0", 64)
	if v, err := e.Service.Show(t.Context(), e.Investigator.Principal, id); err == nil {
		sha = v.SHA256
	}
	return SignedBy(t, m, id, sha, a)
}

// SignAct signs act a about evidence id with key, whose certificate chain is certs, into
// a signed act (for tests of forged acts: any key, any certificate).
func SignAct(t testing.TB, key crypto.Signer, certs []*x509.Certificate, id, sha string, a custody.Act) *custody.SignedAct {
	t.Helper()
	if a.Nonce == "" {
		n := make([]byte, 16)
		rand.Read(n)
		a.Nonce = hex.EncodeToString(n)
	}
	st, err := custody.NewActStatement(id, sha, a).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pae := custody.PAE(custody.PayloadType, st)
	h := sha256.Sum256(pae)
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, pae)
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, h[:])
	default:
		t.Fatalf("signing an act with a %T", key)
	}
	if err != nil {
		t.Fatal(err)
	}
	keyID, err := custody.KeyID(certs[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sa := &custody.SignedAct{Envelope: custody.Envelope{PayloadType: custody.PayloadType, Payload: base64.StdEncoding.EncodeToString(st),
		Signatures: []custody.Signature{{KeyID: keyID, Sig: base64.StdEncoding.EncodeToString(sig)}}}}
	for _, c := range certs {
		sa.Certificates = append(sa.Certificates, c.Raw)
	}
	return sa
}

// ShareAct returns the owner's signed act for req.
func (e *Env) ShareAct(t testing.TB, id string, req api.ShareRequest) exhibit.Principal {
	t.Helper()
	return e.Signed(t, e.Investigator, id, custody.Act{Action: custody.ActionShare, Terms: &custody.GrantTerms{To: req.To,
		LegalBasis: req.LegalBasis, Expires: req.Expires, MaxDownloads: req.MaxDownloads, ViewOnly: req.ViewOnly}})
}

// ShareRequest returns a valid share with agency to: a legal basis, 30 days to run, no
// download limit.
func (e *Env) ShareRequest(to string) api.ShareRequest {
	return api.ShareRequest{To: to, LegalBasis: LegalBasis, Expires: e.Clock.Now().Add(30 * 24 * time.Hour)}
}

// Share shares evidence id as the owner's investigator.
func (e *Env) Share(t testing.TB, id string, req api.ShareRequest) api.GrantView {
	t.Helper()
	res, err := e.Service.Share(t.Context(), e.ShareAct(t, id, req), id, req)
	if err != nil {
		t.Fatalf("sharing %s with %s: %v", id, req.To, err)
	}
	return res.Grant
}

// Receipt signs statement st with m's key, as the client does.
func Receipt(t testing.TB, m Member, st api.ReceiptStatement) api.SignedReceipt {
	t.Helper()
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(b)
	sig, err := ecdsa.SignASN1(rand.Reader, m.Key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return api.SignedReceipt{Statement: b, Signature: sig}
}

// AcceptRequest returns m's acceptance of grant grantID of evidence id, whose
// registered digest is sha256Hex, with the first release's signed receipt.
func AcceptRequest(t testing.TB, m Member, id, grantID, sha256Hex string) api.AcceptRequest {
	t.Helper()
	r := Receipt(t, m, api.NewReceiptStatement(id, grantID, sha256Hex, time.Now()))
	return api.AcceptRequest{GrantID: grantID, Receipt: &r}
}

// AcceptAct returns m's principal carrying its signed act accepting grant grantID.
func (e *Env) AcceptAct(t testing.TB, m Member, id, grantID string) exhibit.Principal {
	t.Helper()
	return e.Signed(t, m, id, custody.Act{Action: custody.ActionAccept, GrantID: grantID})
}

// Accept accepts grant grantID of evidence id as m, with m's signed accept act.
func (e *Env) Accept(t testing.TB, m Member, id, grantID string) api.GrantResult {
	t.Helper()
	res, err := e.Service.Accept(t.Context(), e.AcceptAct(t, m, id, grantID), id, api.AcceptRequest{GrantID: grantID})
	if err != nil {
		t.Fatalf("accepting grant %s of %s as %s: %v", grantID, id, m.Principal.Person, err)
	}
	return res
}

// RevokeAct returns the owner's signed act revoking grant grantID for reason.
func (e *Env) RevokeAct(t testing.TB, id, grantID, reason string) exhibit.Principal {
	t.Helper()
	return e.Signed(t, e.Investigator, id, custody.Act{Action: custody.ActionRevoke, GrantID: grantID, Reason: reason})
}

// HoldAct returns m's signed act putting evidence id under legal hold (on) or
// releasing it, for reason.
func (e *Env) HoldAct(t testing.TB, m Member, id string, on bool, reason string) exhibit.Principal {
	t.Helper()
	a := custody.Act{Action: custody.ActionLegalHold, Reason: reason}
	if !on {
		a.Action = custody.ActionLegalHoldRelease
	}
	return e.Signed(t, m, id, a)
}

// ReceivedAct returns m's signed receipt of the download dl of evidence id: the bytes
// received had digest sha256Hex and size bytes.
func (e *Env) ReceivedAct(t testing.TB, m Member, id string, dl api.CustodyReceipt, sha256Hex string, size int64) exhibit.Principal {
	t.Helper()
	a := custody.Act{Action: custody.ActionReceived, Download: dl.Digest, Size: size}
	if g := Event(t, dl).Grant; g != nil {
		a.GrantID = g.ID
	}
	return SignedBy(t, m, id, sha256Hex, a)
}

// MemberOf returns the member of an agency of the exchange.
func (e *Env) MemberOf(t testing.TB, agency string) Member {
	t.Helper()
	for _, m := range e.Members() {
		if m.Principal.Agency == agency {
			return m
		}
	}
	t.Fatalf("no member of %s in the test exchange", agency)
	return Member{}
}

// Exchange registers content as the owner, shares it with req and has the grantee
// accept the grant. It returns the evidence id and the grant.
func (e *Env) Exchange(t testing.TB, content []byte, req api.ShareRequest) (string, api.GrantView) {
	t.Helper()
	id := e.Register(t, e.Investigator, content).Evidence.EvidenceID
	g := e.Share(t, id, req)
	return id, e.Accept(t, e.MemberOf(t, req.To), id, g.GrantID).Grant
}

// Show returns what m sees of evidence id.
func (e *Env) Show(t testing.TB, m Member, id string) api.EvidenceView {
	t.Helper()
	v, err := e.Service.Show(t.Context(), m.Principal, id)
	if err != nil {
		t.Fatalf("showing %s to %s: %v", id, m.Principal.Person, err)
	}
	return v
}

// Download downloads evidence id as m, reads it to its end and ends the request, which
// delivers a new transfer.
func (e *Env) Download(t testing.TB, m Member, id string) ([]byte, *exhibit.Content) {
	t.Helper()
	return e.DownloadRequest(t, m, id, exhibit.DownloadRequest{})
}

// DownloadRequest opens one request of a download as m, reads its range to the end and
// ends the request.
func (e *Env) DownloadRequest(t testing.TB, m Member, id string, req exhibit.DownloadRequest) ([]byte, *exhibit.Content) {
	t.Helper()
	c, err := e.Service.Download(t.Context(), m.Principal, id, req)
	if err != nil {
		t.Fatalf("downloading %s as %s: %v", id, m.Principal.Person, err)
	}
	b, err := io.ReadAll(c.Body)
	c.Body.Close()
	c.End(t.Context(), int64(len(b)), err)
	if err != nil {
		t.Fatalf("reading the download of %s: %v", id, err)
	}
	return b, c
}

// Actions returns the actions of the custody history of id, as the owner sees it.
func (e *Env) Actions(t testing.TB, id string) []string {
	t.Helper()
	h, err := e.Service.History(t.Context(), e.Investigator.Principal, id)
	if err != nil {
		t.Fatalf("reading the history of %s: %v", id, err)
	}
	var out []string
	for _, ev := range h.Events {
		out = append(out, ev.Action)
	}
	return out
}

// VerifyBundle exports the court bundle of id as m and verifies it against the
// trust root the service serves, as a court does offline.
func (e *Env) VerifyBundle(t testing.TB, m Member, id string, content []byte) *custody.Report {
	t.Helper()
	raw, _, err := e.Service.Bundle(t.Context(), m.Principal, id, nil)
	if err != nil {
		t.Fatalf("exporting the bundle of %s as %s: %v", id, m.Principal.Person, err)
	}
	return VerifyBundle(t, e.TrustRoot(t), raw, content)
}

// VerifyBundle parses an encoded bundle and verifies it against tr, with the content
// if it is not nil.
func VerifyBundle(t testing.TB, tr *custody.TrustRoot, raw, content []byte) *custody.Report {
	t.Helper()
	b, err := custody.ParseBundle(raw)
	if err != nil {
		t.Fatalf("parsing the bundle: %v", err)
	}
	var opts custody.VerifyOptions
	if content != nil {
		opts.Content = bytes.NewReader(content)
	}
	r, err := custody.Verify(b, tr, opts)
	if err != nil {
		t.Fatalf("verifying the bundle: %v", err)
	}
	return r
}

// Event decodes the custody event a receipt carries.
func Event(t testing.TB, rc api.CustodyReceipt) custody.Event {
	t.Helper()
	payload, err := rc.Envelope.PayloadBytes()
	if err != nil {
		t.Fatal(err)
	}
	st, err := custody.ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// SealedObject returns the store name of the sealed content a registration stored, as
// its register event records it.
func SealedObject(t testing.TB, res api.UploadResult) string {
	t.Helper()
	ev := Event(t, res.Custody)
	if ev.Storage == nil {
		t.Fatal("the register event records no storage facts")
	}
	name, ok := strings.CutPrefix(ev.Storage.Location, "mem:///")
	if !ok {
		t.Fatalf("the register event records location %q, want a memstore object", ev.Storage.Location)
	}
	return name
}

// FileRequestAct returns m's principal carrying its signed act filing req.
func (e *Env) FileRequestAct(t testing.TB, m Member, req api.FileRequest) exhibit.Principal {
	t.Helper()
	a := req.Act()
	a.Time = e.Clock.Now()
	return SignedBy(t, m, "", custody.FilingDigest(a.CaseID, *a.Request), a)
}

// RequestAct returns m's principal carrying its act a about request id, signed at the
// Env's clock's now with the request's digest, which it reads as m.
func (e *Env) RequestAct(t testing.TB, m Member, id string, a custody.Act) exhibit.Principal {
	t.Helper()
	if a.Time.IsZero() {
		a.Time = e.Clock.Now()
	}
	sha := strings.Repeat("0", 64)
	if v, err := e.Service.ShowRequest(t.Context(), m.Principal, id); err == nil {
		sha = v.Digest
	}
	return SignedBy(t, m, id, sha, a)
}

// DisposeAct returns m's principal carrying its signed act disposing of evidence id
// under authority.
func (e *Env) DisposeAct(t testing.TB, m Member, id, authority string) exhibit.Principal {
	t.Helper()
	return e.Signed(t, m, id, custody.Act{Action: custody.ActionDispose, Authority: authority})
}

// RespondAct returns m's principal carrying its signed act giving the answer req to
// request id.
func (e *Env) RespondAct(t testing.TB, m Member, id string, req api.RespondRequest) exhibit.Principal {
	t.Helper()
	return e.RequestAct(t, m, id, req.Act())
}

// AcknowledgeAct and WithdrawAct return m's principal carrying its signed act
// acknowledging or withdrawing request id with the note or reason given.
func (e *Env) AcknowledgeAct(t testing.TB, m Member, id, note string) exhibit.Principal {
	t.Helper()
	return e.RequestAct(t, m, id, custody.Act{Action: custody.ActionRequestAcknowledged, Reason: note})
}

func (e *Env) WithdrawAct(t testing.TB, m Member, id, reason string) exhibit.Principal {
	t.Helper()
	return e.RequestAct(t, m, id, custody.Act{Action: custody.ActionRequestWithdrawn, Reason: reason})
}
