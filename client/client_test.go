package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
)

// testContent returns n bytes of deterministic content.
func testContent(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// progressLog records the last report of each phase.
type progressLog map[string][2]int64

func (p progressLog) record(phase string, done, total int64) { p[phase] = [2]int64{done, total} }

func TestUploadSendsContentDigestAndStreams(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	content := testContent(3<<20 + 12345) // several hashing chunks
	path := filepath.Join(t.TempDir(), "image.dd")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	progress := progressLog{}
	r, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Description: "seized laptop", Content: f, Progress: progress.record})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	sum := sha256.Sum256(content)
	if got, want := g.uploadHeader.Get(api.HeaderContentDigest), api.FormatDigest(sum[:]); got != want {
		t.Errorf("Content-Digest %q, want %q", got, want)
	}
	if g.uploadLength != int64(len(content)) {
		t.Errorf("Content-Length %d, want %d (a streamed body with a known length)", g.uploadLength, len(content))
	}
	if got := g.uploadHeader.Get("Content-Type"); got != api.ContentMediaType {
		t.Errorf("Content-Type %q, want %q", got, api.ContentMediaType)
	}
	if !strings.Contains(g.uploadQuery, "case_id=CASE-1") || !strings.Contains(g.uploadQuery, "description=seized+laptop") {
		t.Errorf("query %q lacks case id or description", g.uploadQuery)
	}
	if r.Evidence.EvidenceID != testEvidenceID || r.Evidence.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("result %+v, want evidence %s with the content's digest", r.Evidence, testEvidenceID)
	}
	n := int64(len(content))
	for _, phase := range []string{client.PhaseHashing, client.PhaseUploading} {
		if got := progress[phase]; got != [2]int64{n, n} {
			t.Errorf("last %s progress %v, want [%d %d]", phase, got, n, n)
		}
	}
}

// changingContent returns different bytes after its second rewind, as a file being
// written to between the hashing and the sending would.
type changingContent struct {
	*bytes.Reader
	data    []byte
	rewinds int
}

func (c *changingContent) Seek(off int64, whence int) (int64, error) {
	if off == 0 && whence == io.SeekStart {
		c.rewinds++
		if c.rewinds == 2 {
			c.data[len(c.data)-1] ^= 0xff
			c.Reader.Reset(c.data)
		}
	}
	return c.Reader.Seek(off, whence)
}

func TestUploadContentChanged(t *testing.T) {
	_, c, _ := newFakeGateway(t)
	data := testContent(100000)
	content := &changingContent{Reader: bytes.NewReader(data), data: data}
	_, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: content})
	if !errors.Is(err, client.ErrContentChanged) {
		t.Fatalf("Upload of changing content: error %v, want ErrContentChanged", err)
	}
}

func TestUploadRejectsBadCaseID(t *testing.T) {
	_, c, _ := newFakeGateway(t)
	_, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "../x", Content: bytes.NewReader(nil)})
	if err == nil || !strings.Contains(err.Error(), "case id") {
		t.Fatalf("Upload with case id ../x: error %v, want a case id error", err)
	}
}

func TestProblemErrors(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	_, err := c.Evidence(t.Context(), "ev-bbbbbbbbbbbbbbbbbbbbbbbbbb")
	var pe *api.Problem
	if !errors.As(err, &pe) {
		t.Fatalf("Evidence of unknown id: error %v (%T), want *api.Problem", err, err)
	}
	if pe.Status != 404 || pe.Title != "Not Found" || !strings.Contains(pe.Detail, "no evidence") {
		t.Errorf("problem %+v, want 404 Not Found with the gateway's detail", pe)
	}
	if msg := err.Error(); !strings.Contains(msg, "GET /v1/evidence/ev-bbbbbbbbbbbbbbbbbbbbbbbbbb") || !strings.Contains(msg, "HTTP 404") {
		t.Errorf("message %q does not name the request and status", msg)
	}

	g.brokenProxy = true
	_, err = c.Whoami(t.Context())
	if !errors.As(err, &pe) || pe.Status != 502 || !strings.Contains(pe.Detail, "Bad gateway") {
		t.Errorf("HTML error page: error %v, want *api.Problem 502 with the page text", err)
	}

	if _, err := c.Evidence(t.Context(), "../../etc"); err == nil || errors.As(err, &pe) {
		t.Errorf("malformed evidence id: error %v, want a local refusal", err)
	}
}

func TestUploadDigestMismatchIsProblem(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.rejectDigest = true
	_, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(testContent(5000))})
	var pe *api.Problem
	if !errors.As(err, &pe) || pe.Status != 422 {
		t.Fatalf("Upload refused with 422: error %v, want *api.Problem with status 422", err)
	}
	if !strings.Contains(err.Error(), "does not match its Content-Digest") {
		t.Errorf("message %q lacks the gateway's detail", err)
	}
}

func TestCertificateRefused(t *testing.T) {
	g, _, id := newFakeGateway(t)
	expired := g.identity(t, id.GatewayURL, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	c, err := client.New(expired)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Whoami(t.Context())
	if !errors.Is(err, client.ErrCertificateRefused) {
		t.Fatalf("Whoami with an expired certificate: error %v, want ErrCertificateRefused", err)
	}
	if !strings.Contains(err.Error(), "expired, revoked or not issued by a CA it trusts") {
		t.Errorf("message %q does not explain the refusal", err)
	}

	other, _, _ := newFakeGateway(t) // another CA
	stranger := other.identity(t, id.GatewayURL, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	c, err = client.New(stranger)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.Whoami(t.Context()); !errors.Is(err, client.ErrGatewayUntrusted) {
		t.Errorf("Whoami trusting another CA: error %v, want ErrGatewayUntrusted", err)
	}
}

func TestAcceptGrant(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.store([]byte("evidence"))
	g.grants = []api.GrantView{
		{GrantID: "gr-aaaaaaaaaaaaaaaa", State: api.GrantExpired},
		{GrantID: "gr-bbbbbbbbbbbbbbbb", State: api.GrantActive, LegalBasis: "MLAT 1"},
	}
	r, err := c.AcceptGrant(t.Context(), testEvidenceID, "")
	if err != nil {
		t.Fatalf("AcceptGrant: %v", err)
	}
	if !r.Grant.Accepted || g.accepted == nil || g.accepted.GrantID != "gr-bbbbbbbbbbbbbbbb" {
		t.Errorf("accepted %+v, gateway got %+v; want grant gr-bbbbbbbbbbbbbbbb accepted", r.Grant, g.accepted)
	}
	if n := len(g.acts); n == 0 || g.acts[n-1].Predicate.GrantID != "gr-bbbbbbbbbbbbbbbb" || g.acts[n-1].SHA256() != g.sha256 {
		t.Errorf("the gateway got acts %+v, want the last one accepting gr-bbbbbbbbbbbbbbbb of the registered content", g.acts)
	}
}

func TestSelectGrant(t *testing.T) {
	active := func(id string) api.GrantView {
		return api.GrantView{GrantID: id, State: api.GrantActive}
	}
	accepted := api.GrantView{GrantID: "gr-cccccccccccccccc", State: api.GrantActive, Accepted: true}
	revoked := api.GrantView{GrantID: "gr-dddddddddddddddd", State: api.GrantRevoked}
	tests := []struct {
		name    string
		grants  []api.GrantView
		grantID string
		want    string
		wantErr string
	}{
		{"only one", []api.GrantView{revoked, active("gr-aaaaaaaaaaaaaaaa"), accepted}, "", "gr-aaaaaaaaaaaaaaaa", ""},
		{"several", []api.GrantView{active("gr-aaaaaaaaaaaaaaaa"), active("gr-bbbbbbbbbbbbbbbb")}, "", "", "choose one of"},
		{"several, chosen", []api.GrantView{active("gr-aaaaaaaaaaaaaaaa"), active("gr-bbbbbbbbbbbbbbbb")}, "gr-bbbbbbbbbbbbbbbb", "gr-bbbbbbbbbbbbbbbb", ""},
		{"none", []api.GrantView{revoked, accepted}, "", "", "no active grant"},
		{"chosen accepted", []api.GrantView{accepted}, accepted.GrantID, "", "already accepted"},
		{"chosen revoked", []api.GrantView{revoked}, revoked.GrantID, "", "revoked, not active"},
		{"chosen unknown", []api.GrantView{revoked}, "gr-eeeeeeeeeeeeeeee", "", "has no grant"},
	}
	for _, tt := range tests {
		g, err := client.SelectGrant(&api.EvidenceView{EvidenceID: testEvidenceID, Grants: tt.grants}, tt.grantID)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || g.GrantID != tt.want {
			t.Errorf("%s: got %s, %v; want %s", tt.name, g.GrantID, err, tt.want)
		}
	}
}

func TestUploadRetriesWhenBusy(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.busy = 2
	content := testContent(200000)
	r, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(content)})
	if err != nil {
		t.Fatalf("Upload to a gateway busy twice: %v", err)
	}
	sum := sha256.Sum256(content)
	if r.Evidence.SHA256 != hex.EncodeToString(sum[:]) || g.uploads != 3 {
		t.Errorf("registered %s after %d uploads, want the content's digest after 3", r.Evidence.SHA256, g.uploads)
	}
}

func TestUploadGivesUpWhenAlwaysBusy(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.busy = 100
	_, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(testContent(1000))})
	var p *api.Problem
	if !errors.As(err, &p) || p.Status != 429 {
		t.Fatalf("Upload to a gateway always busy: error %v, want the 429 problem", err)
	}
	if g.uploads != 6 {
		t.Errorf("%d uploads sent, want 6 (one and five retries)", g.uploads)
	}
}

// TestWitnessQuorumRetriedOnlyWithIdempotencyKey: a witness-quorum 503 comes after the
// gateway recorded the change, so only a request safe to repeat is sent again.
func TestWitnessQuorumRetriedOnlyWithIdempotencyKey(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	content := testContent(1000)
	g.unwitnessed = 1
	_, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(content)})
	var p *api.Problem
	if !errors.As(err, &p) || p.Status != 503 || p.Kind() != api.ProblemWitnessQuorum {
		t.Fatalf("Upload refused for want of witnesses: error %v, want the witness-quorum problem", err)
	}
	if g.uploads != 1 {
		t.Errorf("%d uploads sent without an idempotency key, want 1", g.uploads)
	}
	g.unwitnessed, g.uploads = 1, 0
	if _, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(content), IdempotencyKey: "k-2"}); err != nil {
		t.Fatalf("Upload with an idempotency key after a witness-quorum 503: %v", err)
	}
	if g.uploads != 2 {
		t.Errorf("%d uploads sent with an idempotency key, want 2", g.uploads)
	}
}

func TestUploadRetriesLostConnectionOnlyWithIdempotencyKey(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	content := testContent(50000)
	g.dropUploads = 1
	if _, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(content)}); err == nil {
		t.Fatal("Upload without an idempotency key over a lost connection succeeded; it must not be repeated blindly")
	}
	if g.uploads != 1 {
		t.Errorf("%d uploads sent without an idempotency key, want 1", g.uploads)
	}
	g.dropUploads, g.uploads = 1, 0
	r, err := c.Upload(t.Context(), client.UploadRequest{CaseID: "CASE-1", Content: bytes.NewReader(content), IdempotencyKey: "k-1"})
	if err != nil {
		t.Fatalf("Upload with an idempotency key over a lost connection: %v", err)
	}
	if g.uploads != 2 || g.uploadHeader.Get(api.HeaderIdempotencyKey) == "" {
		t.Errorf("%d uploads, Idempotency-Key %q; want 2 with the key", g.uploads, g.uploadHeader.Get(api.HeaderIdempotencyKey))
	}
	sum := sha256.Sum256(content)
	if r.Evidence.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("registered %s, want the content's digest", r.Evidence.SHA256)
	}
}
