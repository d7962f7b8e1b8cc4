package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestREADMEWalkthrough runs the README's five-minute walkthrough as written, against
// `evidencegw serve` started with no flags (the embedded default on 127.0.0.1:8443) in
// a fresh directory, so the README stays true.
func TestREADMEWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script := walkthroughBlock(t, string(readme)) + courtBlock(t, string(readme)) + requestBlock(t, string(readme)) +
		// The court, a third agency, lists nothing of the request or of the phone.
		`court=$(evidencegw requests --json; evidencegw case CASE-2026-0042 --json)
case $court in *"$REQ"*|*"$PHONE"*) echo "LEAK: the court lists the request or the phone"; exit 1;; esac
echo "REQUEST-FLOW-OK"
`
	if ln, err := net.Listen("tcp", "127.0.0.1:8443"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("127.0.0.1:8443, the default address, is taken: %v", err)
		}
		t.Skipf("127.0.0.1:8443 is taken: %v", err)
	} else {
		ln.Close()
	}
	dir := t.TempDir()
	bin := binary(t)
	serve := exec.Command(bin, "serve")
	serve.Dir = dir
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "evidencegw-data", "identities", "court-nl", "gateway")); err == nil {
			if c, err := net.Dial("tcp", "127.0.0.1:8443"); err == nil {
				c.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The README builds the CLI from the repository; here it is already built.
	script = strings.Replace(script, "go build -o evidencegw ./cmd/evidencegw", "cp "+bin+" evidencegw", 1)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README walkthrough failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "VERIFIED") {
		t.Errorf("README walkthrough did not end with a verified bundle:\n%s", out)
	}
	for _, want := range []string{"is fulfilled", "granted ev-", "under epoc", "Request   ", "no requests", "REQUEST-FLOW-OK"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the README's request flow printed no %q:\n%s", want, out)
		}
	}
}

// courtBlock returns the shell block of court tools that follows the walkthrough, run
// in the same shell after it: every file it names must have been made before.
func courtBlock(t *testing.T, readme string) string {
	_, rest, ok := strings.Cut(readme, "More for courts and defence experts")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(block, "evidencegw verify") {
		t.Fatal("README.md has no block of court tools after the walkthrough")
	}
	return block
}

// requestBlock returns the shell block of the request flow, run after the court's.
func requestBlock(t *testing.T, readme string) string {
	_, rest, ok := strings.Cut(readme, "## Requests between agencies")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(block, "evidencegw respond") {
		t.Fatal("README.md has no shell block of the request flow")
	}
	return block
}

// walkthroughBlock returns the first shell block after the walkthrough heading.
func walkthroughBlock(t *testing.T, readme string) string {
	_, rest, ok := strings.Cut(readme, "## Five-minute walkthrough")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(block, "go build -o evidencegw ./cmd/evidencegw") {
		t.Fatal("README.md has no walkthrough shell block that builds the CLI")
	}
	return block
}
