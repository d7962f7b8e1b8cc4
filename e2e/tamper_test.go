package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/custody"
)

// The tamper tests play someone with access to the gateway's disk or to its object
// store: they edit a stored custody event, roll the log back, corrupt a tile, and check
// that the gateway refuses to act on what it cannot verify.

// forgeEnvelope edits the predicate of a stored DSSE envelope, keeping its signature.
func forgeEnvelope(t *testing.T, raw []byte, edit func(*custody.Event)) []byte {
	t.Helper()
	var env custody.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	payload, err := env.PayloadBytes()
	if err != nil {
		t.Fatal(err)
	}
	var st custody.Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	edit(&st.Predicate)
	b, _ := json.Marshal(st)
	env.Payload = base64.StdEncoding.EncodeToString(b)
	out, _ := json.Marshal(env)
	return out
}

// tamperRecheck is the configuration of a gateway whose kept chains are verified again
// in whole after one second (docs/config.md#chain-cache): a stored event forged after the
// gateway verified it is found at the first request after that.
const tamperRecheck = "chain_cache:\n  recheck: 1s\n"

// awaitRecheck waits until the kept chains of a gateway started with tamperRecheck are
// due for their recheck.
func awaitRecheck() { time.Sleep(1100 * time.Millisecond) }

// shareLimitedAndAccept uploads evidence, shares it with agency-us for one download and
// has the partner accept; it returns the evidence id.
func shareLimitedAndAccept(t *testing.T, g *gateway) string {
	t.Helper()
	file, _ := writeRandomFile(t, 4096)
	id := strings.TrimSpace(g.must("investigator-nl", "upload", "-q", "--case", "CASE-TAMPER", file))
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/1", "--expires", "30d", "--max-downloads", "1")
	g.must("partner-us", "accept", id)
	return id
}

// checkFrozen checks what the gateway makes of an exhibit whose accept (event 2) was
// forged to lift its grant's download limit: four downloads by the partner and one by
// the owner are refused, the damage shows, one integrity-failure event is recorded and
// a court's verification fails at the forged event.
func checkFrozen(t *testing.T, g *gateway, id string) {
	t.Helper()
	dir := t.TempDir()
	for i := range 4 {
		g.fails("partner-us", exitFailed, "frozen", "download", id, "-o", filepath.Join(dir, "copy"+string(rune('a'+i))))
	}
	g.fails("investigator-nl", exitFailed, "frozen", "download", id, "-o", filepath.Join(dir, "owner"))
	out := g.must("investigator-nl", "show", "--json", id)
	if !strings.Contains(out, `"damage"`) || !strings.Contains(out, "no trusted signature") {
		t.Errorf("show: %s\nwant the damage at event 1", out)
	}
	hist := g.must("investigator-nl", "history", id)
	if n := strings.Count(hist, "integrity-failure"); n != 1 {
		t.Errorf("history:\n%s\nwant exactly one integrity-failure event, got %d", hist, n)
	}
	bundle := filepath.Join(dir, "bundle.json")
	g.must("investigator-nl", "bundle", id, "-o", bundle)
	tr := filepath.Join(dir, "tr.json")
	g.must("investigator-nl", "trust-root", "-o", tr)
	out, errOut, err := g.run("court-nl", "verify", bundle, "--trust-root", tr)
	var exit *exec.ExitError
	if !errorsAs(err, &exit) || exit.ExitCode() != exitVerificationFailed || !strings.Contains(out+errOut, "event 2") {
		t.Errorf("verify of the exported bundle: %v\n%s%s\nwant exit 3 at the forged event", err, out, errOut)
	}
}

// TestTamperForgedEventOnDisk edits the newest event on the embedded store's disk.
func TestTamperForgedEventOnDisk(t *testing.T) {
	g := startGatewayWith(t, "", tamperRecheck)
	id := shareLimitedAndAccept(t, g)
	// Event 2 is the partner's accept: lift the grant's limit in it.
	p := filepath.Join(g.data, "store", "objects", "evidence", id, "events", "00000002.dsse")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	forged := forgeEnvelope(t, raw, func(ev *custody.Event) { ev.Grant.MaxDownloads = 0 })
	os.Chmod(p, 0o600)
	if err := os.WriteFile(p, forged, 0o400); err != nil {
		t.Fatal(err)
	}
	awaitRecheck()
	checkFrozen(t, g, id)
}

// TestRealStackTamperForgedEvent puts a forged new version of the newest event into
// MinIO, as someone with the store's credentials could.
func TestRealStackTamperForgedEvent(t *testing.T) {
	base, cfg := loadStackConfig(t)
	g := startGatewayWith(t, "", base+"\n"+tamperRecheck)
	id := shareLimitedAndAccept(t, g)
	mc := minioClient(t, cfg)
	bucket, key := cfg.Backends.Storage.CustodyBucket, "evidence/"+id+"/events/00000002.dsse"
	o, err := mc.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	raw.ReadFrom(o)
	o.Close()
	forged := forgeEnvelope(t, raw.Bytes(), func(ev *custody.Event) { ev.Grant.MaxDownloads = 0 })
	if _, err := mc.PutObject(t.Context(), bucket, key, bytes.NewReader(forged), int64(len(forged)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("putting a forged version: %v", err)
	}
	awaitRecheck()
	checkFrozen(t, g, id)
}

// serveFails runs serve on a data directory and config that must make it refuse to
// start; it returns what it printed.
func serveFails(t *testing.T, g *gateway) string {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--data", g.data, "--config", g.config)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("serve exited without error:\n%s", out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve started on a damaged log:\n%s", out.String())
	}
	return out.String()
}

// TestTamperLogRolledBack restores the embedded log's directory from an older copy: the
// gateway refuses to start rather than reuse log indexes or sign a fork.
func TestTamperLogRolledBack(t *testing.T) {
	g := startGateway(t, "")
	file, _ := writeRandomFile(t, 1024)
	g.must("investigator-nl", "upload", "-q", "--case", "CASE-RB", file)
	g.stop()
	old := filepath.Join(t.TempDir(), "log")
	if out, err := exec.Command("cp", "-a", filepath.Join(g.data, "log"), old).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	g.start()
	g.must("investigator-nl", "upload", "-q", "--case", "CASE-RB", file)
	g.stop()
	os.RemoveAll(filepath.Join(g.data, "log"))
	if out, err := exec.Command("cp", "-a", old, filepath.Join(g.data, "log")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	out := serveFails(t, g)
	if !strings.Contains(out, "damaged (rollback)") || !strings.Contains(out, "restored from an older copy") {
		t.Errorf("serve on a rolled-back log said:\n%s\nwant a rollback refusal", out)
	}
}

// TestTamperHashTile flips a byte of a hash tile of the stopped embedded log: the
// gateway refuses to start, naming the tile.
func TestTamperHashTile(t *testing.T) {
	g := startGateway(t, "")
	file, _ := writeRandomFile(t, 1024)
	g.must("investigator-nl", "upload", "-q", "--case", "CASE-TILE", file)
	g.stop()
	tiles, _ := filepath.Glob(filepath.Join(g.data, "log", "tile", "0", "000.p", "*"))
	if len(tiles) == 0 {
		t.Fatal("no partial tile")
	}
	p := tiles[len(tiles)-1]
	b, _ := os.ReadFile(p)
	b[3] ^= 1
	os.Chmod(p, 0o600)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := serveFails(t, g)
	if !strings.Contains(out, "damaged (corrupt)") || !strings.Contains(out, "tile") {
		t.Errorf("serve on a corrupted tile said:\n%s\nwant a corruption refusal naming the tile", out)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
