package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/api"
)

// The download tests run the built gateway: a stored segment altered on the local disk
// or on MinIO's, the download limit under concurrent transfers, and a transfer its
// client abandons. The crash of a gateway mid-download is in crash_test.go.

// Plaintext bytes of the sealed segments (docs/storage.md section 3.2, 1 MiB segments).
const (
	firstSegmentPlain = 1<<20 - 56
	segmentPlain      = 1<<20 - 16
)

// historyOf returns the custody history of id as who sees it.
func historyOf(t *testing.T, g *gateway, who, id string) api.History {
	t.Helper()
	var h api.History
	if err := json.Unmarshal([]byte(g.must(who, "history", id, "--json")), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func countActions(h api.History) map[string]int {
	n := map[string]int{}
	for _, ev := range h.Events {
		n[ev.Action]++
	}
	return n
}

// checkTamperedDownload checks what a client gets of content whose segment seg (from
// 0) was altered in the store: over HTTP, a 200 whose stream carries exactly the bytes
// of the segments before it and then breaks; through the CLI, exit status 3 and nothing
// left on disk; in custody, the integrity failure and the abandoned transfer, no
// delivery.
func checkTamperedDownload(t *testing.T, g *gateway, id string, content []byte, seg int) {
	t.Helper()
	hc, base := g.httpClient("investigator-nl")
	resp, err := hc.Get(base + "/v1/evidence/" + id + "/content")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	good := firstSegmentPlain + (seg-1)*segmentPlain
	if resp.StatusCode != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != good || !bytes.Equal(got, content[:good]) {
		t.Errorf("over HTTP: got status %d, %d bytes, read error %v; want 200, the %d bytes before segment %d, then a cut stream",
			resp.StatusCode, len(got), err, good, seg)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	g.fails("investigator-nl", exitVerificationFailed, "failed its integrity check", "download", id, "-o", out, "--retries", "2")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the failed download left %v, want nothing", entries)
	}
	n := countActions(historyOf(t, g, "investigator-nl", id))
	// The HTTP request and the CLI's first request start a transfer each, stream to the
	// altered segment and are abandoned; the CLI's resumed request fails before it
	// starts.
	if n["download-start"] != 2 || n["download-abandon"] != 2 || n["integrity-failure"] != 3 || n["download-deliver"] != 0 {
		t.Errorf("custody records %v; want 2 starts, 2 abandons, 3 integrity failures and no delivery", n)
	}
}

// TestDownloadTamperMiddleSegment flips a byte of a middle segment of the sealed object
// on the embedded store's disk.
func TestDownloadTamperMiddleSegment(t *testing.T) {
	g := startGateway(t, "")
	file, content := writeRandomFile(t, 4<<20)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-SEG", "--json", file), "evidence_id")
	obj := filepath.Join(g.data, "store", "objects", "content", "NL", id, "sealed")
	flipByte(t, obj, 2<<20+1000) // segment 2
	checkTamperedDownload(t, g, id, content, 2)
}

// flipByte flips one byte of a file.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	one := make([]byte, 1)
	if _, err := f.ReadAt(one, off); err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0x01
	if _, err := f.WriteAt(one, off); err != nil {
		t.Fatal(err)
	}
}

// minioDataDir is the directory the stack's MinIO keeps its objects in.
func minioDataDir(t *testing.T) string {
	t.Helper()
	stack := os.Getenv("EVIDENCEGW_STACK_DIR")
	if stack == "" {
		stack = "/var/lib/evidencegw-stack"
	}
	dir := filepath.Join(stack, "minio", "data")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MinIO's data directory: %v (deploy/local/up keeps it under $EVIDENCEGW_STACK_DIR)", err)
		}
		t.Skipf("MinIO's data directory is not on this machine: %v", err)
	}
	return dir
}

// partFile returns the one data file MinIO keeps for the single version of a
// single-part object.
func partFile(t *testing.T, data, bucket, key string) string {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(data, bucket, filepath.FromSlash(key), "*", "part.1"))
	if len(parts) != 1 {
		t.Fatalf("MinIO keeps %d data files for %s/%s, want one", len(parts), bucket, key)
	}
	return parts[0]
}

// TestRealStackTamperMiddleSegment alters a middle segment of a sealed object in MinIO,
// as someone with MinIO's disk could. A version cannot be rewritten through the S3 API
// (Object Lock, and a version's bytes never change), and MinIO checks each block of a
// data file against a hash it keeps beside it, so flipping a byte on its disk would
// only make MinIO fail the read. The attacker therefore has MinIO itself write the
// altered ciphertext as another object, and puts that object's data file in place of
// the recorded version's: MinIO then serves the altered bytes as the recorded version.
func TestRealStackTamperMiddleSegment(t *testing.T) {
	g, cfg := startRealStack(t)
	data := minioDataDir(t)
	file, content := writeRandomFile(t, 4<<20)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-SEG", "--json", file), "evidence_id")
	mc := minioClient(t, cfg)
	bucket, key := cfg.Backends.Storage.Buckets["NL"], "content/NL/"+id+"/sealed"

	o, err := mc.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(o)
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	ct[2<<20+1000] ^= 0x01 // segment 2
	forged := "tamper/" + id
	if _, err := mc.PutObject(t.Context(), bucket, forged, bytes.NewReader(ct), int64(len(ct)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mc.RemoveObject(t.Context(), bucket, forged, minio.RemoveObjectOptions{ForceDelete: true, GovernanceBypass: true})
	})
	orig, alt := partFile(t, data, bucket, key), partFile(t, data, bucket, forged)
	oi, _ := os.Stat(orig)
	ai, _ := os.Stat(alt)
	if oi.Size() != ai.Size() {
		t.Fatalf("the forged data file has %d bytes, the original %d: not the same layout", ai.Size(), oi.Size())
	}
	b, err := os.ReadFile(alt)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orig, b, oi.Mode()); err != nil {
		t.Fatal(err)
	}
	checkTamperedDownload(t, g, id, content, 2)
}

// downloadLimitParallel shares 1 MiB under a grant of one download and has the partner
// start 20 downloads at once: exactly one is delivered, the others are refused by the
// limit, which counts the transfer under way.
func downloadLimitParallel(t *testing.T, g *gateway) {
	file, content := writeRandomFile(t, 1<<20)
	id := strings.TrimSpace(g.must("investigator-nl", "upload", "-q", "--case", "CASE-PAR", file))
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/20", "--expires", "30d", "--max-downloads", "1")
	g.must("partner-us", "accept", id)
	hc, base := g.httpClient("partner-us")
	const tries = 20
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		delivered, limit int
		other            []string
	)
	start := make(chan struct{})
	for range tries {
		wg.Go(func() {
			<-start
			resp, err := hc.Get(base + "/v1/evidence/" + id + "/content")
			if err != nil {
				mu.Lock()
				other = append(other, err.Error())
				mu.Unlock()
				return
			}
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case resp.StatusCode == http.StatusOK && rerr == nil && bytes.Equal(body, content):
				delivered++
			case resp.StatusCode == http.StatusForbidden && bytes.Contains(body, []byte("forbid-download-limit")):
				limit++
			default:
				other = append(other, fmt.Sprintf("%d %v %.200s", resp.StatusCode, rerr, body))
			}
		})
	}
	close(start)
	wg.Wait()
	if delivered != 1 || limit != tries-1 || len(other) != 0 {
		t.Errorf("of %d concurrent downloads under a grant of one: %d delivered, %d refused by the limit, others %q; want 1 and %d",
			tries, delivered, limit, other, tries-1)
	}
	// The delivery is recorded once the last byte is out, just after the client has it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := countActions(historyOf(t, g, "investigator-nl", id))
		if n["download-deliver"] == 1 {
			if n["download-start"] != 1 || n["download-abandon"] != 0 {
				t.Errorf("custody records %v, want one transfer started and delivered", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("custody records %v, want one delivery", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.fails("partner-us", exitFailed, "forbid-download-limit", "download", id, "-o", filepath.Join(t.TempDir(), "again.bin"))
}

func TestDownloadLimitParallel(t *testing.T) { downloadLimitParallel(t, startGateway(t, "")) }

func TestRealStackDownloadLimitParallel(t *testing.T) {
	g, _ := startRealStack(t)
	downloadLimitParallel(t, g)
}

// TestAbandonedTransferReleases: a partner that cuts its only download midway has it
// recorded as abandoned, and the grant's download is free again: the next download is
// delivered and is the one counted.
func TestAbandonedTransferReleases(t *testing.T) {
	g := startGateway(t, "")
	file, content := writeRandomFile(t, 16<<20)
	id := strings.TrimSpace(g.must("investigator-nl", "upload", "-q", "--case", "CASE-AB", file))
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/21", "--expires", "30d", "--max-downloads", "1")
	g.must("partner-us", "accept", id)
	hc, base := g.httpClient("partner-us")
	resp, err := hc.Get(base + "/v1/evidence/" + id + "/content")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // unread: the connection is closed
	deadline := time.Now().Add(10 * time.Second)
	for countActions(historyOf(t, g, "partner-us", id))["download-abandon"] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the cut transfer was not recorded as abandoned")
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "out.bin")
	g.must("partner-us", "download", id, "-o", out)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, content) {
		t.Errorf("the download after the abandoned one holds %d bytes, want the content", len(got))
	}
	waitGrant(t, g, id, 1, 0)
	if hist := historyOf(t, g, "partner-us", id); !strings.Contains(hist.Events[4].Detail, "the client went away") {
		t.Errorf("the abandon event says %q, want the client's leaving", hist.Events[4].Detail)
	}
}

// waitGrant waits until the partner's grant of id counts downloads delivered and
// inProgress transfers under way. A delivery is recorded once the last byte is out:
// the client may have finished, and asked, a moment before.
func waitGrant(t *testing.T, g *gateway, id string, downloads, inProgress int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var v api.EvidenceView
		if err := json.Unmarshal([]byte(g.must("partner-us", "show", id, "--json")), &v); err != nil {
			t.Fatal(err)
		}
		gr := v.Grants[0]
		if gr.Downloads == downloads && gr.DownloadsInProgress == inProgress {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the grant counts %d downloads and %d in progress, want %d and %d", gr.Downloads, gr.DownloadsInProgress, downloads, inProgress)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
