package gateway

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

func TestUploadAndDownload(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	content := make([]byte, 3<<20)
	rand.Read(content)
	var up api.UploadResult
	decode(t, "upload", ts.upload(t, &ts.env.Investigator, content), http.StatusCreated, &up)
	id := up.Evidence.EvidenceID
	if up.Evidence.Size != int64(len(content)) || up.Custody.Action != "register" {
		t.Errorf("got upload of %d bytes recorded as %s, want %d bytes and a register event", up.Evidence.Size, up.Custody.Action, len(content))
	}

	rec := ts.do(t, &ts.env.Investigator, http.MethodGet, "/v1/evidence/"+id+"/content", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("got status %d (%s), want 200", rec.Code, rec.Body)
	}
	h := rec.Header()
	if !bytes.Equal(rec.Body.Bytes(), content) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", rec.Body.Len(), len(content))
	}
	if h.Get("Content-Type") != api.ContentMediaType || h.Get("Content-Length") != strconv.Itoa(len(content)) {
		t.Errorf("got Content-Type %q, Content-Length %q; want %q, %d", h.Get("Content-Type"), h.Get("Content-Length"), api.ContentMediaType, len(content))
	}
	if sum, err := api.ParseDigest(h.Values(api.HeaderReprDigest)...); err != nil || !bytes.Equal(sum, exhibittest.Digest(content)) {
		t.Errorf("got Repr-Digest %q (%v), want the content's SHA-256", h.Get(api.HeaderReprDigest), err)
	}
	rc, err := api.ParseCustodyEvent(h.Get(api.HeaderCustodyEvent))
	if err != nil {
		t.Fatalf("Custody-Event: %v", err)
	}
	ev := exhibittest.Event(t, *rc)
	if rc.Action != "download-start" || rc.EvidenceID != id || rc.Seq != 1 || ev.Actor.Agency != exhibittest.AgencyNL {
		t.Errorf("got Custody-Event %s %d of %s by %s, want the owner's download-start, event 1 of %s", rc.Action, rc.Seq, rc.EvidenceID, ev.Actor.Agency, id)
	}
	if h.Get("Accept-Ranges") != "bytes" || h.Get("ETag") != api.ContentETag(exhibittest.Digest(content)) ||
		ev.Transfer == nil || h.Get(api.HeaderTransferID) != ev.Transfer.ID {
		t.Errorf("got Accept-Ranges %q, ETag %q, Transfer-Id %q; want bytes, the content's tag and the transfer of %+v",
			h.Get("Accept-Ranges"), h.Get("ETag"), h.Get(api.HeaderTransferID), ev.Transfer)
	}
	if acts := ts.env.Actions(t, id); !slices.Equal(acts, []string{"register", "download-start", "download-deliver"}) {
		t.Errorf("got history %q, want the transfer started and delivered", acts)
	}
}

// TestIdempotentUploadOverHTTP: an upload sent again with its Idempotency-Key answers
// with the first one's exhibit; the key sent with other content is refused 422.
func TestIdempotentUploadOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	send := func(content []byte, key string) *httptest.ResponseRecorder {
		r := request(t, &ts.env.Investigator, http.MethodPost, "/v1/evidence?case_id="+exhibittest.CaseID, bytes.NewReader(content))
		r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(content)))
		r.Header.Set(api.HeaderIdempotencyKey, key)
		return ts.serve(r)
	}
	content := []byte("disk image")
	var first, again api.UploadResult
	decode(t, "first upload", send(content, `"k-1"`), http.StatusCreated, &first)
	decode(t, "the same upload again", send(content, `"k-1"`), http.StatusCreated, &again)
	if again.Evidence.EvidenceID != first.Evidence.EvidenceID || again.Custody.Seq != 0 {
		t.Errorf("the upload sent again registered %s (event %d), want %s's register event", again.Evidence.EvidenceID, again.Custody.Seq, first.Evidence.EvidenceID)
	}
	checkProblem(t, "the key with other content", send([]byte("other image"), `"k-1"`), http.StatusUnprocessableEntity, api.ProblemIdempotencyReused)
	checkProblem(t, "a key that is no RFC 8941 string", send(content, "k-1"), http.StatusBadRequest, api.ProblemInvalidRequest)
	var other api.UploadResult
	decode(t, "a new key", send(content, `"k-2"`), http.StatusCreated, &other)
	if other.Evidence.EvidenceID == first.Evidence.EvidenceID {
		t.Errorf("an upload with a new key answered with the first exhibit %s", first.Evidence.EvidenceID)
	}
}

func TestBundleOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, serverOptions{})
	rec := f.do(t, &f.env.Court, http.MethodPost, "/v1/evidence/"+f.id+"/bundle?consistency_from=2", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != custody.BundleMediaType {
		t.Fatalf("got %d %q (%s), want 200 %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body, custody.BundleMediaType)
	}
	rc, err := api.ParseCustodyEvent(rec.Header().Get(api.HeaderCustodyEvent))
	if err != nil {
		t.Fatalf("Custody-Event: %v", err)
	}
	// The court verifies the bundle offline against the trust root the gateway serves.
	trRec := f.do(t, &f.env.Court, http.MethodGet, "/v1/trust-root", "")
	tr, err := custody.ParseTrustRoot(trRec.Body.Bytes())
	if err != nil {
		t.Fatalf("the served trust root: %v", err)
	}
	r := exhibittest.VerifyBundle(t, tr, rec.Body.Bytes(), f.content)
	last := r.Events[len(r.Events)-1]
	if rc.Action != "bundle-export" || rc.Seq != last.Event.Seq || rc.Digest != last.Digest || len(r.Consistency) != 1 {
		t.Errorf("got Custody-Event %s seq %d, bundle ending with %s seq %d and %d consistency proofs; want the export as the last event and 1 proof",
			rc.Action, rc.Seq, last.Event.Action, last.Event.Seq, len(r.Consistency))
	}
}

func TestWhoami(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	for _, m := range ts.env.Members() {
		var got custody.Party
		decode(t, "whoami", ts.do(t, &m, http.MethodGet, "/v1/whoami", ""), http.StatusOK, &got)
		p := m.Principal
		if want := (custody.Party{Agency: p.Agency, Jurisdiction: p.Jurisdiction, Person: p.Person, Role: p.Role}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, serverOptions{})
	f.do(t, &f.env.Stranger, http.MethodGet, "/v1/evidence/"+f.id, "")
	body := f.metrics(t)
	for _, want := range []string{
		`evidencegw_http_requests_total{method="GET",route="/v1/evidence/{id}",status="4xx"} 1`,
		`evidencegw_custody_events_total{action="register"} 2`,
		`evidencegw_denials_total{action="view"} 1`,
	} {
		if !bytes.Contains([]byte(body), []byte(want)) {
			t.Errorf("the metrics lack %s", want)
		}
	}
}

// TestOverTLS runs the gateway behind a real mutual-TLS listener: a member's
// certificate authenticates it, and a download whose stored bytes turn out altered
// after the headers are sent is cut, so that the client never sees a complete answer.
func TestOverTLS(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	srv := httptest.NewUnstartedServer(ts.handler)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := func(m exhibittest.Member) *http.Client {
		c := srv.Client()
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{{
			Certificate: [][]byte{m.Principal.Cert.Raw}, PrivateKey: m.Key, Leaf: m.Principal.Cert}}
		return c
	}
	owner := client(ts.env.Investigator)

	var who custody.Party
	resp, err := owner.Get(srv.URL + "/v1/whoami")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&who)
	resp.Body.Close()
	if who.Person != "investigator-nl" {
		t.Errorf("over TLS the gateway sees %+v, want investigator-nl", who)
	}

	content := make([]byte, 2<<20)
	rand.Read(content)
	res := ts.env.Register(t, ts.env.Investigator, content)
	id, name := res.Evidence.EvidenceID, exhibittest.SealedObject(t, res)
	// Alter the second segment: the first one streams, then the stream breaks.
	if err := ts.env.Store.Corrupt(name, 1<<20+1000); err != nil {
		t.Fatal(err)
	}
	resp, err = owner.Get(srv.URL + "/v1/evidence/" + id + "/content")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err == nil || len(got) != 1<<20-56 || !bytes.Equal(got, content[:len(got)]) {
		t.Errorf("got status %d, %d bytes, read error %v; want 200 headers, the first segment's %d bytes, then a cut stream",
			resp.StatusCode, len(got), err, 1<<20-56)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("the cut stream reads as %v, want io.ErrUnexpectedEOF", err)
	}
	want := []string{"register", "download-start", "integrity-failure", "download-abandon"}
	if acts := ts.env.Actions(t, id); !slices.Equal(acts, want) {
		t.Errorf("got history %q, want %q", acts, want)
	}
}
