package exhibittest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
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

// Register registers content as m.
func (e *Env) Register(t testing.TB, m Member, content []byte) api.UploadResult {
	t.Helper()
	res, err := e.Service.Register(t.Context(), m.Principal, Upload(content))
	if err != nil {
		t.Fatalf("registering %d bytes as %s: %v", len(content), m.Principal.Person, err)
	}
	return res
}

// ShareRequest returns a valid share with agency to: a legal basis, 30 days to run, no
// download limit.
func (e *Env) ShareRequest(to string) api.ShareRequest {
	return api.ShareRequest{To: to, LegalBasis: LegalBasis, Expires: e.Clock.Now().Add(30 * 24 * time.Hour)}
}

// Share shares evidence id as the owner's investigator.
func (e *Env) Share(t testing.TB, id string, req api.ShareRequest) api.GrantView {
	t.Helper()
	res, err := e.Service.Share(t.Context(), e.Investigator.Principal, id, req)
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

// AcceptRequest returns m's signed acceptance of grant grantID of evidence id, whose
// registered digest is sha256Hex.
func AcceptRequest(t testing.TB, m Member, id, grantID, sha256Hex string) api.AcceptRequest {
	t.Helper()
	return api.AcceptRequest{GrantID: grantID, Receipt: Receipt(t, m, api.NewReceiptStatement(id, grantID, sha256Hex, time.Now()))}
}

// Accept accepts grant grantID of evidence id as m, with a receipt for its registered
// digest.
func (e *Env) Accept(t testing.TB, m Member, id, grantID string) api.GrantResult {
	t.Helper()
	v := e.Show(t, m, id)
	res, err := e.Service.Accept(t.Context(), m.Principal, id, AcceptRequest(t, m, id, grantID, v.SHA256))
	if err != nil {
		t.Fatalf("accepting grant %s of %s as %s: %v", grantID, id, m.Principal.Person, err)
	}
	return res
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
