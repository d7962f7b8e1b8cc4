package console_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/console"
	"github.com/evidencegw/evidencegw/internal/webdriver"
	"github.com/evidencegw/evidencegw/pki"
)

// gatewayStartTimeout bounds the start of the gateway on the embedded default.
const gatewayStartTimeout = 2 * time.Minute

// startGateway builds evidencegw and runs `evidencegw serve` on the embedded default in
// a fresh data directory, as the e2e tests do; it returns the data directory, whose
// identities/ holds the demo members.
func startGateway(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "evidencegw")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/evidencegw").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("listen: "+addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	var log lockedBuffer
	cmd := exec.Command(bin, "serve", "--data", data, "--config", cfg)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(gatewayStartTimeout)
	for {
		select {
		case err := <-exited:
			t.Fatalf("gateway exited: %v\n%s", err, log.String())
		default:
		}
		if c, err := memberClient(filepath.Join(data, "identities", "investigator-nl")); err == nil {
			if _, err := c.Whoami(t.Context()); err == nil {
				return data
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway did not become ready\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func memberClient(dir string) (*client.Client, error) {
	id, err := pki.LoadIdentity(dir)
	if err != nil {
		return nil, err
	}
	return client.New(id)
}

// buildVerifier compiles the in-browser verifier as `go generate ./console` does, into
// a temporary directory, so that the test does not depend on a generated file.
func buildVerifier(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", filepath.Join(dir, "custody-verify.wasm"), "../cmd/custody-verify-wasm")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the verifier: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startConsole starts the console of the demo member in identity dir.
func startConsole(t *testing.T, dir, verifier string) *console.Console {
	t.Helper()
	c, err := memberClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.Listen(console.Config{Client: c, Listen: "127.0.0.1:0", WorkDir: t.TempDir(),
		Verifier: os.DirFS(verifier), Gateway: "test gateway"})
	if err != nil {
		t.Fatal(err)
	}
	go con.Serve()
	t.Cleanup(func() { con.Close() })
	return con
}

// page drives one console in the browser.
type page struct {
	t      *testing.T
	wd     *webdriver.Driver
	origin string
	shots  string
}

func (p *page) open(fragment string) {
	p.t.Helper()
	p.wd.Open(p.t, p.origin+"/"+fragment)
	p.wait("the page to start", `return document.body.dataset.ready === "true" && document.getElementById("view").dataset.page !== undefined && !document.getElementById("view").textContent.startsWith("Loading")`)
}

// wait waits until script returns true; an alert shown meanwhile is reported.
func (p *page) wait(what, script string) {
	p.t.Helper()
	webdriver.WaitFor(p.t, what, func() bool {
		var ok bool
		p.wd.Eval(p.t, script, &ok)
		if !ok {
			var alert string
			p.wd.Eval(p.t, `const a = document.getElementById("alert"); return a.hidden || a.className === "ok" ? "" : a.textContent`, &alert)
			if alert != "" {
				p.t.Fatalf("waiting for %s, the page says: %s", what, alert)
			}
		}
		return ok
	})
}

func (p *page) text(selector string) string {
	p.t.Helper()
	var s string
	p.wd.Eval(p.t, `const e = document.querySelector(arguments[0]); return e ? e.innerText : ""`, &s, selector)
	return s
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	var height int
	p.wd.Eval(p.t, `return document.documentElement.scrollHeight`, &height)
	p.wd.Resize(p.t, 1366, min(max(height+140, 900), 5000))
	png := p.wd.Screenshot(p.t)
	path := filepath.Join(p.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	webdriver.CheckPNG(p.t, path, png, 1000, 700)
	p.wd.Resize(p.t, 1366, 900)
}

// checkConsoleLog fails on any error in the browser console: a script error, a
// refused request, a violation of the Content-Security-Policy. The 404 of GET
// /v1/inbox is expected: this gateway does not list an inbox yet, and the page says so.
func (p *page) checkConsoleLog() {
	p.t.Helper()
	for _, l := range p.wd.BrowserLog(p.t) {
		if strings.HasPrefix(l, "SEVERE") && !strings.Contains(l, "favicon.ico") && !strings.Contains(l, "/v1/inbox - Failed to load resource: the server responded with a status of 404") {
			p.t.Errorf("browser console: %s", l)
		}
	}
}

// TestConsoleInChromium runs a gateway on the embedded default and two consoles, the
// Dutch investigator's (owner) and the US partner's, and drives them in headless
// Chromium: the owner uploads two files and shares one, puts it under legal hold; the
// partner accepts and downloads it (the SHA-256 checked by the console and again in the
// browser on the file it serves, the signed receipt recorded); the owner's timeline
// then shows the partner's acts and verifies in the browser with the WebAssembly
// verifier. Screenshots go to $CONSOLE_SCREENSHOTS, else a temporary directory.
func TestConsoleInChromium(t *testing.T) {
	webdriver.LookTool(t, "chromium", "chromium-browser")
	webdriver.LookTool(t, "chromedriver")
	if testing.Short() {
		t.Skip("builds evidencegw and the verifier, runs a gateway and Chromium")
	}
	data := startGateway(t)
	verifier := buildVerifier(t)
	owner := startConsole(t, filepath.Join(data, "identities", "investigator-nl"), verifier)
	partner := startConsole(t, filepath.Join(data, "identities", "partner-us"), verifier)

	files := t.TempDir()
	content := make([]byte, 3<<20+17)
	rand.Read(content)
	laptop, phone := filepath.Join(files, "laptop.img"), filepath.Join(files, "phone.bin")
	if err := os.WriteFile(laptop, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(phone, []byte("phone extraction"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])

	wd := webdriver.Start(t)
	wd.Resize(t, 1366, 900)
	shots := webdriver.ScreenshotDir(t, "CONSOLE_SCREENSHOTS")
	t.Logf("screenshots in %s", shots)
	own := &page{t: t, wd: wd, origin: "http://" + owner.Addr(), shots: shots}
	part := &page{t: t, wd: wd, origin: "http://" + partner.Addr(), shots: shots}

	// The owner logs in and uploads two files.
	wd.Open(t, owner.URL())
	own.wait("the owner's console", `return document.body.dataset.ready === "true"`)
	if who := own.text("#who"); !strings.Contains(who, "agency-nl") {
		t.Fatalf("the owner's console shows %q, want agency-nl", who)
	}
	own.open("#/upload")
	wd.Type(t, "#upload-case", "CASE-2026-0042")
	wd.Type(t, "#upload-description", "seized laptop")
	wd.ChooseFile(t, "#upload-files", laptop+"\n"+phone)
	wd.Click(t, "#upload-submit")
	own.wait("both uploads to be registered", `const rows = document.querySelectorAll("#uploads .transfer");
		return rows.length === 2 && [...rows].every((r) => r.dataset.state === "done" || r.dataset.state === "failed")`)
	var ids []string
	wd.Eval(t, `return [...document.querySelectorAll("#uploads .transfer")].map((r) => r.dataset.state + " " + (r.dataset.evidence || r.innerText))`, &ids)
	for _, s := range ids {
		if !strings.HasPrefix(s, "done ev-") {
			t.Fatalf("upload: %q, want done and an evidence id", s)
		}
	}
	id := strings.Fields(ids[0])[1]
	own.screenshot("1-owner-upload")

	// ... shares the laptop with the US partner and puts it under legal hold.
	own.open("#/evidence/" + id)
	if got := own.text("#ev-sha256"); got != want {
		t.Fatalf("the exhibit's SHA-256 is %q, want %q", got, want)
	}
	wd.Click(t, "#act-share")
	wd.Type(t, "#share-to", "agency-us")
	wd.Type(t, "#share-basis", "MLAT request 2026/117")
	wd.Clear(t, "#share-max")
	wd.Type(t, "#share-max", "3")
	wd.Click(t, "#share-submit")
	own.wait("the share", `const a = document.getElementById("alert"); return a.className === "ok" && a.textContent.startsWith("Shared with agency-us")`)
	wd.Click(t, "#act-hold")
	wd.Type(t, "#reason-text", "appeal pending")
	wd.Click(t, "#reason-submit")
	own.wait("the legal hold", `return document.getElementById("ev-held") && document.getElementById("ev-held").textContent === "yes"`)
	own.screenshot("2-owner-shared")
	own.checkConsoleLog()

	// The partner logs in, accepts and downloads.
	wd.Open(t, partner.URL())
	part.wait("the partner's console", `return document.body.dataset.ready === "true"`)
	part.open("#/evidence/" + id)
	wd.Click(t, "#act-accept")
	wd.Click(t, "#accept-submit")
	part.wait("the acceptance", `const a = document.getElementById("alert"); return a.className === "ok" && a.textContent.startsWith("Accepted grant")`)
	wd.Click(t, "#act-download")
	part.wait("the download", `const d = document.getElementById("download"); return d && (d.dataset.state === "done" || d.dataset.state === "failed")`)
	if got := part.text("#download-sha256"); got != want {
		t.Fatalf("the console reports SHA-256 %q for the download (%s), want %q", got, part.text("#download"), want)
	}
	if got := part.text("#download-receipt"); !strings.Contains(got, "signed receipt is recorded") {
		t.Errorf("download receipt: %q", got)
	}
	// The file the console serves is the evidence: hash it in the browser.
	var served string
	wd.EvalAsync(t, `const done = arguments[arguments.length - 1];
		fetch(document.getElementById("download-save").href).then((r) => r.arrayBuffer())
			.then((b) => crypto.subtle.digest("SHA-256", b))
			.then((d) => done([...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, "0")).join("")), (e) => done("error: " + e));`, &served)
	if served != want {
		t.Errorf("the file the console serves has SHA-256 %s, want %s", served, want)
	}
	part.screenshot("3-partner-downloaded")
	part.checkConsoleLog()

	// The owner's timeline shows the partner's acts and verifies in the browser.
	own.open("#/evidence/" + id)
	for _, action := range []string{"register", "share", "legal-hold", "accept", "download-start", "download-deliver", "received"} {
		if own.text(fmt.Sprintf(`#timeline tr[data-action=%q]`, action)) == "" {
			t.Errorf("the owner's timeline has no %s event", action)
		}
	}
	wd.Click(t, "#verify-run")
	own.wait("the verification", `const v = document.getElementById("verdict"); return !!v || !!document.querySelector("[data-result=error]")`)
	if got := own.text("#verify-out"); !strings.Contains(got, "✓ VERIFIED") {
		t.Fatalf("the verification shows %q, want VERIFIED", got)
	}
	var rows int
	own.wait("the report", `const f = document.getElementById("verify-report"); return !!(f.contentDocument && f.contentDocument.querySelector("tr.event"))`)
	wd.Eval(t, `return document.getElementById("verify-report").contentDocument.querySelectorAll("tr.event.verified").length`, &rows)
	if rows < 8 {
		t.Errorf("the report in the page shows %d verified events, want at least 8", rows)
	}
	own.screenshot("4-owner-timeline-verified")
	own.checkConsoleLog()
}
