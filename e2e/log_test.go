package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/keys"
)

func TestLogMonitorAndCompleteness(t *testing.T) {
	g := startGateway(t, "")
	state := logChecks(t, g)

	// A forged checkpoint, signed by the log key (as a compromised operator could):
	// the monitor must report it.
	forgeMonitorState(t, g, state)
}

func TestRealStackLogMonitorAndCompleteness(t *testing.T) {
	g, _ := startRealStack(t)
	logChecks(t, g)
}

// logChecks runs the monitor, multi-bundle verification and the completeness check
// against g, and returns the monitor's state file.
func logChecks(t *testing.T, g *gateway) string {
	dir := t.TempDir()
	file, _ := writeRandomFile(t, 2048)
	trust, state := filepath.Join(dir, "trust-root.json"), filepath.Join(dir, "monitor.json")
	g.must("court-nl", "trust-root", "-o", trust)

	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-M", "--json", file), "evidence_id")
	if out := g.must("court-nl", "log", "monitor", "--trust-root", trust, "--state", state); !strings.Contains(out, "first checkpoint") {
		t.Errorf("first monitor run: %s", out)
	}
	expires := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	g.must("investigator-nl", "share", id, "--to", "court-nl", "--legal-basis", "court order 7", "--expires", expires, "--view-only")
	bundlePath := filepath.Join(dir, "bundle.json")
	g.must("court-nl", "bundle", id, "-o", bundlePath)
	g.must("investigator-nl", "upload", "--case", "CASE-OTHER", file)
	if out := g.must("court-nl", "log", "monitor", "--trust-root", trust, "--state", state); !strings.Contains(out, "consistent") {
		t.Errorf("second monitor run: %s", out)
	}

	// Two bundles of the log: joined by a consistency proof the newer one carries.
	newer, plain := filepath.Join(dir, "newer.json"), filepath.Join(dir, "plain.json")
	g.must("court-nl", "bundle", id, "-o", plain)
	g.must("court-nl", "bundle", id, "-o", newer, "--consistent-with", bundlePath)
	if out := g.must("", "verify", bundlePath, plain, "--trust-root", trust); !strings.Contains(out, "Not checked") {
		t.Errorf("bundles of different sizes without a proof were not flagged:\n%s", out)
	}
	if out := g.must("", "verify", bundlePath, newer, "--trust-root", trust); strings.Contains(out, "Not checked") || !strings.Contains(out, "agree") {
		t.Errorf("bundles joined by a carried proof:\n%s", out)
	}

	// The snapshot proves the bundle complete.
	snapPath := filepath.Join(dir, "snapshot.json")
	g.must("court-nl", "log", "snapshot", "-o", snapPath)
	tr := readTrustRoot(t, trust)
	rep := verifyFile(t, bundlePath, tr)
	snap := readSnapshot(t, snapPath)
	if _, err := custody.CheckCompleteness(rep, snap, tr); err != nil {
		t.Fatalf("completeness of an honest bundle: %v", err)
	}
	if out := g.must("", "verify", bundlePath, "--trust-root", trust, "--log-snapshot", snapPath); !strings.Contains(out, "lists every event") {
		t.Errorf("verify --log-snapshot does not report completeness:\n%s", out)
	}
	// A bundle with its last event cut off is caught by the snapshot.
	var bundle map[string]any
	raw0, _ := os.ReadFile(bundlePath)
	json.Unmarshal(raw0, &bundle)
	events := bundle["events"].([]any)
	bundle["events"] = events[:len(events)-1]
	cut, _ := json.Marshal(bundle)
	cutPath := filepath.Join(dir, "cut.json")
	os.WriteFile(cutPath, cut, 0o600)
	g.fails("", exitVerificationFailed, fmt.Sprintf("evidencegw: completeness of %s: custody verification failed: log leaf %d is event %d of %s, logged before the bundle's checkpoint but absent from the bundle: the bundle is incomplete",
		cutPath, rep.Events[len(events)-1].LogIndex, len(events)-1, id), "verify", cutPath, "--trust-root", trust, "--log-snapshot", snapPath)

	return state
}

// forgeMonitorState replaces the monitor's last checkpoint with one for a larger size
// and another root, signed with the embedded log's key, and checks that the monitor
// reports the rollback as a security error with offline evidence.
func forgeMonitorState(t *testing.T, g *gateway, state string) {
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust-root.json")
	g.must("court-nl", "trust-root", "-o", trust)
	tr := readTrustRoot(t, trust)
	km, err := keys.OpenLocal(filepath.Join(g.data, "keys"), "evidencegw.local/custody")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Checkpoint string }
	raw, _ := os.ReadFile(state)
	json.Unmarshal(raw, &st)
	var cp log.Checkpoint
	if _, err := cp.Unmarshal([]byte(st.Checkpoint)); err != nil {
		t.Fatal(err)
	}
	cp.Hash = append([]byte{}, cp.Hash...)
	cp.Hash[0] ^= 0xff
	cp.Size += 100 // a size the real log has not reached, so the proof cannot match
	forged, err := note.Sign(&note.Note{Text: string(cp.Marshal())}, km.CheckpointSigner())
	if err != nil {
		t.Fatal(err)
	}
	forgedState, _ := json.Marshal(map[string]string{"checkpoint": string(forged)})
	os.WriteFile(state, forgedState, 0o600)
	evidence := filepath.Join(dir, "inconsistency.json")
	g.fails("court-nl", exitVerificationFailed, "evidencegw: SECURITY: the custody log is inconsistent: rollback: a checkpoint of size ",
		"log", "monitor", "--trust-root", trust, "--state", state, "--evidence-out", evidence)
	var ev custody.InconsistencyError
	raw, err = os.ReadFile(evidence)
	if err != nil || json.Unmarshal(raw, &ev) != nil || ev.Older == "" || ev.Newer == "" {
		t.Fatalf("no usable inconsistency evidence written (err %v): %s", err, raw)
	}
	var newer log.Checkpoint
	if _, err := newer.Unmarshal([]byte(ev.Newer)); err != nil {
		t.Fatalf("newer checkpoint of the evidence: %v", err)
	}
	if want := fmt.Sprintf("rollback: a checkpoint of size %d after one of size %d", newer.Size, cp.Size); ev.Reason != want || ev.Older != string(forged) {
		t.Errorf("evidence: got reason %q and older checkpoint %q, want %q and the forged checkpoint", ev.Reason, ev.Older, want)
	}
	err = custody.CheckConsistency(tr, []byte(ev.Older), []byte(ev.Newer), ev.Proof)
	var incons *custody.InconsistencyError
	if !errors.As(err, &incons) || incons.Reason != ev.Reason {
		t.Errorf("the written evidence, checked offline: got %v, want the inconsistency %q", err, ev.Reason)
	}
}

func readTrustRoot(t *testing.T, path string) *custody.TrustRoot {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := custody.ParseTrustRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func verifyFile(t *testing.T, path string, tr *custody.TrustRoot) *custody.Report {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := custody.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := custody.Verify(b, tr, custody.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readSnapshot(t *testing.T, path string) *custody.LogSnapshot {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := custody.ParseLogSnapshot(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
