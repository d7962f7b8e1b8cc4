package gateway

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// The tests of this package send changes of custody as the client does, with the
// member's signed act in the Custody-Act header: serve signs every POST of a member that
// carries none (signRequest), from the request itself. The tests of the act's refusals
// send theirs, or none, with serveUnsigned.

// memberOf returns the member of the test exchange whose certificate r presents.
func (ts *testServer) memberOf(r *http.Request) *exhibittest.Member {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	for _, m := range ts.env.Members() {
		if m.Principal.Cert.Equal(r.TLS.PeerCertificates[0]) {
			return &m
		}
	}
	return nil
}

// signRequest adds to a POST by a member the member's signed act for it, unless it
// carries one. It reads (and restores) a JSON body; it never reads an upload's body.
func (ts *testServer) signRequest(t testing.TB, r *http.Request) {
	t.Helper()
	m := ts.memberOf(r)
	if r.Method != http.MethodPost || m == nil || r.Header.Get(api.HeaderCustodyAct) != "" {
		return
	}
	var body []byte
	if r.URL.Path != "/v1/evidence" && r.ContentLength > maxJSONBody {
		return // refused for its size before anything is checked
	}
	if r.URL.Path == "/v1/requests" && r.ContentLength > maxJSONBody {
		return // refused for its size before anything is checked
	}
	if r.URL.Path != "/v1/evidence" && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		body = b
		rest := io.Reader(bytes.NewReader(b))
		if err != nil {
			rest = io.MultiReader(rest, errReader{err})
		}
		r.Body = io.NopCloser(rest)
	}
	if v := ts.actFor(t, *m, r, body); v != "" {
		r.Header.Set(api.HeaderCustodyAct, v)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// actFor returns m's signed act for the request r with JSON body body, as the
// Custody-Act header value; "" for a request that changes no custody.
func (ts *testServer) actFor(t testing.TB, m exhibittest.Member, r *http.Request, body []byte) string {
	t.Helper()
	var in struct {
		To           string         `json:"to"`
		LegalBasis   string         `json:"legal_basis"`
		Expires      time.Time      `json:"expires"`
		MaxDownloads int            `json:"max_downloads"`
		ViewOnly     bool           `json:"view_only"`
		Reason       string         `json:"reason"`
		GrantID      string         `json:"grant_id"`
		Receipt      map[string]any `json:"receipt"`
		Authority    string         `json:"authority"`
	}
	_ = json.Unmarshal(body, &in)
	if a, ok := ts.requestActFor(t, m, r, body); ok {
		return a
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/evidence"), "/")
	if r.URL.Path == "/v1/evidence" {
		sha := strings.Repeat("0", 64)
		if d, err := api.ParseDigest(r.Header.Values(api.HeaderContentDigest)...); err == nil {
			sha = hex.EncodeToString(d)
		}
		q := r.URL.Query()
		acq, _ := api.ParseAcquisitionQuery(q)
		if acq.IsZero() {
			acq = nil
		}
		return formatAct(t, exhibittest.SignedBy(t, m, "", sha, custody.Act{Action: custody.ActionRegister,
			CaseID: q.Get("case_id"), Description: q.Get("description"), Acquisition: acq}).Act)
	}
	if strings.HasPrefix(r.URL.Path, "/v1/uploads/") && strings.HasSuffix(r.URL.Path, "/register") {
		// The tests' resumable uploads are of exhibittest.CaseID, with no description.
		sha := strings.Repeat("0", 64)
		if d, err := api.ParseDigest(r.Header.Values(api.HeaderReprDigest)...); err == nil {
			sha = hex.EncodeToString(d)
		}
		return formatAct(t, exhibittest.SignedBy(t, m, "", sha, custody.Act{Action: custody.ActionRegister, CaseID: exhibittest.CaseID}).Act)
	}
	if len(body) > maxJSONBody {
		return ""
	}
	if len(parts) < 3 {
		return ""
	}
	id, a := parts[1], custody.Act{}
	switch last := parts[len(parts)-1]; {
	case last == "grants":
		a = custody.Act{Action: custody.ActionShare, Terms: &custody.GrantTerms{To: in.To, LegalBasis: in.LegalBasis,
			Expires: in.Expires, MaxDownloads: in.MaxDownloads, ViewOnly: in.ViewOnly}}
	case last == "revoke" && len(parts) == 5:
		a = custody.Act{Action: custody.ActionRevoke, GrantID: parts[3], Reason: in.Reason}
	case last == "accept":
		a = custody.Act{Action: custody.ActionAccept, GrantID: in.GrantID}
	case last == "hold":
		a = custody.Act{Action: custody.ActionLegalHold, Reason: in.Reason}
	case last == "release":
		a = custody.Act{Action: custody.ActionLegalHoldRelease, Reason: in.Reason}
	case last == "dispose":
		a = custody.Act{Action: custody.ActionDispose, Authority: in.Authority}
	default:
		return ""
	}
	return formatAct(t, ts.env.Signed(t, m, id, a).Act)
}

// requestActFor is actFor for the changes of a request: filing, acknowledging,
// answering and withdrawing. ok is false for a request that is none of these.
func (ts *testServer) requestActFor(t testing.TB, m exhibittest.Member, r *http.Request, body []byte) (string, bool) {
	t.Helper()
	if r.URL.Path == "/v1/requests" {
		var req api.FileRequest
		_ = json.Unmarshal(body, &req)
		a := req.Act()
		a.Time = ts.env.Clock.Now()
		return formatAct(t, exhibittest.SignedBy(t, m, "", custody.FilingDigest(a.CaseID, *a.Request), a).Act), true
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/requests/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/v1/requests/") || len(parts) != 2 {
		return "", false
	}
	var a custody.Act
	switch parts[1] {
	case "acknowledge", "withdraw":
		var in api.RequestAction
		_ = json.Unmarshal(body, &in)
		a = custody.Act{Action: custody.ActionRequestAcknowledged, Reason: in.Reason}
		if parts[1] == "withdraw" {
			a.Action = custody.ActionRequestWithdrawn
		}
	case "respond":
		var in api.RespondRequest
		_ = json.Unmarshal(body, &in)
		a = in.Act()
	default:
		return "", false
	}
	return formatAct(t, ts.env.RequestAct(t, m, parts[0], a).Act), true
}

func formatAct(t testing.TB, sa *custody.SignedAct) string {
	t.Helper()
	v, err := api.FormatAct(*sa)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// serveUnsigned runs one request through the handler as it is, without signing it.
func (ts *testServer) serveUnsigned(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, r)
	return rec
}

// uploadAct is the investigator's signed act registering content for the case of
// uploadPath, as the Custody-Act header value.
func (ts *testServer) uploadAct(t testing.TB, content []byte) string {
	t.Helper()
	return formatAct(t, exhibittest.SignedBy(t, ts.env.Investigator, "", exhibittest.DigestHex(content),
		custody.Act{Action: custody.ActionRegister, CaseID: exhibittest.CaseID}).Act)
}

// TestActsOverHTTP: a change without an act is 400 act-required, a malformed act 400,
// another member's or a forged act 422 act-refused; a download's signed receipt is
// recorded.
func TestActsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, serverOptions{})
	env := f.env
	hold := func(act string) *httptest.ResponseRecorder {
		r := request(t, &env.Investigator, http.MethodPost, "/v1/evidence/"+f.id+"/hold", nil)
		if act != "" {
			r.Header.Set(api.HeaderCustodyAct, act)
		}
		return f.serveUnsigned(r)
	}
	holdAct := custody.Act{Action: custody.ActionLegalHold}
	checkProblem(t, "no act", hold(""), http.StatusBadRequest, api.ProblemActRequired)
	checkProblem(t, "not base64", hold("%%%"), http.StatusBadRequest, api.ProblemInvalidRequest)
	checkProblem(t, "not a signed act", hold("e30K"), http.StatusUnprocessableEntity, api.ProblemActRefused)
	// The partner's own, valid act, sent on the owner's connection.
	p := checkProblem(t, "the partner's act", hold(formatAct(t, env.Signed(t, env.Partner, f.id, holdAct).Act)),
		http.StatusUnprocessableEntity, api.ProblemActRefused)
	if !strings.Contains(p.Detail, "does not chain to the agency's CA") {
		t.Errorf("the partner's act: detail %q, want it to say the certificate is not of the caller's agency", p.Detail)
	}
	release := custody.Act{Action: custody.ActionLegalHoldRelease}
	checkProblem(t, "an act for another action", hold(formatAct(t, env.Signed(t, env.Investigator, f.id, release).Act)),
		http.StatusUnprocessableEntity, api.ProblemActRefused)
	if rec := hold(formatAct(t, env.Signed(t, env.Investigator, f.id, holdAct).Act)); rec.Code != http.StatusOK {
		t.Fatalf("the owner's own act: got %d %s, want 200", rec.Code, rec.Body)
	}

	rec := f.do(t, &env.Partner, http.MethodGet, "/v1/evidence/"+f.id+"/content", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("download: %d %s", rec.Code, rec.Body)
	}
	dl, err := api.ParseCustodyEvent(rec.Header().Get(api.HeaderCustodyEvent))
	if err != nil {
		t.Fatal(err)
	}
	r := request(t, &env.Partner, http.MethodPost, "/v1/evidence/"+f.id+"/received", nil)
	r.Header.Set(api.HeaderCustodyAct, formatAct(t, env.ReceivedAct(t, env.Partner, f.id, *dl, f.sha, int64(len(f.content))).Act))
	var rc api.CustodyReceipt
	decode(t, "received", f.serveUnsigned(r), http.StatusOK, &rc)
	if rc.Action != string(custody.ActionReceived) {
		t.Errorf("received: recorded %s, want received", rc.Action)
	}
}
