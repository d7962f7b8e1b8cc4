package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFsckRebuildsLostEntryBundle loses the newest entry bundle of the embedded log, as
// a crash or a bad restore would: the gateway refuses to start, pointing at the
// recovery; log fsck names the bundle and exits 3; log fsck --rebuild writes it again
// from the stored events and exits 0; the gateway then starts and the evidence
// verifies.
func TestFsckRebuildsLostEntryBundle(t *testing.T) {
	g := startGateway(t, "")
	file, _ := writeRandomFile(t, 4096)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-F", "--json", file), "evidence_id")
	expires := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	g.must("investigator-nl", "share", id, "--to", "court-nl", "--legal-basis", "court order 9", "--expires", expires, "--view-only")
	g.must("investigator-nl", "upload", "--case", "CASE-G", file)
	if out := g.must("", "log", "fsck", "--config", g.config, "--data", g.data); !strings.Contains(out, "RESULT INTACT") {
		t.Errorf("log fsck of an intact gateway:\n%s", out)
	}
	g.stop()

	bundle, size := newestPartialBundle(t, g.data)
	if err := os.Remove(filepath.Join(g.data, "log", bundle)); err != nil {
		t.Fatal(err)
	}
	named := fmt.Sprintf("entry bundle %s (leaves 0-%d) is missing", bundle, size-1)

	// The gateway refuses to start, naming the bundle and the recovery.
	serveOut := serveRefuses(t, g)
	for _, want := range []string{named, "can be rebuilt from the stored custody events", `docs/log.md, "Recovering the embedded log"`} {
		if !strings.Contains(serveOut, want) {
			t.Errorf("serve's refusal does not say %q:\n%s", want, serveOut)
		}
	}

	// log fsck finds it and exits 3; the exhibits wait for the log.
	out, errOut, err := g.run("", "log", "fsck", "--config", g.config, "--data", g.data)
	wantExit(t, err, exitVerificationFailed)
	for _, want := range []string{named, "--rebuild", "exhibits and leaves: not checked", "RESULT DAMAGED"} {
		if !strings.Contains(out, want) {
			t.Errorf("log fsck does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, named) {
		t.Errorf("log fsck's error does not name the bundle: %s", errOut)
	}

	// --rebuild writes it again and checks everything.
	out, errOut, err = g.run("", "log", "fsck", "--config", g.config, "--data", g.data, "--rebuild")
	wantExit(t, err, 0)
	for _, want := range []string{"rebuilt from the stored custody events: " + bundle, "checked again: intact",
		"exhibits: 2 checked", fmt.Sprintf("%d explained by their events, 0 repeated, 0 unexplained", size), "RESULT INTACT"} {
		if !strings.Contains(out, want) {
			t.Errorf("log fsck --rebuild does not say %q:\n%s\nstderr: %s", want, out, errOut)
		}
	}

	// The gateway starts, the evidence verifies, and the log grows after the bundle.
	g.start()
	dir := t.TempDir()
	bundlePath, trust := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "trust-root.json")
	g.must("court-nl", "bundle", id, "-o", bundlePath)
	g.must("court-nl", "trust-root", "-o", trust)
	g.must("", "verify", bundlePath, "--trust-root", trust, "--evidence", file)
	g.must("investigator-nl", "upload", "--case", "CASE-H", file)
	g.stop()
	out = g.must("", "log", "fsck", "--config", g.config, "--data", g.data, "--json")
	if !strings.Contains(out, `"intact": true`) || !strings.Contains(out, `"unexplained": 0`) {
		t.Errorf("log fsck --json after the rebuild:\n%s", out)
	}
}

// newestPartialBundle returns the path, in the log directory, of the newest partial
// entry bundle of the first bundle, and its size.
func newestPartialBundle(t *testing.T, data string) (string, int) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, "log", "tile", "entries", "000.p"))
	if err != nil {
		t.Fatal(err)
	}
	newest := 0
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > newest {
			newest = n
		}
	}
	if newest == 0 {
		t.Fatal("no partial entry bundle")
	}
	return fmt.Sprintf("tile/entries/000.p/%d", newest), newest
}

// serveRefuses runs serve on g's data directory and returns its output: it must exit
// with status 1 at once.
func serveRefuses(t *testing.T, g *gateway) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary(t), "serve", "--data", g.data, "--config", g.config).CombinedOutput()
	wantExit(t, err, exitFailed)
	return string(out)
}

// wantExit checks the exit status of a command that ran.
func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case code == 0 && err != nil:
		t.Fatalf("exit: %v, want status 0", err)
	case code != 0 && (!errors.As(err, &exit) || exit.ExitCode() != code):
		t.Fatalf("exit: %v, want status %d", err, code)
	}
}

// TestRealStackFsck runs log fsck on the Trillian log and MinIO store of the real
// stack. They are shared with every other real-stack test, some of which damage chains
// on purpose, so it checks only that the command ran on everything, found the chain it
// just recorded intact, and explained its leaves.
func TestRealStackFsck(t *testing.T) {
	g, _ := startRealStack(t)
	file, _ := writeRandomFile(t, 1024)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-F", "--json", file), "evidence_id")
	out, errOut, err := g.run("", "log", "fsck", "--config", g.config, "--data", g.data, "--json")
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != exitVerificationFailed) {
		t.Fatalf("log fsck: %v\n%s", err, errOut)
	}
	var res struct {
		Log      struct{ Backend string }
		Exhibits struct {
			Checked int
			Damaged []struct {
				EvidenceID string `json:"evidence_id"`
			}
		}
		Leaves struct {
			Checked   bool
			Size      uint64
			Explained uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("log fsck --json: %v\n%s", err, out)
	}
	if res.Log.Backend != "trillian" || res.Exhibits.Checked == 0 || !res.Leaves.Checked || res.Leaves.Explained == 0 {
		t.Errorf("log fsck on the real stack: %+v", res)
	}
	for _, d := range res.Exhibits.Damaged {
		if d.EvidenceID == id {
			t.Errorf("the exhibit just recorded, %s, is reported damaged:\n%s", id, out)
		}
	}
	g.fails("", exitUsage, "--rebuild repairs the embedded log only", "log", "fsck", "--config", g.config, "--data", g.data, "--rebuild")
}
