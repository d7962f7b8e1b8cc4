package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
)

// fast retries quickly, for the tests.
var fast = client.DownloadOptions{RetryDelay: time.Millisecond}

func TestDownload(t *testing.T) {
	content := testContent(2<<20 + 77)
	flipped := func(b []byte) []byte {
		c := bytes.Clone(b)
		c[len(c)/2] ^= 1
		return c
	}
	tests := []struct {
		name          string
		setup         func(g *fakeGateway)
		existing      bool
		wantIntegrity bool
		wantErr       bool
		wantRequests  int
	}{
		{name: "verified", wantRequests: 1},
		{name: "altered bytes", setup: func(g *fakeGateway) { g.serveContent = flipped }, wantIntegrity: true},
		{name: "announced digest differs from registered", setup: func(g *fakeGateway) {
			g.serveContent = flipped
			sum := sha256.Sum256(flipped(content))
			g.announceDigest = hex.EncodeToString(sum[:])
		}, wantIntegrity: true},
		{name: "cut twice, resumed", setup: func(g *fakeGateway) { g.cuts = 2 }, wantRequests: 3},
		{name: "target exists", existing: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, c, _ := newFakeGateway(t)
			g.store(content)
			if tt.setup != nil {
				tt.setup(g)
			}
			dir := t.TempDir()
			target := filepath.Join(dir, "evidence.bin")
			if tt.existing {
				if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			progress := progressLog{}
			r, err := c.Download(t.Context(), testEvidenceID, target, fast, progress.record)
			var ie *client.IntegrityError
			if got := errors.As(err, &ie); got != tt.wantIntegrity {
				t.Fatalf("Download: error %v, integrity error %v, want %v", err, got, tt.wantIntegrity)
			}
			if (err != nil) != (tt.wantErr || tt.wantIntegrity) {
				t.Fatalf("Download: error %v, want error %v", err, tt.wantErr || tt.wantIntegrity)
			}
			entries, _ := os.ReadDir(dir)
			switch {
			case tt.existing:
				if got, _ := os.ReadFile(target); string(got) != "keep me" || len(entries) != 1 {
					t.Errorf("existing target changed to %q or temporary files left: %v", got, entries)
				}
			case err != nil:
				if len(entries) != 0 {
					t.Errorf("failed download left %v in the target directory, want nothing", entries)
				}
			default:
				got, _ := os.ReadFile(target)
				if !bytes.Equal(got, content) || len(entries) != 1 {
					t.Errorf("target holds %d bytes (want %d), directory %v", len(got), len(content), entries)
				}
				if r.Custody == nil || r.Custody.Action != "download-start" || r.Requests != tt.wantRequests || r.TransferID == "" {
					t.Errorf("custody receipt %+v after %d requests of transfer %q, want a download-start after %d", r.Custody, r.Requests, r.TransferID, tt.wantRequests)
				}
				n := int64(len(content))
				if progress[client.PhaseDownloading] != [2]int64{n, n} {
					t.Errorf("last progress %v, want [%d %d]", progress[client.PhaseDownloading], n, n)
				}
			}
		})
	}
}

// TestDownloadResumesInOneTransfer: after a cut, every further request asks for the
// rest of the content in the same transfer, under the entity tag it was given.
func TestDownloadResumesInOneTransfer(t *testing.T) {
	content := testContent(3 << 20)
	g, c, _ := newFakeGateway(t)
	g.store(content)
	g.cuts = 2
	target := filepath.Join(t.TempDir(), "evidence.bin")
	if _, err := c.Download(t.Context(), testEvidenceID, target, fast, nil); err != nil {
		t.Fatal(err)
	}
	if len(g.contentReqs) != 3 {
		t.Fatalf("%d content requests, want 3", len(g.contentReqs))
	}
	first := g.contentReqs[0]
	if first.Get("Range") != "" || first.Get(api.HeaderTransferID) != "" {
		t.Errorf("the first request sends Range %q, Transfer-Id %q; want neither", first.Get("Range"), first.Get(api.HeaderTransferID))
	}
	sum := sha256.Sum256(content)
	from := int64(len(content) / 2)
	for i, h := range g.contentReqs[1:] {
		want := api.ByteRange{First: from, Last: -1}.String()
		if h.Get("Range") != want || h.Get(api.HeaderTransferID) != fakeTransfer(1) || h.Get("If-Range") != api.ContentETag(sum[:]) {
			t.Errorf("request %d sends Range %q, Transfer-Id %q, If-Range %q; want %q in the first transfer under its tag",
				i+2, h.Get("Range"), h.Get(api.HeaderTransferID), h.Get("If-Range"), want)
		}
		from += (int64(len(content)) - from) / 2
	}
}

// leavePartial runs a download that breaks off for good and returns the error.
func leavePartial(t *testing.T, g *fakeGateway, c *client.Client, target string) error {
	t.Helper()
	g.cuts = 1
	g.mu.Lock()
	g.cutAtStart = false
	g.mu.Unlock()
	opts := fast
	opts.Retries = -1
	_, err := c.Download(t.Context(), testEvidenceID, target, opts, nil)
	return err
}

// TestDownloadInterruptedThenResumed: a download that cannot finish keeps its bytes and
// says so; run again, it hashes them first, then asks only for the rest in the same
// transfer.
func TestDownloadInterruptedThenResumed(t *testing.T) {
	content := testContent(2<<20 + 5)
	g, c, _ := newFakeGateway(t)
	g.store(content)
	dir := t.TempDir()
	target := filepath.Join(dir, "evidence.bin")
	err := leavePartial(t, g, c, target)
	var ie *client.InterruptedError
	if !errors.As(err, &ie) || ie.Received != int64(len(content)/2) || ie.Partial != filepath.Join(dir, ".evidence.bin.part") {
		t.Fatalf("an interrupted download: got %v, want an *InterruptedError after %d bytes kept in .evidence.bin.part", err, len(content)/2)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("an interrupted download created the target")
	}
	progress := progressLog{}
	r, err := c.Download(t.Context(), testEvidenceID, target, fast, progress.record)
	if err != nil {
		t.Fatalf("resuming: %v", err)
	}
	half := int64(len(content) / 2)
	if got, _ := os.ReadFile(target); !bytes.Equal(got, content) || r.Resumed != half || r.Requests != 1 {
		t.Errorf("resumed download: %d bytes, resumed from %d with %d requests; want the content, from %d with 1", len(got), r.Resumed, r.Requests, half)
	}
	if progress[client.PhaseResuming] != [2]int64{half, half} {
		t.Errorf("resuming progress %v, want [%d %d]", progress[client.PhaseResuming], half, half)
	}
	last := g.contentReqs[len(g.contentReqs)-1]
	if wantRange := (api.ByteRange{First: half, Last: -1}).String(); last.Get("Range") != wantRange || last.Get(api.HeaderTransferID) != fakeTransfer(1) {
		t.Errorf("the resumed request sends Range %q, Transfer-Id %q; want the rest in the first transfer", last.Get("Range"), last.Get(api.HeaderTransferID))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the finished download left %v, want only the target", entries)
	}
}

// TestDownloadGivesUp: a transfer that breaks off without progress is resumed
// Retries times, then the download stops, keeping what it has.
func TestDownloadGivesUp(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.store(testContent(100000))
	g.cutAtStart = true
	opts := fast
	opts.Retries = 3
	_, err := c.Download(t.Context(), testEvidenceID, filepath.Join(t.TempDir(), "x"), opts, nil)
	var ie *client.InterruptedError
	if !errors.As(err, &ie) || len(g.contentReqs) != 4 {
		t.Errorf("got %v after %d requests, want an *InterruptedError after 4", err, len(g.contentReqs))
	}
}

// TestDownloadResumeAlteredPartial: bytes on disk that are not the content's are caught
// by the whole digest at the end, and nothing is kept.
func TestDownloadResumeAlteredPartial(t *testing.T) {
	content := testContent(1 << 20)
	g, c, _ := newFakeGateway(t)
	g.store(content)
	dir := t.TempDir()
	target := filepath.Join(dir, "evidence.bin")
	leavePartial(t, g, c, target)
	part := filepath.Join(dir, ".evidence.bin.part")
	b, _ := os.ReadFile(part)
	b[10] ^= 1
	os.WriteFile(part, b, 0o600)
	_, err := c.Download(t.Context(), testEvidenceID, target, fast, nil)
	var ie *client.IntegrityError
	if !errors.As(err, &ie) || ie.Received == "" {
		t.Fatalf("resuming over altered bytes: got %v, want an *IntegrityError with the digest received", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the failed download left %v, want nothing", entries)
	}
}

// TestDownloadRestartAndStaleState: --restart, a state file of other evidence, and a
// transfer the gateway no longer continues each lead to a correct download.
func TestDownloadRestartAndStaleState(t *testing.T) {
	content := testContent(1<<20 + 1)
	for _, tt := range []struct {
		name    string
		prepare func(g *fakeGateway, state string)
		opts    client.DownloadOptions
		wantReq func(h []string) bool
	}{
		{"restart", nil, client.DownloadOptions{Restart: true}, func(r []string) bool { return r[0] == "" }},
		{"state of other evidence", func(g *fakeGateway, state string) {
			b, _ := os.ReadFile(state)
			var st map[string]any
			json.Unmarshal(b, &st)
			st["evidence_id"] = "ev-bbbbbbbbbbbbbbbbbbbbbbbbbb"
			b, _ = json.Marshal(st)
			os.WriteFile(state, b, 0o600)
		}, client.DownloadOptions{}, func(r []string) bool { return r[0] == "" }},
		{"transfer not resumable", func(g *fakeGateway, _ string) { g.staleTransfer = true }, client.DownloadOptions{},
			func(r []string) bool { return len(r) == 2 && r[0] != "" && r[1] != "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, c, _ := newFakeGateway(t)
			g.store(content)
			dir := t.TempDir()
			target := filepath.Join(dir, "evidence.bin")
			leavePartial(t, g, c, target)
			if tt.prepare != nil {
				tt.prepare(g, filepath.Join(dir, ".evidence.bin.part.json"))
			}
			g.contentReqs = nil
			opts := tt.opts
			opts.RetryDelay = time.Millisecond
			if _, err := c.Download(t.Context(), testEvidenceID, target, opts, nil); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(target); !bytes.Equal(got, content) {
				t.Errorf("downloaded %d bytes, want the content", len(got))
			}
			var ranges []string
			for _, h := range g.contentReqs {
				ranges = append(ranges, h.Get("Range"))
			}
			if !tt.wantReq(ranges) {
				t.Errorf("requests with ranges %q", ranges)
			}
		})
	}
}

// TestDownloadRefusesAnnouncedDigest: a gateway that announces, in Repr-Digest, another
// digest than the one the evidence was registered with is refused before any byte is
// written, even when the bytes it then sends are the registered ones. Only the check of
// the announced digest catches this: the bytes themselves would pass.
func TestDownloadRefusesAnnouncedDigest(t *testing.T) {
	content := testContent(1<<20 + 3)
	g, c, _ := newFakeGateway(t)
	g.store(content)
	other := sha256.Sum256([]byte("other content"))
	g.announceDigest = hex.EncodeToString(other[:])
	registered := sha256.Sum256(content)

	dir := t.TempDir()
	progress := progressLog{}
	_, err := c.Download(t.Context(), testEvidenceID, filepath.Join(dir, "evidence.bin"), fast, progress.record)
	var ie *client.IntegrityError
	if !errors.As(err, &ie) {
		t.Fatalf("Download: got %v, want an *IntegrityError", err)
	}
	want := client.IntegrityError{EvidenceID: testEvidenceID, Registered: hex.EncodeToString(registered[:]), Announced: g.announceDigest}
	if *ie != want {
		t.Errorf("got %+v, want %+v (refused before receiving: no Received digest)", *ie, want)
	}
	if wantMsg := "INTEGRITY FAILURE: evidence " + testEvidenceID + " was registered with SHA-256 " + want.Registered +
		" but the gateway announces " + want.Announced + "; nothing was written"; err.Error() != wantMsg {
		t.Errorf("error: got %q, want %q", err, wantMsg)
	}
	if _, ok := progress[client.PhaseDownloading]; ok {
		t.Errorf("progress reported %v, want no download started", progress[client.PhaseDownloading])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the refused download left %v in the target directory, want nothing", entries)
	}
}

// TestDownloadRefusesMisplacedRange: a 206 that does not start where the partial file
// ends is refused, and the partial file discarded: its bytes would land in the wrong
// place.
func TestDownloadRefusesMisplacedRange(t *testing.T) {
	content := testContent(1 << 20)
	g, c, _ := newFakeGateway(t)
	g.store(content)
	dir := t.TempDir()
	target := filepath.Join(dir, "evidence.bin")
	leavePartial(t, g, c, target)
	g.shiftRange = 100
	_, err := c.Download(t.Context(), testEvidenceID, target, fast, nil)
	if err == nil || !strings.Contains(err.Error(), "the gateway sent from") {
		t.Fatalf("a 206 of another range: got %v, want a refusal", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the refused download left %v, want nothing", entries)
	}
}
