package gateway

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestRateLimit: a member over its token bucket gets 429 rate-limited with
// Retry-After, counted in a metric and logged once per minute however many requests
// it sends; other members are not affected, and the bucket refills with time.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	clock := exhibittest.NewClock(time.Now())
	ts := newTestServer(t, serverOptions{memberRate: 1, memberBurst: 3, now: clock.Now})
	inv, partner := &ts.env.Investigator, &ts.env.Partner
	for i := range 3 {
		if rec := ts.do(t, inv, http.MethodGet, "/v1/whoami", ""); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: got %d, want 200", i+1, rec.Code)
		}
	}
	for i := range 5 {
		rec := ts.do(t, inv, http.MethodGet, "/v1/whoami", "")
		p := checkProblem(t, "over the burst", rec, http.StatusTooManyRequests, api.ProblemRateLimited)
		if got := rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("refusal %d: got Retry-After %q, want 1 (one token a second)", i+1, got)
		}
		if !strings.Contains(p.Detail, "1 requests per second") {
			t.Errorf("got detail %q, want it to name the rate", p.Detail)
		}
	}
	if rec := ts.do(t, partner, http.MethodGet, "/v1/whoami", ""); rec.Code != http.StatusOK {
		t.Errorf("another member: got %d, want 200", rec.Code)
	}
	if got := metricValue(ts.metrics(t), `evidencegw_http_limited_total{limit="requests"}`); got != "5" {
		t.Errorf("the metric counts %q refusals, want 5", got)
	}
	if n := strings.Count(ts.logs.String(), "per-member limit"); n != 1 {
		t.Errorf("5 refusals in a second are logged %d times, want once:\n%s", n, ts.logs)
	}

	clock.Advance(time.Second)
	if rec := ts.do(t, inv, http.MethodGet, "/v1/whoami", ""); rec.Code != http.StatusOK {
		t.Errorf("a second later: got %d, want 200", rec.Code)
	}
	clock.Advance(refusalLogInterval)
	for range 4 {
		ts.do(t, inv, http.MethodGet, "/v1/whoami", "")
	}
	logs := ts.logs.String()
	if n := strings.Count(logs, "per-member limit"); n != 2 {
		t.Errorf("after a minute, the refusals are logged %d times, want a second line", n)
	}
	if !strings.Contains(logs, `"refused_since_last_line":4`) || !strings.Contains(logs, `"person":"investigator-nl"`) {
		t.Errorf("the second line does not count the 4 refusals it stood for, or name the member:\n%s", logs)
	}
}

// blockingBody is an upload body that sends its content once released.
type blockingBody struct {
	release chan struct{}
	r       io.Reader
}

func (b *blockingBody) Read(p []byte) (int, error) {
	<-b.release
	return b.r.Read(p)
}

// TestUploadLimit: a member with as many uploads in flight as allowed gets 429
// too-many-uploads with Retry-After for one more, before its body is read; another
// member is not affected, and the slot frees when the upload ends.
func TestUploadLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{memberUploads: 1})
	inv := &ts.env.Investigator
	release, done := startBlockedUpload(t, ts, inv)

	second := request(t, inv, http.MethodPost, uploadPath, neverRead{t})
	second.ContentLength = 100
	second.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(nil)))
	rec := ts.serve(second)
	checkProblem(t, "a second upload in flight", rec, http.StatusTooManyRequests, api.ProblemTooManyUploads)
	if got, want := rec.Header().Get("Retry-After"), retryAfterSeconds(uploadRetryAfter); got != want {
		t.Errorf("got Retry-After %q, want %s", got, want)
	}
	if got := metricValue(ts.metrics(t), `evidencegw_http_limited_total{limit="uploads"}`); got != "1" {
		t.Errorf("the metric counts %q refused uploads, want 1", got)
	}
	if rec := ts.upload(t, &ts.env.Partner, []byte("another member's upload")); rec.Code != http.StatusCreated {
		t.Errorf("another member's upload: got %d %s, want 201", rec.Code, rec.Body)
	}

	close(release)
	if rec := <-done; rec.Code != http.StatusCreated {
		t.Fatalf("the first upload: got %d %s, want 201", rec.Code, rec.Body)
	}
	if rec := ts.upload(t, inv, []byte("after the first")); rec.Code != http.StatusCreated {
		t.Errorf("an upload after the first ended: got %d %s, want 201", rec.Code, rec.Body)
	}
	if got := metricValue(ts.metrics(t), "evidencegw_http_uploads_in_flight"); got != "0" {
		t.Errorf("uploads in flight: got %q, want 0", got)
	}
}

// startBlockedUpload starts an upload by m whose body waits for release, and waits
// until it is in flight; done receives its answer.
func startBlockedUpload(t *testing.T, ts *testServer, m *exhibittest.Member) (release chan struct{}, done chan *httptest.ResponseRecorder) {
	t.Helper()
	content := []byte("an upload in flight by " + m.Principal.Person)
	body := &blockingBody{release: make(chan struct{}), r: bytes.NewReader(content)}
	r := request(t, m, http.MethodPost, uploadPath, body)
	r.ContentLength = int64(len(content))
	r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(content)))
	done = make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- ts.serve(r) }()
	ts.waitMetric(t, "evidencegw_http_uploads_in_flight", "1", 5*time.Second)
	return body.release, done
}

// TestGatewayUploadSlots: with the gateway's uploads in flight at their cap, one more
// upload (of any member) waits for a slot, without its body being read, and goes on
// when one frees; if none frees within the wait bound it gets 503 with Retry-After.
func TestGatewayUploadSlots(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{maxUploads: 1})
	release, done := startBlockedUpload(t, ts, &ts.env.Investigator)

	waited := make(chan *httptest.ResponseRecorder, 1)
	go func() { waited <- ts.upload(t, &ts.env.Partner, []byte("waits for a slot")) }()
	ts.waitMetric(t, "evidencegw_http_uploads_waiting", "1", 5*time.Second)
	close(release)
	if rec := <-done; rec.Code != http.StatusCreated {
		t.Fatalf("the first upload: got %d %s, want 201", rec.Code, rec.Body)
	}
	if rec := <-waited; rec.Code != http.StatusCreated {
		t.Fatalf("the upload that waited: got %d %s, want 201 once the first ended", rec.Code, rec.Body)
	}

	ts.srv.slots.wait = 100 * time.Millisecond
	release, done = startBlockedUpload(t, ts, &ts.env.Investigator)
	r := request(t, &ts.env.Partner, http.MethodPost, uploadPath, neverRead{t})
	r.ContentLength = 100
	r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(nil)))
	rec := ts.serve(r)
	p := checkProblem(t, "no slot within the wait", rec, http.StatusServiceUnavailable, api.ProblemUnavailable)
	if !strings.Contains(p.Detail, "1 uploads in flight") {
		t.Errorf("got detail %q, want it to name the gateway's cap", p.Detail)
	}
	if got, want := rec.Header().Get("Retry-After"), retryAfterSeconds(uploadRetryAfter); got != want {
		t.Errorf("got Retry-After %q, want %s", got, want)
	}
	if got := metricValue(ts.metrics(t), `evidencegw_http_limited_total{limit="gateway-uploads"}`); got != "1" {
		t.Errorf("the metric counts %q refusals of a full gateway, want 1", got)
	}
	close(release)
	<-done
}

// TestIdleMembersEvicted: the limiters of members idle for memberIdleEviction are
// dropped, unless an upload of theirs is in flight.
func TestIdleMembersEvicted(t *testing.T) {
	t.Parallel()
	clock := exhibittest.NewClock(time.Now())
	ts := newTestServer(t, serverOptions{memberRate: 10, memberUploads: 2, now: clock.Now})
	l, env := ts.srv.limits, ts.env
	ctx := t.Context()
	for _, m := range []exhibittest.Member{env.Investigator, env.Partner, env.Court} {
		if err := l.allowRequest(ctx, m.Principal, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	done, err := l.startUpload(ctx, env.Investigator.Principal, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := l.size(); got != 3 {
		t.Fatalf("got %d limiters, want 3", got)
	}
	clock.Advance(memberIdleEviction)
	if err := l.allowRequest(ctx, env.Stranger.Principal, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := l.size(); got != 2 {
		t.Errorf("after %s: got %d limiters, want 2 (the uploading member and the new one)", memberIdleEviction, got)
	}
	done()
	clock.Advance(memberIdleEviction)
	if err := l.allowRequest(ctx, env.Stranger.Principal, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := l.size(); got != 1 {
		t.Errorf("once the upload ended: got %d limiters, want 1", got)
	}
}
