package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// maxUpload is the upload cap of the fixture's gateway.
const maxUpload = 4 << 10

// fixture is a gateway whose store holds one exhibit, owned by agency-nl, shared with
// agency-us (accepted) and with court-nl, and a second one shared with agency-us and
// not yet accepted.
type fixture struct {
	*testServer
	content    []byte
	sealed     string // the store name of id's sealed content
	id         string
	sha        string
	grant      string // agency-us's grant of id
	courtGrant string
	pending    string // the second exhibit
	pendGrant  string // agency-us's grant of pending, not accepted
	upload     string // an upload session of content by the owner, nothing sent yet
	fullUpload string // an upload session of content by the owner, every byte sent
	request    string // a request from agency-us to agency-nl, open
}

func newFixture(t *testing.T, opts serverOptions) *fixture {
	t.Helper()
	if opts.maxUploadBytes == 0 {
		opts.maxUploadBytes = maxUpload
	}
	f := &fixture{testServer: newTestServer(t, opts), content: []byte("the seized phone image")}
	env := f.env
	res := env.Register(t, env.Investigator, f.content)
	f.id, f.sha, f.sealed = res.Evidence.EvidenceID, res.Evidence.SHA256, exhibittest.SealedObject(t, res)
	f.grant = env.Share(t, f.id, env.ShareRequest(exhibittest.AgencyUS)).GrantID
	env.Accept(t, env.Partner, f.id, f.grant)
	f.courtGrant = env.Share(t, f.id, env.ShareRequest(exhibittest.CourtNL)).GrantID
	f.pending = env.Register(t, env.Investigator, []byte("pending")).Evidence.EvidenceID
	f.pendGrant = env.Share(t, f.pending, env.ShareRequest(exhibittest.AgencyUS)).GrantID
	f.upload = f.startUpload(t)
	f.fullUpload = f.startUpload(t)
	if _, err := env.Service.WriteUpload(t.Context(), env.Investigator.Principal, f.fullUpload, 0, content(f)); err != nil {
		t.Fatal(err)
	}
	filing := api.FileRequest{To: exhibittest.AgencyNL, Instrument: "eio", Reference: "US-1", IssuingAuthority: "US Attorney",
		Sought: "the phone image"}
	rq, err := env.Service.FileRequest(t.Context(), env.FileRequestAct(t, env.Partner, filing), filing)
	if err != nil {
		t.Fatal(err)
	}
	f.request = rq.Request.RequestID
	return f
}

// startUpload begins an upload session of the fixture's content by the owner.
func (f *fixture) startUpload(t *testing.T) string {
	t.Helper()
	st, err := f.env.Service.StartUpload(t.Context(), f.env.Investigator.Principal,
		exhibit.UploadStart{CaseID: exhibittest.CaseID, Length: int64(len(f.content))})
	if err != nil {
		t.Fatal(err)
	}
	return st.UploadID
}

// member returns the member a test case names; nil for "none".
func (f *fixture) member(name string) *exhibittest.Member {
	switch name {
	case "owner":
		return &f.env.Investigator
	case "partner":
		return &f.env.Partner
	case "court":
		return &f.env.Court
	case "stranger":
		return &f.env.Stranger
	}
	return nil
}

// expand fills the placeholders of a path or body.
func (f *fixture) expand(s string) string {
	return strings.NewReplacer("{id}", f.id, "{grant}", f.grant, "{courtGrant}", f.courtGrant,
		"{pending}", f.pending, "{pendGrant}", f.pendGrant, "{missing}", "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"{missingGrant}", "gr-aaaaaaaaaaaaaaaa", "{upload}", f.upload, "{fullUpload}", f.fullUpload,
		"{length}", strconv.Itoa(len(f.content)), "{sha}", api.FormatDigest(exhibittest.Digest(f.content)), "{expires}", f.env.Clock.Now().Add(7*24*time.Hour).Format(time.RFC3339),
		"{request}", f.request, "{missingRequest}", "rq-aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"{past}", f.env.Clock.Now().Add(-time.Hour).Format(time.RFC3339),
	).Replace(s)
}

// acceptBody is the partner's signed acceptance of its pending grant, as JSON.
func (f *fixture) acceptBody(t *testing.T) string {
	t.Helper()
	sha := f.env.Show(t, f.env.Investigator, f.pending).SHA256
	b, err := json.Marshal(exhibittest.AcceptRequest(t, f.env.Partner, f.pending, f.pendGrant, sha))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// routeCase is one request and the answer it must get.
type routeCase struct {
	name         string
	who          string // owner, partner, court, stranger or none
	method, path string
	body         string // with placeholders; "{accept}" is the partner's acceptance
	// reader, if set, is the body instead (an upload).
	reader func(f *fixture) io.Reader
	digest string // Content-Digest of an upload; "{true}" for the body's
	// headers are more request headers, with placeholders.
	headers map[string]string
	setup   func(t *testing.T, f *fixture)
	status  int
	// ctype is the Content-Type of a success (its start, with ctypePrefix); errors
	// are problems of kind.
	ctype       string
	ctypePrefix bool
	kind        string
	// answer, if set, returns a value the JSON answer must decode into, with no
	// unknown field.
	answer func() any
	// unsigned sends the request without the member's signed act.
	unsigned bool
}

// Headers of the tus cases.
var (
	caseB64    = base64.StdEncoding.EncodeToString([]byte(exhibittest.CaseID))
	tusV1      = map[string]string{"Tus-Resumable": "1.0.0"}
	tusCreate  = map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "{length}", "Upload-Metadata": "case_id " + caseB64}
	tusPatch   = map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
	reprDigest = map[string]string{"Repr-Digest": "{sha}"}
)

const (
	shareBody  = `{"to":"agency-de","legal_basis":"EIO 2026/3","expires":"{expires}"}`
	uploadPath = "/v1/evidence?case_id=" + exhibittest.CaseID
)

// content is an upload body of the fixture's content.
func content(f *fixture) io.Reader { return strings.NewReader(string(f.content)) }

// routeCases covers every route of routes(): its success and its typical refusals.
var routeCases = []routeCase{
	{name: "healthz", who: "owner", method: "GET", path: "/healthz", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(map[string]string) }},
	{name: "readyz", who: "owner", method: "GET", path: "/readyz", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(map[string]string) }},
	{name: "metrics are not on the API", who: "partner", method: "GET", path: "/metrics", status: 404, kind: api.ProblemNotFound},
	{name: "whoami", who: "court", method: "GET", path: "/v1/whoami", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(custody.Party) }},
	{name: "trust root", who: "stranger", method: "GET", path: "/v1/trust-root", status: 200, ctype: custody.TrustRootMediaType},
	{name: "trust root chain", who: "stranger", method: "GET", path: "/v1/trust-root/chain", status: 200, ctype: custody.TrustRootChainMediaType},
	{name: "checkpoint", who: "stranger", method: "GET", path: "/v1/log/checkpoint", status: 200, ctype: "text/plain; charset=utf-8"},

	{name: "consistency", who: "stranger", method: "GET", path: "/v1/log/consistency?from=1&to=3", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.ConsistencyProof) }},
	{name: "consistency without to", who: "owner", method: "GET", path: "/v1/log/consistency?from=1", status: 400, kind: api.ProblemInvalidRequest},
	{name: "consistency from -1", who: "owner", method: "GET", path: "/v1/log/consistency?from=-1&to=1", status: 400, kind: api.ProblemInvalidRequest},
	{name: "consistency backwards", who: "owner", method: "GET", path: "/v1/log/consistency?from=3&to=1", status: 400, kind: api.ProblemInvalidRequest},
	{name: "consistency beyond the log", who: "owner", method: "GET", path: "/v1/log/consistency?from=1&to=1000", status: 400, kind: api.ProblemInvalidRequest},

	{name: "leaves", who: "stranger", method: "GET", path: "/v1/log/leaves?start=0&count=2&size=3", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.LeafPage) }},
	{name: "leaves without size", who: "owner", method: "GET", path: "/v1/log/leaves?start=0&count=2", status: 400, kind: api.ProblemInvalidRequest},
	{name: "leaves count 0", who: "owner", method: "GET", path: "/v1/log/leaves?start=0&count=0&size=3", status: 400, kind: api.ProblemInvalidRequest},
	{name: "leaves beyond the log", who: "owner", method: "GET", path: "/v1/log/leaves?start=0&count=1&size=1000", status: 400, kind: api.ProblemInvalidRequest},

	{name: "upload", who: "owner", method: "POST", path: uploadPath + "&description=phone", reader: content, digest: "{true}", status: 201, ctype: api.JSONMediaType, answer: func() any { return new(api.UploadResult) }},
	{name: "upload without Content-Digest", who: "owner", method: "POST", path: uploadPath, reader: content, status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload with a sha-512 digest only", who: "owner", method: "POST", path: uploadPath, reader: content,
		digest: "sha-512=:" + strings.Repeat("A", 86) + "==:", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload with a short digest", who: "owner", method: "POST", path: uploadPath, reader: content, digest: "sha-256=:AAAA:", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload of other bytes", who: "owner", method: "POST", path: uploadPath, reader: func(*fixture) io.Reader { return strings.NewReader("tampered") },
		digest: "{true}", status: 422, kind: api.ProblemDigestMismatch},
	{name: "upload shorter than its Content-Length", who: "owner", method: "POST", path: uploadPath, reader: func(f *fixture) io.Reader {
		return io.MultiReader(strings.NewReader(string(f.content[:5])), iotest.ErrReader(io.ErrUnexpectedEOF))
	}, digest: "{true}", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload over the limit", who: "owner", method: "POST", path: uploadPath, reader: func(*fixture) io.Reader {
		return strings.NewReader(strings.Repeat("x", maxUpload+1))
	}, digest: "{true}", status: 413, kind: api.ProblemTooLarge},
	{name: "upload without a case", who: "owner", method: "POST", path: "/v1/evidence", reader: content, digest: "{true}", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload by a court", who: "court", method: "POST", path: uploadPath, reader: content, digest: "{true}", status: 403, kind: api.ProblemForbidden},

	{name: "tus options", who: "partner", method: "OPTIONS", path: "/v1/uploads", status: 200},
	{name: "tus create", who: "owner", method: "POST", path: "/v1/uploads", headers: tusCreate, status: 201},
	{name: "tus create with its first bytes", who: "owner", method: "POST", path: "/v1/uploads", reader: content,
		headers: map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "{length}", "Upload-Metadata": "case_id " + caseB64,
			"Content-Type": "application/offset+octet-stream"}, status: 201},
	{name: "tus create without Tus-Resumable", who: "owner", method: "POST", path: "/v1/uploads",
		headers: map[string]string{"Upload-Length": "10", "Upload-Metadata": "case_id " + caseB64}, status: 412, kind: api.ProblemUploadProtocol},
	{name: "tus create without a case", who: "owner", method: "POST", path: "/v1/uploads",
		headers: map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "10"}, status: 400, kind: api.ProblemInvalidRequest},
	{name: "tus create over the limit", who: "owner", method: "POST", path: "/v1/uploads",
		headers: map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(maxUpload + 1), "Upload-Metadata": "case_id " + caseB64}, status: 413, kind: api.ProblemTooLarge},
	{name: "tus create by a court", who: "court", method: "POST", path: "/v1/uploads", headers: tusCreate, status: 403, kind: api.ProblemForbidden},
	{name: "tus create with no certificate", who: "none", method: "POST", path: "/v1/uploads", headers: tusCreate, status: 401, kind: api.ProblemUnauthenticated},
	{name: "tus head", who: "owner", method: "HEAD", path: "/v1/uploads/{upload}", headers: tusV1, status: 200},
	{name: "tus head by a stranger", who: "stranger", method: "HEAD", path: "/v1/uploads/{upload}", headers: tusV1, status: 404, kind: api.ProblemNotFound},
	{name: "tus head of a colleague's upload", who: "court", method: "HEAD", path: "/v1/uploads/{upload}", headers: tusV1, status: 404, kind: api.ProblemNotFound},
	{name: "tus head of a malformed id", who: "owner", method: "HEAD", path: "/v1/uploads/up-1", headers: tusV1, status: 404, kind: api.ProblemNotFound},
	{name: "tus patch", who: "owner", method: "PATCH", path: "/v1/uploads/{upload}", reader: content, headers: tusPatch, status: 204},
	{name: "tus patch at another offset", who: "owner", method: "PATCH", path: "/v1/uploads/{upload}", reader: content,
		headers: map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "5", "Content-Type": "application/offset+octet-stream"}, status: 409, kind: api.ProblemUploadOffset},
	{name: "tus patch by the partner", who: "partner", method: "PATCH", path: "/v1/uploads/{upload}", reader: content, headers: tusPatch, status: 404, kind: api.ProblemNotFound},
	{name: "tus patch past the length", who: "owner", method: "PATCH", path: "/v1/uploads/{upload}", reader: func(*fixture) io.Reader {
		return strings.NewReader(strings.Repeat("x", 100))
	}, headers: tusPatch, status: 413, kind: api.ProblemTooLarge},
	{name: "tus delete", who: "owner", method: "DELETE", path: "/v1/uploads/{upload}", headers: tusV1, status: 204},
	{name: "tus delete by a stranger", who: "stranger", method: "DELETE", path: "/v1/uploads/{upload}", headers: tusV1, status: 404, kind: api.ProblemNotFound},
	{name: "register an upload", who: "owner", method: "POST", path: "/v1/uploads/{fullUpload}/register", headers: reprDigest, status: 201,
		ctype: api.JSONMediaType, answer: func() any { return new(api.UploadResult) }},
	{name: "register an incomplete upload", who: "owner", method: "POST", path: "/v1/uploads/{upload}/register", headers: reprDigest, status: 409, kind: api.ProblemUploadIncomplete},
	{name: "register with another digest", who: "owner", method: "POST", path: "/v1/uploads/{fullUpload}/register",
		headers: map[string]string{"Repr-Digest": api.FormatDigest(make([]byte, 32))}, status: 422, kind: api.ProblemDigestMismatch},
	{name: "register without Repr-Digest", who: "owner", method: "POST", path: "/v1/uploads/{fullUpload}/register", status: 400, kind: api.ProblemInvalidRequest},
	{name: "register by the partner", who: "partner", method: "POST", path: "/v1/uploads/{fullUpload}/register", headers: reprDigest, status: 404, kind: api.ProblemNotFound},

	{name: "show", who: "partner", method: "GET", path: "/v1/evidence/{id}", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.EvidenceView) }},
	{name: "show a malformed id", who: "owner", method: "GET", path: "/v1/evidence/ev-1", status: 400, kind: api.ProblemInvalidRequest},
	{name: "show to a stranger", who: "stranger", method: "GET", path: "/v1/evidence/{id}", status: 404, kind: api.ProblemNotFound},
	{name: "events", who: "court", method: "GET", path: "/v1/evidence/{id}/events", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.History) }},
	{name: "events of missing evidence", who: "owner", method: "GET", path: "/v1/evidence/{missing}/events", status: 404, kind: api.ProblemNotFound},

	{name: "share", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants", body: shareBody, status: 201, ctype: api.JSONMediaType, answer: func() any { return new(api.GrantResult) }},
	{name: "share without a body", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants", status: 400, kind: api.ProblemInvalidRequest},
	{name: "share malformed JSON", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants", body: `{"to":`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "share with an unknown field", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants",
		body: `{"to":"agency-de","legal_basis":"EIO","expires":"{expires}","copies":2}`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "share with trailing data", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants", body: shareBody + `{}`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "share of 64 KiB and more", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants",
		body: `{"to":"agency-de","legal_basis":"` + strings.Repeat("x", 64<<10) + `","expires":"{expires}"}`, status: 413, kind: api.ProblemTooLarge},
	{name: "share with no legal basis", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants", body: `{"to":"agency-de","expires":"{expires}"}`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "share by the partner", who: "partner", method: "POST", path: "/v1/evidence/{id}/grants", body: shareBody, status: 403, kind: api.ProblemForbidden},

	{name: "revoke with an empty body", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants/{grant}/revoke", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.GrantResult) }},
	{name: "revoke with a reason", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants/{grant}/revoke", body: `{"reason":"case closed"}`, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.GrantResult) }},
	{name: "revoke with an unknown field", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants/{grant}/revoke", body: `{"why":"x"}`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "revoke twice", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants/{grant}/revoke", setup: revokeFirst, status: 409, kind: api.ProblemAlreadyRevoked},
	{name: "revoke an unknown grant", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants/{missingGrant}/revoke", status: 404, kind: api.ProblemNotFound},
	{name: "revoke a malformed grant id", who: "owner", method: "POST", path: "/v1/evidence/{id}/grants/gr-x/revoke", status: 400, kind: api.ProblemInvalidRequest},
	{name: "revoke by the partner", who: "partner", method: "POST", path: "/v1/evidence/{id}/grants/{grant}/revoke", status: 403, kind: api.ProblemForbidden},

	{name: "accept", who: "partner", method: "POST", path: "/v1/evidence/{pending}/accept", body: "{accept}", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.GrantResult) }},
	{name: "accept without a body", who: "partner", method: "POST", path: "/v1/evidence/{pending}/accept", status: 400, kind: api.ProblemInvalidRequest},
	{name: "accept naming a grant of another exhibit", who: "partner", method: "POST", path: "/v1/evidence/{id}/accept", body: "{accept}", status: 409, kind: api.ProblemGrantNotAcceptable},
	{name: "accept where the grant is already accepted", who: "partner", method: "POST", path: "/v1/evidence/{id}/accept",
		body: `{"grant_id":"{grant}","receipt":{"statement":"e30=","signature":"AA=="}}`, status: 403, kind: api.ProblemForbidden},
	{name: "accept a grant to another agency", who: "partner", method: "POST", path: "/v1/evidence/{pending}/accept",
		body: `{"grant_id":"{missingGrant}","receipt":{"statement":"e30=","signature":"AA=="}}`, status: 409, kind: api.ProblemGrantNotAcceptable},
	{name: "accept with a bad signature", who: "partner", method: "POST", path: "/v1/evidence/{pending}/accept",
		body: `{"grant_id":"{pendGrant}","receipt":{"statement":"e30=","signature":"AA=="}}`, status: 400, kind: api.ProblemInvalidRequest},

	{name: "content", who: "partner", method: "GET", path: "/v1/evidence/{id}/content", status: 200, ctype: api.ContentMediaType},
	{name: "content before accepting", who: "partner", method: "GET", path: "/v1/evidence/{pending}/content", status: 403, kind: api.ProblemForbidden},
	{name: "content altered in the store", who: "owner", method: "GET", path: "/v1/evidence/{id}/content", setup: corrupt, status: 500, kind: api.ProblemIntegrityFailure},

	{name: "bundle", who: "court", method: "POST", path: "/v1/evidence/{id}/bundle", status: 200, ctype: custody.BundleMediaType},
	{name: "bundle with consistency proofs", who: "owner", method: "POST", path: "/v1/evidence/{id}/bundle?consistency_from=1,2", status: 200, ctype: custody.BundleMediaType},
	{name: "bundle consistency_from not a number", who: "owner", method: "POST", path: "/v1/evidence/{id}/bundle?consistency_from=1,x", status: 400, kind: api.ProblemInvalidRequest},
	{name: "bundle consistency_from beyond the log", who: "owner", method: "POST", path: "/v1/evidence/{id}/bundle?consistency_from=1000", status: 400, kind: api.ProblemInvalidRequest},
	{name: "bundle by the partner", who: "partner", method: "POST", path: "/v1/evidence/{id}/bundle", status: 403, kind: api.ProblemForbidden},

	{name: "hold with an empty body", who: "owner", method: "POST", path: "/v1/evidence/{id}/hold", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.CustodyReceipt) }},
	{name: "hold with a reason", who: "owner", method: "POST", path: "/v1/evidence/{id}/hold", body: `{"reason":"appeal"}`, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.CustodyReceipt) }},
	{name: "hold twice", who: "owner", method: "POST", path: "/v1/evidence/{id}/hold", setup: holdFirst, status: 409, kind: api.ProblemHoldState},
	{name: "hold with malformed JSON", who: "owner", method: "POST", path: "/v1/evidence/{id}/hold", body: `{`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "release with an empty body", who: "owner", method: "POST", path: "/v1/evidence/{id}/release", setup: holdFirst, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.CustodyReceipt) }},
	{name: "release without a hold", who: "owner", method: "POST", path: "/v1/evidence/{id}/release", status: 409, kind: api.ProblemHoldState},
	{name: "release by the partner", who: "partner", method: "POST", path: "/v1/evidence/{id}/release", body: `{"reason":"x"}`, status: 403, kind: api.ProblemForbidden},

	{name: "received without an act", who: "partner", method: "POST", path: "/v1/evidence/{id}/received", status: 400, kind: api.ProblemActRequired},
	{name: "received of evidence the stranger cannot see", who: "stranger", method: "POST", path: "/v1/evidence/{id}/received", status: 400, kind: api.ProblemActRequired},
	{name: "instruments", who: "stranger", method: "GET", path: "/v1/instruments", status: 200, ctype: api.JSONMediaType, answer: func() any { return new([]api.InstrumentView) }},
	{name: "inbox", who: "owner", method: "GET", path: "/v1/inbox?limit=5", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.Inbox) }},
	{name: "inbox with an unknown parameter", who: "owner", method: "GET", path: "/v1/inbox?owner=x", status: 400, kind: api.ProblemInvalidRequest},
	{name: "inbox with a cursor", who: "owner", method: "GET", path: "/v1/inbox?cursor=x", status: 400, kind: api.ProblemInvalidRequest},
	{name: "cases", who: "partner", method: "GET", path: "/v1/cases", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.CasePage) }},
	{name: "cases with limit 0", who: "partner", method: "GET", path: "/v1/cases?limit=0", status: 400, kind: api.ProblemInvalidRequest},
	{name: "cases with a parameter twice", who: "partner", method: "GET", path: "/v1/cases?limit=1&limit=2", status: 400, kind: api.ProblemInvalidRequest},
	{name: "case", who: "partner", method: "GET", path: "/v1/cases/" + exhibittest.CaseID, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.CaseView) }},
	{name: "case to a stranger", who: "stranger", method: "GET", path: "/v1/cases/" + exhibittest.CaseID, status: 404, kind: api.ProblemNotFound},
	{name: "case with a malformed id", who: "owner", method: "GET", path: "/v1/cases/-x", status: 400, kind: api.ProblemInvalidRequest},
	{name: "case exhibits", who: "court", method: "GET", path: "/v1/cases/" + exhibittest.CaseID + "/exhibits?limit=1", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.ExhibitPage) }},
	{name: "case exhibits with a bad cursor", who: "court", method: "GET", path: "/v1/cases/" + exhibittest.CaseID + "/exhibits?cursor=xyz", status: 400, kind: api.ProblemInvalidRequest},
	{name: "grants", who: "partner", method: "GET", path: "/v1/grants?box=inbox&state=awaiting", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.GrantPage) }},
	{name: "grants in an unknown state", who: "partner", method: "GET", path: "/v1/grants?state=lost", status: 400, kind: api.ProblemInvalidRequest},
	{name: "requests", who: "owner", method: "GET", path: "/v1/requests?box=inbox&state=open,acknowledged&instrument=eio", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestPage) }},
	{name: "requests in an unknown state", who: "owner", method: "GET", path: "/v1/requests?state=lost", status: 400, kind: api.ProblemInvalidRequest},
	{name: "requests due before no time", who: "owner", method: "GET", path: "/v1/requests?due_before=tomorrow", status: 400, kind: api.ProblemInvalidRequest},

	{name: "file a request", who: "partner", method: "POST", path: "/v1/requests", body: `{"to":"agency-nl","instrument":"epoc","reference":"R-1","issuing_authority":"judge","sought":"logs"}`,
		status: 201, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestResult) }},
	{name: "file under an unknown instrument", who: "partner", method: "POST", path: "/v1/requests", body: `{"to":"agency-nl","instrument":"fax","reference":"R","issuing_authority":"j","sought":"s"}`,
		status: 400, kind: api.ProblemInvalidRequest},
	{name: "file with a deadline in the past", who: "partner", method: "POST", path: "/v1/requests",
		body: `{"to":"agency-nl","instrument":"eio","reference":"R","issuing_authority":"j","sought":"s","deadline":"{past}"}`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "file to an unknown agency", who: "partner", method: "POST", path: "/v1/requests", body: `{"to":"agency-zz","instrument":"eio","reference":"R","issuing_authority":"j","sought":"s"}`,
		status: 400, kind: api.ProblemInvalidRequest},
	{name: "file with a control character", who: "partner", method: "POST", path: "/v1/requests", body: `{"to":"agency-nl","instrument":"eio","reference":"R\u0007","issuing_authority":"j","sought":"s"}`,
		status: 400, kind: api.ProblemInvalidRequest},
	{name: "file an oversized request", who: "partner", method: "POST", path: "/v1/requests",
		body: `{"to":"agency-nl","instrument":"eio","reference":"R","issuing_authority":"j","sought":"` + strings.Repeat("s", 64<<10) + `"}`, status: 413, kind: api.ProblemTooLarge},
	{name: "file as a court", who: "court", method: "POST", path: "/v1/requests", body: `{"to":"agency-nl","instrument":"eio","reference":"R","issuing_authority":"j","sought":"s"}`,
		status: 403, kind: api.ProblemForbidden},
	{name: "show a request", who: "owner", method: "GET", path: "/v1/requests/{request}", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestView) }},
	{name: "show a request to a stranger", who: "stranger", method: "GET", path: "/v1/requests/{request}", status: 404, kind: api.ProblemNotFound},
	{name: "show a missing request", who: "owner", method: "GET", path: "/v1/requests/{missingRequest}", status: 404, kind: api.ProblemNotFound},
	{name: "show a malformed request id", who: "owner", method: "GET", path: "/v1/requests/rq-1", status: 400, kind: api.ProblemInvalidRequest},
	{name: "request events", who: "partner", method: "GET", path: "/v1/requests/{request}/events", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestHistory) }},
	{name: "acknowledge", who: "owner", method: "POST", path: "/v1/requests/{request}/acknowledge", status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestResult) }},
	{name: "acknowledge twice", who: "owner", method: "POST", path: "/v1/requests/{request}/acknowledge", setup: acknowledgeFirst, status: 409, kind: api.ProblemRequestState},
	{name: "acknowledge as the requester", who: "partner", method: "POST", path: "/v1/requests/{request}/acknowledge", status: 403, kind: api.ProblemForbidden},
	{name: "respond", who: "owner", method: "POST", path: "/v1/requests/{request}/respond", body: `{"share":["{pending}"]}`, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestResult) }},
	{name: "respond to a closed request", who: "owner", method: "POST", path: "/v1/requests/{request}/respond", setup: refuseFirst, body: `{"refuse":true,"reason":"again"}`, status: 409, kind: api.ProblemRequestClosed},
	{name: "respond to someone else's request", who: "stranger", method: "POST", path: "/v1/requests/{request}/respond", body: `{"refuse":true,"reason":"no"}`, status: 404, kind: api.ProblemNotFound},
	{name: "respond to one's own request", who: "partner", method: "POST", path: "/v1/requests/{request}/respond", body: `{"refuse":true,"reason":"no"}`, status: 403, kind: api.ProblemForbidden},
	{name: "refuse without a reason", who: "owner", method: "POST", path: "/v1/requests/{request}/respond", body: `{"refuse":true}`, status: 400, kind: api.ProblemInvalidRequest},
	{name: "withdraw", who: "partner", method: "POST", path: "/v1/requests/{request}/withdraw", body: `{"reason":"solved"}`, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.RequestResult) }},
	{name: "file without an act", who: "partner", method: "POST", path: "/v1/requests", body: `{"to":"agency-nl","instrument":"epoc","reference":"R-1","issuing_authority":"judge","sought":"logs"}`,
		unsigned: true, status: 400, kind: api.ProblemActRequired},
	{name: "acknowledge without an act", who: "owner", method: "POST", path: "/v1/requests/{request}/acknowledge", unsigned: true, status: 400, kind: api.ProblemActRequired},
	{name: "respond without an act", who: "owner", method: "POST", path: "/v1/requests/{request}/respond", body: `{"share":["{pending}"]}`, unsigned: true, status: 400, kind: api.ProblemActRequired},
	{name: "refuse without an act", who: "owner", method: "POST", path: "/v1/requests/{request}/respond", body: `{"refuse":true,"reason":"no"}`, unsigned: true, status: 400, kind: api.ProblemActRequired},
	{name: "withdraw without an act", who: "partner", method: "POST", path: "/v1/requests/{request}/withdraw", unsigned: true, status: 400, kind: api.ProblemActRequired},
	{name: "withdraw as the addressee", who: "owner", method: "POST", path: "/v1/requests/{request}/withdraw", status: 403, kind: api.ProblemForbidden},
	{name: "request bundle", who: "owner", method: "POST", path: "/v1/requests/{request}/bundle", status: 200, ctype: custody.BundleMediaType},
	{name: "request bundle to a stranger", who: "stranger", method: "POST", path: "/v1/requests/{request}/bundle", status: 404, kind: api.ProblemNotFound},

	{name: "upload with forensic metadata", who: "owner", method: "POST", path: uploadPath + "&exhibit_number=NL-0042-EX3&source_md5=" + strings.Repeat("AB", 16) +
		"&source_sha1=" + strings.Repeat("cd", 20) + "&tool=FTK%20Imager&tool_version=4.7.1&examiner=J.%20de%20Vries&seized_at=2026-03-01T06:30:00Z&seized_place=Rotterdam&notes=write%20blocker",
		reader: content, digest: "{true}", status: 201, ctype: api.JSONMediaType, answer: func() any { return new(api.UploadResult) }},
	{name: "upload with a malformed source hash", who: "owner", method: "POST", path: uploadPath + "&source_sha256=abc", reader: content, digest: "{true}", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload naming the examiner twice", who: "owner", method: "POST", path: uploadPath + "&examiner=a&examiner=b", reader: content, digest: "{true}", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload with a line break in the notes", who: "owner", method: "POST", path: uploadPath + "&notes=a%0Ab", reader: content, digest: "{true}", status: 400, kind: api.ProblemInvalidRequest},
	{name: "upload with a seizure time that is no time", who: "owner", method: "POST", path: uploadPath + "&seized_at=yesterday", reader: content, digest: "{true}", status: 400, kind: api.ProblemInvalidRequest},

	{name: "dispose after the retention", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, setup: afterRetention,
		status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.DisposalResult) }},
	{name: "dispose inside the retention", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, status: 409, kind: api.ProblemRetained},
	{name: "dispose under legal hold", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, setup: holdAfterRetention, status: 409, kind: api.ProblemUnderLegalHold},
	{name: "dispose without a body", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", setup: afterRetention, status: 400, kind: api.ProblemInvalidRequest},
	{name: "dispose without an authority", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", body: `{"authority":""}`, setup: afterRetention, status: 400, kind: api.ProblemInvalidRequest},
	{name: "dispose without an act", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, setup: afterRetention, unsigned: true, status: 400, kind: api.ProblemActRequired},
	{name: "dispose by the partner", who: "partner", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, setup: afterRetention, status: 403, kind: api.ProblemForbidden},
	{name: "dispose by a stranger", who: "stranger", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, setup: afterRetention, status: 404, kind: api.ProblemNotFound},
	{name: "dispose the store refuses", who: "owner", method: "POST", path: "/v1/evidence/{id}/dispose", body: disposeBody, setup: storeClockBehind, status: 409, kind: api.ProblemRetained},
	{name: "content after the disposal", who: "owner", method: "GET", path: "/v1/evidence/{id}/content", setup: disposeFirst, status: 410, kind: api.ProblemDisposed},
	{name: "show after the disposal", who: "owner", method: "GET", path: "/v1/evidence/{id}", setup: disposeFirst, status: 200, ctype: api.JSONMediaType, answer: func() any { return new(api.EvidenceView) }},
	{name: "hold after the disposal", who: "owner", method: "POST", path: "/v1/evidence/{id}/hold", setup: disposeFirst, status: 410, kind: api.ProblemDisposed},
}

func acknowledgeFirst(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := f.env.Service.AcknowledgeRequest(t.Context(), f.env.AcknowledgeAct(t, f.env.Investigator, f.request, ""), f.request, ""); err != nil {
		t.Fatal(err)
	}
}

func refuseFirst(t *testing.T, f *fixture) {
	t.Helper()
	refusal := api.RespondRequest{Refuse: true, Reason: "no grounds"}
	if _, err := f.env.Service.RespondRequest(t.Context(), f.env.RespondAct(t, f.env.Investigator, f.request, refusal), f.request, refusal); err != nil {
		t.Fatal(err)
	}
}

const disposeBody = `{"authority":"order of the Rotterdam District Court, 2036/17"}`

// routeRetention is the retention of the route table's exhibits: short, so that their
// members' certificates, which sign the disposal's act, are still valid after it.
const routeRetention = 30 * 24 * time.Hour

// afterRetention moves the service's clock (and the store's, which follows it) past
// the route table's retention.
func afterRetention(t *testing.T, f *fixture) {
	t.Helper()
	f.env.Clock.Advance(routeRetention + time.Hour)
}

func holdAfterRetention(t *testing.T, f *fixture) {
	t.Helper()
	holdFirst(t, f)
	afterRetention(t, f)
}

// storeClockBehind leaves the store on the real clock while the service's passes the
// retention: the store refuses to destroy after the disposal is recorded.
func storeClockBehind(t *testing.T, f *fixture) {
	t.Helper()
	f.env.Store.Now = time.Now
	afterRetention(t, f)
}

func disposeFirst(t *testing.T, f *fixture) {
	t.Helper()
	afterRetention(t, f)
	if _, err := f.env.Service.Dispose(t.Context(), f.env.DisposeAct(t, f.env.Investigator, f.id, "retention schedule"), f.id, "retention schedule"); err != nil {
		t.Fatal(err)
	}
}

func revokeFirst(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := f.env.Service.Revoke(t.Context(), f.env.RevokeAct(t, f.id, f.grant, ""), f.id, f.grant, ""); err != nil {
		t.Fatal(err)
	}
}

func holdFirst(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := f.env.Service.Hold(t.Context(), f.env.HoldAct(t, f.env.Investigator, f.id, true, ""), f.id, true, ""); err != nil {
		t.Fatal(err)
	}
}

func corrupt(t *testing.T, f *fixture) {
	t.Helper()
	if err := f.env.Store.Corrupt(f.sealed, 50); err != nil {
		t.Fatal(err)
	}
}

// build turns a case into its request.
func (c routeCase) build(t *testing.T, f *fixture) *http.Request {
	t.Helper()
	var body io.Reader
	switch {
	case c.reader != nil:
		body = c.reader(f)
	case c.body == "{accept}":
		body = strings.NewReader(f.acceptBody(t))
	case c.body != "":
		body = strings.NewReader(f.expand(c.body))
	}
	r := request(t, f.member(c.who), c.method, f.expand(c.path), body)
	for k, v := range c.headers {
		r.Header.Set(k, f.expand(v))
	}
	switch c.digest {
	case "":
	case "{true}":
		r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(f.content)))
	default:
		r.Header.Set(api.HeaderContentDigest, c.digest)
	}
	return r
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	for _, c := range routeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, serverOptions{env: exhibittest.Options{Retention: exhibit.Retention{Default: routeRetention}}})
			if c.setup != nil {
				c.setup(t, f)
			}
			serve := f.serve
			if c.unsigned {
				serve = f.serveUnsigned
			}
			rec := serve(c.build(t, f))
			if c.kind != "" {
				checkProblem(t, c.name, rec, c.status, c.kind)
				return
			}
			if rec.Code != c.status {
				t.Fatalf("got status %d (%s), want %d", rec.Code, rec.Body, c.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != c.ctype && !(c.ctypePrefix && strings.HasPrefix(ct, c.ctype)) {
				t.Errorf("got Content-Type %q, want %q", ct, c.ctype)
			}
			if c.answer != nil {
				decode(t, c.name, rec, c.status, c.answer())
			}
		})
	}
}

// TestRoutesAllCovered keeps routeCases in step with routes(): every route is
// requested by at least one case.
func TestRoutesAllCovered(t *testing.T) {
	f := newFixture(t, serverOptions{})
	covered := map[string]bool{}
	for _, c := range routeCases {
		var m mux.RouteMatch
		if f.srv.router.Match(c.build(t, f), &m) && m.Route != nil {
			tmpl, _ := m.Route.GetPathTemplate()
			covered[c.method+" "+tmpl] = true
		}
	}
	err := f.srv.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		methods, merr := route.GetMethods()
		if err != nil || merr != nil {
			return nil // the /v1 prefix itself
		}
		for _, m := range methods {
			if !covered[m+" "+tmpl] {
				t.Errorf("no case requests %s %s", m, tmpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(covered) < 39 {
		t.Errorf("the cases cover %d routes, want all 39", len(covered))
	}
}

var errReadyDown = errors.New("vault: connection refused")

func TestReadyzUnavailable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{ready: func(ctx context.Context) error { return errReadyDown }})
	rec := ts.do(t, &ts.env.Investigator, "GET", "/readyz", "")
	p := checkProblem(t, "readyz with a backend down", rec, http.StatusServiceUnavailable, api.ProblemUnavailable)
	if strings.Contains(p.Detail, "vault") {
		t.Errorf("the 503 detail %q shows the backend's error", p.Detail)
	}
	if !strings.Contains(ts.logs.String(), errReadyDown.Error()) {
		t.Error("the backend's error is not in the log")
	}
}
