package client_test

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/pki"
)

const testEvidenceID = "ev-abcdefghijklmnopqrstuvwxyz"

// fakeGateway fakes the gateway API for one evidence item, with hooks to misbehave.
type fakeGateway struct {
	t  *testing.T
	ca *pki.CA

	mu sync.Mutex
	// content is the stored evidence; sha256 its registered digest.
	content []byte
	sha256  string
	grants  []api.GrantView
	// What the last upload and accept sent.
	uploadHeader http.Header
	uploadLength int64
	uploadQuery  string
	accepted     *api.AcceptRequest
	// acts are the verified acts the client sent, in order.
	acts []custody.ActStatement

	// Misbehaviours.
	serveContent   func(stored []byte) []byte // bytes sent instead of the stored ones
	announceDigest string                     // hex digest sent in Repr-Digest instead of the real one
	cuts           int                        // cut this many content answers after half their bytes
	cutAtStart     bool                       // cut every content answer before its first byte
	staleTransfer  bool                       // answer a Transfer-Id with transfer-not-resumable
	shiftRange     int64                      // announce a 206 as starting this many bytes before what it sends
	contentReqs    []http.Header              // the headers of every content request
	brokenProxy    bool                       // answer whoami with an HTML error page
	rejectDigest   bool                       // treat every upload as a digest mismatch
	busy           int                        // refuse this many uploads with 429 and Retry-After: 0
	unwitnessed    int                        // answer this many uploads with a witness-quorum 503, Retry-After: 0
	dropUploads    int                        // read this many uploads whole, then cut the connection
	uploads        int                        // uploads received
}

// newFakeGateway starts a fake gateway under mutual TLS and returns it with a client
// whose identity was issued by the gateway's CA.
func newFakeGateway(t *testing.T) (*fakeGateway, *client.Client, pki.Identity) {
	t.Helper()
	ca, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueServer([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := pki.ServerTLSConfig(certPEM, keyPEM, ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGateway{t: t, ca: ca}
	srv := httptest.NewUnstartedServer(g.handler())
	srv.TLS = serverTLS
	srv.StartTLS()
	t.Cleanup(srv.Close)

	id := g.identity(t, srv.URL, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	c, err := client.New(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return g, c, id
}

// identity issues a client identity valid in [notBefore, notAfter].
func (g *fakeGateway) identity(t *testing.T, url string, notBefore, notAfter time.Time) pki.Identity {
	t.Helper()
	subject := pkix.Name{CommonName: "bob", Organization: []string{"agency-us"}, Country: []string{"US"}}
	certPEM, keyPEM, err := g.ca.IssueClientWindow(subject, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return pki.Identity{CertPEM: certPEM, KeyPEM: keyPEM, CAPEM: g.ca.CertPEM(), GatewayURL: url}
}

// store sets the stored evidence content.
func (g *fakeGateway) store(content []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sum := sha256.Sum256(content)
	g.content, g.sha256 = content, hex.EncodeToString(sum[:])
}

func (g *fakeGateway) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/evidence", g.upload)
	mux.HandleFunc("GET /v1/evidence/{id}", g.withEvidence(g.show))
	mux.HandleFunc("GET /v1/evidence/{id}/content", g.withEvidence(g.download))
	mux.HandleFunc("POST /v1/evidence/{id}/accept", g.withEvidence(g.accept))
	mux.HandleFunc("POST /v1/evidence/{id}/received", g.withEvidence(g.received))
	mux.HandleFunc("GET /v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		broken := g.brokenProxy
		g.mu.Unlock()
		if broken {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body>Bad gateway</body></html>")
			return
		}
		writeJSON(w, http.StatusOK, custody.Party{Agency: "agency-us", Jurisdiction: "US", Person: "bob"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.JSONMediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", api.ProblemMediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Problem{Type: "about:blank", Title: title, Status: status, Detail: detail})
}

func (g *fakeGateway) withEvidence(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		known := r.PathValue("id") == testEvidenceID && g.content != nil
		g.mu.Unlock()
		if !known {
			writeProblem(w, http.StatusNotFound, "Not Found", "no evidence "+r.PathValue("id"))
			return
		}
		h(w, r)
	}
}

func (g *fakeGateway) view() api.EvidenceView {
	g.mu.Lock()
	defer g.mu.Unlock()
	return api.EvidenceView{EvidenceID: testEvidenceID, CaseID: "CASE-1", SHA256: g.sha256,
		Size: int64(len(g.content)), Owner: "police-fr", Jurisdiction: "FR", EventCount: 2, Grants: g.grants}
}

func (g *fakeGateway) receipt(action string) api.CustodyReceipt {
	return api.CustodyReceipt{EvidenceID: testEvidenceID, Seq: 3, Action: action, Digest: "00", LogIndex: 41}
}

func (g *fakeGateway) upload(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.uploads++
	busy, drop := g.busy > 0, g.dropUploads > 0 && g.busy == 0
	if busy {
		g.busy--
	} else if drop {
		g.dropUploads--
	}
	g.mu.Unlock()
	if busy {
		w.Header().Set("Retry-After", "0")
		writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", "too many uploads in flight")
		return
	}
	g.mu.Lock()
	unwitnessed := g.unwitnessed > 0
	if unwitnessed {
		g.unwitnessed--
	}
	g.mu.Unlock()
	if unwitnessed {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", api.ProblemMediaType)
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(api.NewProblem(api.ProblemWitnessQuorum, http.StatusServiceUnavailable, "the witnesses did not cosign"))
		return
	}
	if drop {
		io.Copy(io.Discard, r.Body)
		panic(http.ErrAbortHandler)
	}
	want, err := api.ParseDigest(r.Header.Get(api.HeaderContentDigest))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", err.Error())
		return
	}
	st, ok := g.act(w, r, custody.ActionRegister)
	if !ok {
		return
	}
	if st.SHA256() != hex.EncodeToString(want) || st.Predicate.CaseID != r.URL.Query().Get("case_id") {
		writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "the register act names other content or another case")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "truncated body")
		return
	}
	g.mu.Lock()
	g.uploadHeader, g.uploadLength, g.uploadQuery = r.Header.Clone(), r.ContentLength, r.URL.RawQuery
	g.mu.Unlock()
	if got := sha256.Sum256(body); string(got[:]) != string(want) || g.rejectDigest {
		writeProblem(w, http.StatusUnprocessableEntity, "Digest Mismatch", "the uploaded content does not match its Content-Digest")
		return
	}
	g.store(body)
	writeJSON(w, http.StatusCreated, api.UploadResult{Evidence: g.view(), Custody: g.receipt("register")})
}

func (g *fakeGateway) show(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, g.view())
}

func (g *fakeGateway) download(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	body, digest := g.content, g.sha256
	if g.serveContent != nil {
		body = g.serveContent(body)
	}
	if g.announceDigest != "" {
		digest = g.announceDigest
	}
	cut, cutAtStart, stale, shift := g.cuts > 0, g.cutAtStart, g.staleTransfer, g.shiftRange
	if cut {
		g.cuts--
	}
	g.contentReqs = append(g.contentReqs, r.Header.Clone())
	g.mu.Unlock()
	transfer := r.Header.Get(api.HeaderTransferID)
	if transfer != "" && stale {
		w.Header().Set("Content-Type", api.ProblemMediaType)
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(api.Problem{Type: api.ProblemBase + api.ProblemTransferNotResumable, Title: "Conflict", Status: 409, Detail: "delivered"})
		return
	}
	if transfer == "" {
		transfer = fakeTransfer(len(g.contentReqs))
	}
	sum, _ := hex.DecodeString(digest)
	etag := api.ContentETag(sum)
	off, status := 0, http.StatusOK
	rng, err := api.ParseRange(r.Header.Values("Range")...)
	if err == nil && rng != nil && (r.Header.Get("If-Range") == "" || r.Header.Get("If-Range") == etag) {
		o, n, ok := rng.Resolve(int64(len(body)))
		if !ok || o+n != int64(len(body)) {
			writeProblem(w, http.StatusRequestedRangeNotSatisfiable, "Range Not Satisfiable", "bad range")
			return
		}
		off, status = int(o), http.StatusPartialContent
		w.Header().Set("Content-Range", api.FormatContentRange(o-shift, n, int64(len(body))))
	}
	h := w.Header()
	h.Set(api.HeaderReprDigest, api.FormatDigest(sum))
	h.Set("Content-Length", strconv.Itoa(len(body)-off))
	h.Set("ETag", etag)
	h.Set(api.HeaderTransferID, transfer)
	cev, err := api.FormatCustodyEvent(g.downloadEvent())
	if err != nil {
		g.t.Error(err)
	}
	h.Set(api.HeaderCustodyEvent, cev)
	w.WriteHeader(status)
	switch {
	case cutAtStart:
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	case cut:
		w.Write(body[off : off+(len(body)-off)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.Write(body[off:])
}

// fakeTransfer is the transfer id the fake gives the nth content request without one.
func fakeTransfer(n int) string { return "tr-" + strings.Repeat("a", 25) + string(rune('a'+n%26)) }

func (g *fakeGateway) accept(w http.ResponseWriter, r *http.Request) {
	var req api.AcceptRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", err.Error())
		return
	}
	st, ok := g.act(w, r, custody.ActionAccept)
	if !ok {
		return
	}
	view := g.view()
	if st.Predicate.GrantID != req.GrantID || st.SHA256() != view.SHA256 || st.EvidenceID() != testEvidenceID {
		writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("act %+v does not match", st))
		return
	}
	g.mu.Lock()
	g.accepted = &req
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, api.GrantResult{Grant: api.GrantView{GrantID: req.GrantID, Accepted: true, State: api.GrantActive},
		Custody: g.receipt("accept")})
}

// act verifies the request's signed act against the fake's CA, as the gateway does, and
// records it; it answers 400 or 422 and returns false if the act is missing or refused.
func (g *fakeGateway) act(w http.ResponseWriter, r *http.Request, action custody.Action) (custody.ActStatement, bool) {
	sa, err := api.ParseAct(r.Header.Values(api.HeaderCustodyAct)...)
	if err != nil || sa == nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("no valid act: %v", err))
		return custody.ActStatement{}, false
	}
	va, err := custody.VerifyAct(*sa, []*x509.Certificate{g.ca.Cert()}, time.Now())
	if err != nil || va.Statement.Predicate.Action != action {
		writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", fmt.Sprintf("act refused: %v", err))
		return custody.ActStatement{}, false
	}
	g.mu.Lock()
	g.acts = append(g.acts, va.Statement)
	g.mu.Unlock()
	return va.Statement, true
}

// downloadEvent is the download event the fake records, with the statement a client
// reads in its envelope (not signed: the client does not check the gateway's signature).
func (g *fakeGateway) downloadEvent() api.CustodyReceipt {
	view := g.view()
	ev := custody.Event{EvidenceID: testEvidenceID, CaseID: view.CaseID, Seq: 3, Prev: strings.Repeat("0", 64),
		Action: custody.ActionDownloadStart, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: custody.Party{Agency: "agency-us", Jurisdiction: "US"},
		Grant: &custody.Grant{ID: "gr-bbbbbbbbbbbbbbbb", To: "agency-us"}, Transfer: &custody.Transfer{ID: "tr-" + strings.Repeat("c", 26)}}
	st, err := custody.NewStatement(view.SHA256, ev).Marshal()
	if err != nil {
		g.t.Error(err)
	}
	rc := g.receipt("download-start")
	rc.Digest = custody.Digest(st)
	rc.Envelope = custody.Envelope{PayloadType: custody.PayloadType, Payload: base64.StdEncoding.EncodeToString(st)}
	return rc
}

func (g *fakeGateway) received(w http.ResponseWriter, r *http.Request) {
	st, ok := g.act(w, r, custody.ActionReceived)
	if !ok {
		return
	}
	if st.Predicate.Download != g.downloadEvent().Digest || st.Predicate.GrantID != "gr-bbbbbbbbbbbbbbbb" {
		writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "the received act names another download")
		return
	}
	writeJSON(w, http.StatusOK, g.receipt("received"))
}
