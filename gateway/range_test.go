package gateway

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// get sends GET target as m with header lines.
func (ts *testServer) get(t *testing.T, m *exhibittest.Member, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := request(t, m, http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return ts.serve(r)
}

// TestRangeRequests: ranges of content that spans segments answer 206 with their bytes
// and Content-Range, per RFC 9110: first byte, middle of a segment, across segments,
// suffix, last byte, open-ended; a Range of another unit is ignored.
func TestRangeRequests(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	content := make([]byte, 3<<20+777)
	rand.Read(content)
	size := len(content)
	id := ts.env.Register(t, ts.env.Investigator, content).Evidence.EvidenceID
	path := "/v1/evidence/" + id + "/content"
	const seg0 = 1<<20 - 56
	tests := []struct {
		rng      string
		from, to int // the bytes [from, to] of the content
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=1000-1999", 1000, 1999},
		{fmt.Sprintf("bytes=%d-%d", seg0-5, seg0+(1<<20)+5), seg0 - 5, seg0 + (1 << 20) + 5},
		{"bytes=-4096", size - 4096, size - 1},
		{fmt.Sprintf("bytes=%d-", size-1), size - 1, size - 1},
		{fmt.Sprintf("bytes=%d-", seg0), seg0, size - 1},
		{fmt.Sprintf("bytes=%d-%d", size-10, size+10), size - 10, size - 1},
	}
	for _, tt := range tests {
		rec := ts.get(t, &ts.env.Investigator, path, "Range", tt.rng)
		h := rec.Header()
		want := content[tt.from : tt.to+1]
		if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("%s: got %d with %d bytes, want 206 with bytes %d-%d", tt.rng, rec.Code, rec.Body.Len(), tt.from, tt.to)
			continue
		}
		if cr := h.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/%d", tt.from, tt.to, size) || h.Get("Content-Length") != strconv.Itoa(len(want)) {
			t.Errorf("%s: got Content-Range %q, Content-Length %q", tt.rng, cr, h.Get("Content-Length"))
		}
		if sum, err := api.ParseDigest(h.Values(api.HeaderReprDigest)...); err != nil || !bytes.Equal(sum, exhibittest.Digest(content)) {
			t.Errorf("%s: Repr-Digest %q is not the whole content's digest", tt.rng, h.Get(api.HeaderReprDigest))
		}
	}
	if rec := ts.get(t, &ts.env.Investigator, path, "Range", "items=0-5"); rec.Code != http.StatusOK || rec.Body.Len() != size {
		t.Errorf("a Range of another unit: got %d with %d bytes, want 200 and the whole content", rec.Code, rec.Body.Len())
	}
}

// TestRangeNotSatisfiable: a range outside the content, several ranges, or a malformed
// one answer 416 with Content-Range bytes */size, after authorization: a member who may
// not see the evidence gets 404 and learns no size. Nothing is recorded.
func TestRangeNotSatisfiable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	id := ts.env.Register(t, ts.env.Investigator, []byte("0123456789")).Evidence.EvidenceID
	path := "/v1/evidence/" + id + "/content"
	before := ts.env.Actions(t, id)
	for _, rng := range []string{"bytes=10-", "bytes=-0", "bytes=0-1,5-6", "bytes=5-2", "bytes=x-"} {
		rec := ts.get(t, &ts.env.Investigator, path, "Range", rng)
		checkProblem(t, rng, rec, http.StatusRequestedRangeNotSatisfiable, api.ProblemRangeNotSatisfiable)
		if cr := rec.Header().Get("Content-Range"); cr != "bytes */10" {
			t.Errorf("%s: got Content-Range %q, want bytes */10", rng, cr)
		}
		rec = ts.get(t, &ts.env.Stranger, path, "Range", rng)
		checkProblem(t, rng+" by a stranger", rec, http.StatusNotFound, api.ProblemNotFound)
		if cr := rec.Header().Get("Content-Range"); cr != "" {
			t.Errorf("%s by a stranger: got Content-Range %q, want none", rng, cr)
		}
	}
	if after := ts.env.Actions(t, id); !slices.Equal(after, before) {
		t.Errorf("refused ranges recorded %q", after[len(before):])
	}
}

// TestResumeOverHTTP: a client resumes its transfer by sending back its Transfer-Id
// with a range and If-Range; the answer continues that transfer, and the custody
// record shows one transfer, cut and then delivered. An unknown transfer is 409.
func TestResumeOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	content := make([]byte, 2<<20)
	rand.Read(content)
	share := ts.env.ShareRequest(exhibittest.AgencyUS)
	share.MaxDownloads = 1
	id, _ := ts.env.Exchange(t, content, share)
	path := "/v1/evidence/" + id + "/content"
	first := ts.get(t, &ts.env.Partner, path, "Range", "bytes=0-99999")
	transfer, etag := first.Header().Get(api.HeaderTransferID), first.Header().Get("ETag")
	if first.Code != http.StatusPartialContent || transfer == "" || etag == "" {
		t.Fatalf("first range: got %d, Transfer-Id %q, ETag %q", first.Code, transfer, etag)
	}
	rest := ts.get(t, &ts.env.Partner, path, "Range", "bytes=100000-", "If-Range", etag, api.HeaderTransferID, transfer)
	if rest.Code != http.StatusPartialContent || rest.Header().Get(api.HeaderTransferID) != transfer ||
		!bytes.Equal(append(first.Body.Bytes(), rest.Body.Bytes()...), content) {
		t.Fatalf("resumed range: got %d, Transfer-Id %q, %d bytes; want 206 of the same transfer with the rest",
			rest.Code, rest.Header().Get(api.HeaderTransferID), rest.Body.Len())
	}
	rc, err := api.ParseCustodyEvent(rest.Header().Get(api.HeaderCustodyEvent))
	if err != nil || rc.Action != "download-resume" {
		t.Errorf("the resumed range's Custody-Event: %+v, %v; want a download-resume", rc, err)
	}
	want := []string{"register", "share", "accept", "download-start", "download-resume", "download-deliver"}
	if got := ts.env.Actions(t, id); !slices.Equal(got, want) {
		t.Errorf("got history %q, want %q", got, want)
	}
	checkProblem(t, "a second transfer", ts.get(t, &ts.env.Partner, path), http.StatusForbidden, api.ProblemForbidden)

	owner := ts.env.Register(t, ts.env.Investigator, content).Evidence.EvidenceID
	rec := ts.get(t, &ts.env.Investigator, "/v1/evidence/"+owner+"/content", api.HeaderTransferID, "tr-aaaaaaaaaaaaaaaaaaaaaaaaaa")
	checkProblem(t, "an unknown transfer", rec, http.StatusConflict, api.ProblemTransferNotResumable)
	rec = ts.get(t, &ts.env.Investigator, "/v1/evidence/"+owner+"/content", api.HeaderTransferID, "bogus")
	checkProblem(t, "a malformed transfer id", rec, http.StatusBadRequest, api.ProblemInvalidRequest)
}

// TestClientLeavesDownload: a client that closes its connection mid-download abandons
// the transfer, which releases the grant's only download: the next transfer runs and
// is delivered.
func TestClientLeavesDownload(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	content := make([]byte, 16<<20)
	rand.Read(content)
	share := ts.env.ShareRequest(exhibittest.AgencyUS)
	share.MaxDownloads = 1
	id, _ := ts.env.Exchange(t, content, share)
	srv := ts.startTLS(t, false)
	c := srv.dial(t, ts.env.Partner, smallReceiveBuffer)
	if _, err := fmt.Fprintf(c, "GET /v1/evidence/%s/content HTTP/1.1\r\nHost: gateway\r\n\r\n", id); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	c.Close()
	last := waitForAction(t, ts, id, "download-abandon")
	if !strings.Contains(last.Detail, "the client went away") {
		t.Errorf("the abandoned transfer says %q, want the client's leaving as the reason", last.Detail)
	}
	resp, err := srv.client(ts.env.Partner).Get(srv.URL + "/v1/evidence/" + id + "/content")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || !bytes.Equal(got, content) {
		t.Fatalf("the next transfer: got %d, %d bytes, %v; want 200 and the content", resp.StatusCode, len(got), err)
	}
	waitForAction(t, ts, id, "download-deliver")
	if g := ts.env.Show(t, ts.env.Partner, id).Grants[0]; g.Downloads != 1 || g.DownloadsInProgress != 0 {
		t.Errorf("the grant counts %d downloads, %d in progress; want 1 and 0", g.Downloads, g.DownloadsInProgress)
	}
}

// waitForAction waits until the newest event of id is action, and returns it.
func waitForAction(t *testing.T, ts *testServer, id, action string) api.HistoryEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := ts.env.Service.History(t.Context(), ts.env.Investigator.Principal, id)
		if err != nil {
			t.Fatal(err)
		}
		last := h.Events[len(h.Events)-1]
		if last.Action == action {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("the history of %s ends with %s, want %s", id, last.Action, action)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
