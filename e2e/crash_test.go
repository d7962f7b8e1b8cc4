package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/pki"
)

// The crash-safety tests kill the gateway with SIGKILL, from inside, at each named step
// of an upload and of a custody change (a binary built with -tags crashtest reads the
// step from $EVIDENCEGW_CRASH_AT), restart it, and check what a power cut must not do:
// lose an acknowledged item, leave an orphan nobody accounts for, or turn a retried
// upload into a second exhibit. docs/testing.md has the figures.

// Steps at which the gateway is killed (exhibit.Step*, ledger.Step*, gateway's
// "answering").
var (
	uploadSteps = []string{"sealed", "datakey-stored", "event-stored", "logged", "indexed", "answering"}
	changeSteps = []string{"event-stored", "logged", "indexed", "answering"}
)

var (
	crashBuildOnce sync.Once
	crashBin       string
	crashBuildErr  error
)

// crashBinary builds cmd/evidencegw with -tags crashtest once per test run.
func crashBinary(t testing.TB) string {
	t.Helper()
	crashBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "evidencegw-crash-bin")
		if err != nil {
			crashBuildErr = err
			return
		}
		crashBin = filepath.Join(dir, "evidencegw")
		out, err := exec.Command("go", "build", "-tags", "crashtest", "-o", crashBin, "../cmd/evidencegw").CombinedOutput()
		if err != nil {
			crashBuildErr = fmt.Errorf("go build -tags crashtest: %v\n%s", err, out)
		}
	})
	if crashBuildErr != nil {
		t.Fatal(crashBuildErr)
	}
	return crashBin
}

// crashRounds is how many times each step is crashed at: $EVIDENCEGW_CRASH_ROUNDS, or 1.
func crashRounds(t *testing.T) int {
	v := os.Getenv("EVIDENCEGW_CRASH_ROUNDS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("EVIDENCEGW_CRASH_ROUNDS=%q: want a positive number", v)
	}
	return n
}

// crashGateway is a gateway restarted, on one data directory, with or without a crash
// step.
type crashGateway struct{ *gateway }

// restart starts the gateway again, to be killed at step ("" for none).
func (g *crashGateway) restart(step string) {
	g.t.Helper()
	g.bin = crashBinary(g.t)
	g.env = nil
	if step != "" {
		g.env = []string{"EVIDENCEGW_CRASH_AT=" + step}
	}
	g.start()
}

// awaitCrash waits for the gateway to kill itself.
func (g *crashGateway) awaitCrash(step string) {
	g.t.Helper()
	select {
	case <-g.waitErr:
		g.cmd = nil
	case <-time.After(30 * time.Second):
		g.t.Fatalf("the gateway did not crash at %s\n%s", step, g.logs())
	}
	if !strings.Contains(g.logs(), "crash test: killed at "+step) {
		g.t.Fatalf("the gateway stopped, but not at %s\n%s", step, g.logs())
	}
}

func (g *crashGateway) client(who string) *client.Client {
	g.t.Helper()
	id, err := pki.LoadIdentity(g.identity(who))
	if err != nil {
		g.t.Fatal(err)
	}
	c, err := client.New(id)
	if err != nil {
		g.t.Fatal(err)
	}
	return c
}

// crashTally counts what the crashes did.
type crashTally struct {
	crashes, acknowledged, lost, duplicates, orphans int
}

func TestCrashSafety(t *testing.T) { crashSafety(t, "") }

func TestRealStackCrashSafety(t *testing.T) {
	base, _ := loadStackConfig(t)
	crashSafety(t, base)
}

// crashSafety runs the crash rounds on the gateway configured by base (YAML without
// listen; "" for the embedded default).
func crashSafety(t *testing.T, base string) {
	rounds := crashRounds(t)
	// An orphan grace of a millisecond: the restart after a crash quarantines what it
	// left (one gateway: no upload of another can be in flight).
	g := &crashGateway{gateway: startGatewayWith(t, "", base+"uploads:\n  orphan_grace: 1ms\n")}
	g.stop()
	ctx := t.Context()
	var tally crashTally
	acked := map[string][]byte{} // evidence id -> content
	grants := map[string]int{}   // evidence id -> shares acknowledged
	keys := map[string]string{}  // idempotency key -> the evidence id acknowledged

	for round := range rounds {
		for _, step := range uploadSteps {
			content := make([]byte, 64<<10+round)
			rand.Read(content)
			key := "crash-" + randomHex(8)
			g.restart(step)
			_, err := g.client("investigator-nl").Upload(ctx, client.UploadRequest{CaseID: "CASE-CRASH",
				Content: bytes.NewReader(content), IdempotencyKey: key})
			if err == nil {
				t.Fatalf("round %d: the upload was answered although the gateway was to die at %s", round, step)
			}
			g.awaitCrash(step)
			tally.crashes++
			g.restart("")
			c := g.client("investigator-nl")
			res, err := c.Upload(ctx, client.UploadRequest{CaseID: "CASE-CRASH", Content: bytes.NewReader(content), IdempotencyKey: key})
			if err != nil {
				t.Fatalf("round %d, after a crash at %s: the retried upload failed: %v\n%s", round, step, err, g.logs())
			}
			again, err := c.Upload(ctx, client.UploadRequest{CaseID: "CASE-CRASH", Content: bytes.NewReader(content), IdempotencyKey: key})
			if err != nil {
				t.Fatalf("round %d, after a crash at %s: the second retry failed: %v", round, step, err)
			}
			if again.Evidence.EvidenceID != res.Evidence.EvidenceID {
				tally.duplicates++
				t.Errorf("round %d, after a crash at %s: two retries registered %s and %s", round, step, res.Evidence.EvidenceID, again.Evidence.EvidenceID)
			}
			acked[res.Evidence.EvidenceID] = content
			keys[key] = res.Evidence.EvidenceID
			tally.acknowledged++
			g.stop()
		}
		for _, step := range changeSteps {
			var id string
			for k := range acked {
				id = k
				break
			}
			g.restart(step)
			req := api.ShareRequest{To: "agency-us", LegalBasis: "MLAT 2026/" + step, Expires: time.Now().Add(24 * time.Hour)}
			if _, err := g.client("investigator-nl").Share(ctx, id, req); err == nil {
				t.Fatalf("round %d: the share was answered although the gateway was to die at %s", round, step)
			}
			g.awaitCrash(step)
			tally.crashes++
			g.restart("")
			if _, err := g.client("investigator-nl").Share(ctx, id, req); err != nil {
				t.Fatalf("round %d, after a crash at %s: the share failed: %v\n%s", round, step, err, g.logs())
			}
			grants[id]++
			tally.acknowledged++
			g.stop()
		}
	}

	// Every acknowledged upload and share is there, verifies and downloads; the
	// orphans of the crashed attempts are all quarantined.
	g.restart("")
	c := g.client("investigator-nl")
	trPath := filepath.Join(t.TempDir(), "trust-root.json")
	g.must("court-nl", "trust-root", "-o", trPath)
	tr := readTrustRoot(t, trPath)
	for id, content := range acked {
		ev, err := c.Evidence(ctx, id)
		if err != nil {
			tally.lost++
			t.Errorf("acknowledged exhibit %s: %v", id, err)
			continue
		}
		if ev.Damage != nil {
			t.Errorf("exhibit %s is damaged: %+v", id, ev.Damage)
		}
		if len(ev.Grants) < grants[id] {
			tally.lost++
			t.Errorf("exhibit %s has %d grants, %d shares were acknowledged", id, len(ev.Grants), grants[id])
		}
		cr, err := c.Content(ctx, id)
		if err != nil {
			t.Fatalf("downloading %s: %v", id, err)
		}
		got, err := io.ReadAll(cr.Body)
		cr.Body.Close()
		if err != nil || !bytes.Equal(got, content) {
			tally.lost++
			t.Errorf("exhibit %s downloads %d bytes (%v), not its content", id, len(got), err)
		}
		b, err := c.Bundle(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := custody.Verify(b.Bundle, tr, custody.VerifyOptions{Content: bytes.NewReader(content)}); err != nil {
			t.Errorf("the bundle of %s does not verify: %v", id, err)
		}
	}
	// The catalog healed from every crash: the case lists each acknowledged exhibit,
	// with each acknowledged grant.
	listed := map[string]int{}
	page := client.Page{Limit: 500}
	for {
		p, err := c.CaseExhibits(ctx, "CASE-CRASH", page)
		if err != nil {
			t.Fatalf("listing the case: %v", err)
		}
		for _, e := range p.Exhibits {
			listed[e.EvidenceID] = len(e.Grants)
		}
		if page.Cursor = p.Next; p.Next == "" {
			break
		}
	}
	for id := range acked {
		if n, ok := listed[id]; !ok || n < grants[id] {
			tally.lost++
			t.Errorf("the catalog lists exhibit %s (%v) with %d grants, %d shares were acknowledged", id, ok, n, grants[id])
		}
	}
	// Each key's attempts: one registered exhibit, the acknowledged one; every other
	// attempt that stored content is quarantined. Only this test's attempts are read:
	// the real stack's stores are shared with other tests.
	names := g.storedNames(ctx, base)
	for key, id := range keys {
		for _, a := range g.attempts(ctx, base, names, key) {
			switch registered := hasPrefix(names, "evidence/"+a+"/events/"); {
			case registered && a != id:
				tally.duplicates++
				t.Errorf("key %s: attempt %s registered a second exhibit beside %s", key, a, id)
			case !registered && hasPrefix(names, "content/NL/"+a+"/") && !hasPrefix(names, "quarantine/"+a+".json"):
				tally.orphans++
				t.Errorf("key %s: attempt %s left content that is neither registered nor quarantined", key, a)
			}
		}
	}
	t.Logf("crashes %d, acknowledged %d, lost %d, duplicate exhibits %d, unaccounted orphans %d",
		tally.crashes, tally.acknowledged, tally.lost, tally.duplicates, tally.orphans)
}

// attempts returns the evidence ids of the upload attempts under an idempotency key of
// investigator-nl (exhibit/idempotency.go: idempotency/<agency>/<sha256 of person and
// key>/<n>.json).
func (g *crashGateway) attempts(ctx context.Context, base string, names []string, key string) []string {
	g.t.Helper()
	sum := sha256.Sum256([]byte("investigator-nl\n" + key))
	prefix := "idempotency/agency-nl/" + hex.EncodeToString(sum[:]) + "/"
	var ids []string
	for _, name := range names {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		var a struct {
			EvidenceID string `json:"evidence_id"`
		}
		if err := json.Unmarshal(g.readStored(ctx, base, name), &a); err != nil {
			g.t.Fatalf("attempt %s: %v", name, err)
		}
		ids = append(ids, a.EvidenceID)
	}
	if len(ids) == 0 {
		g.t.Fatalf("no attempt stored under key %s", key)
	}
	return ids
}

// readStored reads one object of the gateway's custody store.
func (g *crashGateway) readStored(ctx context.Context, base, name string) []byte {
	g.t.Helper()
	if base == "" {
		b, err := os.ReadFile(filepath.Join(g.data, "store", "objects", filepath.FromSlash(name)))
		if err != nil {
			g.t.Fatal(err)
		}
		return b
	}
	cfg, err := parseStackConfig([]byte(base))
	if err != nil {
		g.t.Fatal(err)
	}
	o, err := minioClient(g.t.(*testing.T), cfg).GetObject(ctx, cfg.Backends.Storage.CustodyBucket, name, minio.GetObjectOptions{})
	if err != nil {
		g.t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		g.t.Fatal(err)
	}
	return b
}

func hasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// storedNames lists every object name of the gateway's stores.
func (g *crashGateway) storedNames(ctx context.Context, base string) []string {
	if base == "" {
		return g.objectNames()
	}
	cfg, err := parseStackConfig([]byte(base))
	if err != nil {
		g.t.Fatal(err)
	}
	mc := minioClient(g.t.(*testing.T), cfg)
	var names []string
	buckets := []string{cfg.Backends.Storage.CustodyBucket}
	for _, b := range cfg.Backends.Storage.Buckets {
		buckets = append(buckets, b)
	}
	for _, b := range buckets {
		for obj := range mc.ListObjects(ctx, b, listAll) {
			if obj.Err != nil {
				g.t.Fatal(obj.Err)
			}
			names = append(names, obj.Key)
		}
	}
	return names
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// listAll lists every object of a bucket.
var listAll = minio.ListObjectsOptions{Recursive: true}

func TestCrashMidDownload(t *testing.T) { crashMidDownload(t, "") }

func TestRealStackCrashMidDownload(t *testing.T) {
	base, _ := loadStackConfig(t)
	crashMidDownload(t, base)
}

// crashMidDownload kills the gateway after it sent the third segment of a partner's
// only download (the transfer started, never ended), restarts it, and checks the count:
// the dead transfer still holds the grant's download (a new transfer is refused), the
// client resumes it from its partial file in the same transfer, and that transfer is
// delivered and counted once.
func crashMidDownload(t *testing.T, base string) {
	g := &crashGateway{gateway: startGatewayWith(t, "", base)}
	file, content := writeRandomFile(t, 8<<20)
	id := strings.TrimSpace(g.must("investigator-nl", "upload", "-q", "--case", "CASE-CRASH-DL", file))
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/22", "--expires", "30d", "--max-downloads", "1")
	g.must("partner-us", "accept", id)
	g.stop()

	const step = "download-sending:3"
	g.restart(step)
	out := filepath.Join(t.TempDir(), "received.bin")
	_, errOut, err := g.run("partner-us", "download", id, "-o", out, "--retries", "0")
	if err == nil || !strings.Contains(errOut, "run the download again to resume") {
		t.Fatalf("the download through a gateway that dies: %v\n%s\nwant an interrupted download", err, errOut)
	}
	g.awaitCrash(step)
	g.restart("")

	waitGrant(t, g.gateway, id, 0, 1) // the dead transfer holds the download
	g.fails("partner-us", exitFailed, "forbid-download-limit", "download", id, "-o", filepath.Join(t.TempDir(), "other.bin"))

	res := g.must("partner-us", "download", id, "-o", out, "--json")
	var r struct {
		Resumed  int64 `json:"resumed_from"`
		Requests int   `json:"requests"`
	}
	if err := json.Unmarshal([]byte(res), &r); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, content) || r.Resumed == 0 || r.Requests != 1 {
		t.Errorf("the resumed download: %d bytes, resumed from %d in %d requests; want the content, resumed in one request", len(got), r.Resumed, r.Requests)
	}
	waitGrant(t, g.gateway, id, 1, 0)
	var h api.History
	if err := json.Unmarshal([]byte(g.must("investigator-nl", "history", id, "--json")), &h); err != nil {
		t.Fatal(err)
	}
	var transfers []string
	for _, ev := range h.Events {
		if ev.Transfer != nil {
			transfers = append(transfers, ev.Action+" "+ev.Transfer.ID)
		}
	}
	if len(transfers) != 3 || !strings.HasPrefix(transfers[0], "download-start ") || !strings.HasPrefix(transfers[1], "download-resume ") ||
		!strings.HasPrefix(transfers[2], "download-deliver ") || transfers[0][len("download-start "):] != transfers[2][len("download-deliver "):] {
		t.Errorf("the transfer events are %q, want one transfer started, resumed and delivered", transfers)
	}
	trPath := filepath.Join(t.TempDir(), "trust-root.json")
	g.must("court-nl", "trust-root", "-o", trPath)
	bundle := filepath.Join(t.TempDir(), "bundle.json")
	g.must("investigator-nl", "bundle", id, "-o", bundle)
	g.must("", "verify", bundle, "--trust-root", trPath, "--evidence", out)
}
