package console_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// testCase is the owner's case in the browser test.
const testCase = "CASE-2026-0042"

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
	// The case of the test has a retention period of a second, so that its evidence
	// may be disposed of.
	conf := "listen: " + addr + "\nretention:\n  cases:\n    " + testCase + ": 1s\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
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
// refused request, a violation of the Content-Security-Policy. expected are the
// refusals the test provoked, by a part of their message ("/v1/requests - ... 403").
func (p *page) checkConsoleLog(expected ...string) {
	p.t.Helper()
next:
	for _, l := range p.wd.BrowserLog(p.t) {
		if !strings.HasPrefix(l, "SEVERE") || strings.Contains(l, "favicon.ico") {
			continue
		}
		for _, e := range expected {
			if strings.Contains(l, e) {
				continue next
			}
		}
		p.t.Errorf("browser console: %s", l)
	}
}

// choose sets a <select> or an input a user would pick from (a date) to value, as
// picking it does: the value, then the change event.
func (p *page) choose(selector, value string) {
	p.t.Helper()
	var ok bool
	p.wd.Eval(p.t, `const e = document.querySelector(arguments[0]); if (!e) return false;
		e.value = arguments[1]; e.dispatchEvent(new Event("change", {bubbles: true})); return e.value === arguments[1]`, &ok, selector, value)
	if !ok {
		p.t.Fatalf("could not choose %q in %s", value, selector)
	}
}

// okAlert waits for the page's success message starting with prefix.
func (p *page) okAlert(what, prefix string) {
	p.t.Helper()
	p.wait(what, `const a = document.getElementById("alert"); return !a.hidden && a.className === "ok" && a.textContent.startsWith(`+jsString(prefix)+`)`)
}

// dialogError waits for the open dialog to show a refusal and returns it.
func (p *page) dialogError(dialog string) string {
	p.t.Helper()
	var msg string
	webdriver.WaitFor(p.t, "the refusal in "+dialog, func() bool {
		p.wd.Eval(p.t, `const e = document.querySelector(arguments[0] + " .dlg-error"); return e && !e.hidden ? e.textContent : ""`, &msg, "#"+dialog)
		return msg != ""
	})
	p.wd.Eval(p.t, `document.getElementById(arguments[0]).close(); return null`, nil, dialog)
	return msg
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestConsoleExchangeInChromium runs a gateway on the embedded default and three
// consoles, the Dutch investigator's (owner), the US partner's and the Dutch court's,
// and drives the whole exchange in headless Chromium:
//
//  1. the partner files a European Investigation Order to the owner (the instrument's
//     default deadline shown; an emergency under a preservation order refused in plain
//     words, with no policy id);
//  2. the owner finds it in the inbox, acknowledges it, uploads two files with their
//     forensic metadata, pages through the case, puts the laptop under legal hold and
//     shares it with the court, disposes of the phone extraction (and is refused the
//     laptop's disposal, held), and answers the request by sharing the laptop;
//  3. the partner finds the grant in the inbox, accepts it and downloads (the SHA-256
//     checked by the console and again in the browser on the file it serves, the signed
//     receipt recorded);
//  4. the court opens the exhibit, sees the whole timeline and verifies it in the
//     browser with the WebAssembly verifier.
//
// Screenshots of each step go to $CONSOLE_SCREENSHOTS, else a temporary directory.
func TestConsoleExchangeInChromium(t *testing.T) {
	webdriver.LookTool(t, "chromium", "chromium-browser")
	webdriver.LookTool(t, "chromedriver")
	if testing.Short() {
		t.Skip("builds evidencegw and the verifier, runs a gateway and Chromium")
	}
	data := startGateway(t)
	verifier := buildVerifier(t)
	identity := func(name string) string { return filepath.Join(data, "identities", name) }
	owner := startConsole(t, identity("investigator-nl"), verifier)
	partner := startConsole(t, identity("partner-us"), verifier)
	court := startConsole(t, identity("court-nl"), verifier)

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
	sourceSum := sha256.Sum256([]byte("the seized disk, as the imager read it"))
	source := hex.EncodeToString(sourceSum[:])

	wd := webdriver.Start(t)
	wd.Resize(t, 1366, 900)
	shots := webdriver.ScreenshotDir(t, "CONSOLE_SCREENSHOTS")
	t.Logf("screenshots in %s", shots)
	own := &page{t: t, wd: wd, origin: "http://" + owner.Addr(), shots: shots}
	part := &page{t: t, wd: wd, origin: "http://" + partner.Addr(), shots: shots}
	crt := &page{t: t, wd: wd, origin: "http://" + court.Addr(), shots: shots}

	// 1. The partner files a European Investigation Order to the Dutch agency.
	wd.Open(t, partner.URL())
	part.wait("the partner's console", `return document.body.dataset.ready === "true"`)
	part.open("#/requests/new")
	part.choose("#rq-instrument", "eio")
	if hint := part.text("#rq-instrument-hint"); !strings.Contains(hint, "120 days after filing") || !strings.Contains(hint, "in an emergency, 24 hours") {
		t.Errorf("the form says of the EIO: %q, want its default deadline of 120 days and 24 hours in an emergency", hint)
	}
	wd.Type(t, "#rq-to", "agency-nl")
	wd.Type(t, "#rq-reference", "EIO 2026/117")
	wd.Type(t, "#rq-authority", "US Department of Justice, Office of International Affairs")
	wd.Type(t, "#rq-sought", "The disk image of the laptop seized in case NL-0042")
	wd.Type(t, "#rq-case", "US-2026-77")
	// An emergency under a preservation order, which has no emergency procedure: the
	// policies refuse it, and the page says why in words.
	part.choose("#rq-instrument", "epoc-pr")
	wd.Click(t, "#rq-emergency")
	wd.Click(t, "#rq-submit")
	var refusal string
	webdriver.WaitFor(t, "the refusal of the emergency", func() bool {
		wd.Eval(t, `const a = document.getElementById("alert"); return a.hidden || a.className === "ok" ? "" : a.textContent`, &refusal)
		return refusal != ""
	})
	if !strings.Contains(refusal, "no emergency procedure") || strings.Contains(refusal, "forbid-") || strings.Contains(refusal, "policy") {
		t.Errorf("the refusal of an emergency preservation order reads %q: want what is missing, in words, and no policy id", refusal)
	}
	part.screenshot("1a-partner-refused-in-words")
	wd.Click(t, "#rq-emergency")
	part.choose("#rq-instrument", "eio")
	wd.Click(t, "#rq-submit")
	part.okAlert("the request to be filed", "Request rq-")
	var rq string
	wd.Eval(t, `return document.getElementById("rq-id").textContent`, &rq)
	if st := part.text("#rq-state"); st != "open" {
		t.Errorf("the new request's state shows %q, want open", st)
	}
	part.screenshot("1b-partner-request-filed")
	part.checkConsoleLog("/v1/requests - Failed to load resource: the server responded with a status of 403")

	// 2. The owner finds it in the inbox and acknowledges it.
	wd.Open(t, owner.URL())
	own.wait("the owner's console", `return document.body.dataset.ready === "true"`)
	if who := own.text("#who"); !strings.Contains(who, "agency-nl") {
		t.Fatalf("the owner's console shows %q, want agency-nl", who)
	}
	own.open("#/inbox")
	if row := own.text(fmt.Sprintf(`#inbox-requests tr[data-request=%q]`, rq)); !strings.Contains(row, "agency-us") || !strings.Contains(row, "EIO 2026/117") {
		t.Fatalf("the owner's inbox shows the request as %q", row)
	}
	if own.text(fmt.Sprintf(`#inbox-deadlines tr[data-request=%q]`, rq)) == "" {
		t.Errorf("the owner's deadlines do not list %s", rq)
	}
	own.screenshot("2a-owner-inbox-request")
	wd.Click(t, fmt.Sprintf(`#inbox-requests tr[data-request=%q] a`, rq))
	own.wait("the request page", `return !!document.getElementById("act-acknowledge")`)
	wd.Click(t, "#act-acknowledge")
	wd.Type(t, "#reason-text", "received, in hand")
	wd.Click(t, "#reason-submit")
	own.okAlert("the acknowledgement", "The request is acknowledged.")

	// ... uploads two files with their forensic metadata,
	own.open("#/upload")
	wd.Type(t, "#upload-case", testCase)
	wd.Type(t, "#upload-description", "seized laptop")
	wd.Click(t, "#upload-forensic summary")
	wd.Type(t, "#upload-exhibit_number", "NL-0042-EX3")
	wd.Type(t, "#upload-examiner", "J. de Vries")
	wd.Type(t, "#upload-tool", "FTK Imager")
	wd.Type(t, "#upload-tool_version", "4.7.1")
	own.choose("#upload-seized_at", "2026-03-01T06:30")
	wd.Type(t, "#upload-seized_place", "Rotterdam")
	wd.Type(t, "#upload-source_sha256", source)
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
	id, phoneID := strings.Fields(ids[0])[1], strings.Fields(ids[1])[1]
	own.screenshot("2b-owner-upload-forensic")

	// ... pages through the case's exhibits, one at a time,
	wd.Eval(t, `sessionStorage.setItem("pageSize", "1"); return null`, nil)
	own.open("#/cases")
	if own.text(fmt.Sprintf(`#cases tr[data-case=%q]`, testCase)) == "" {
		t.Errorf("the owner's cases do not list %s", testCase)
	}
	own.open("#/cases/" + testCase)
	countRows := func() int {
		var n int
		wd.Eval(t, `return document.querySelectorAll("#case-exhibits tbody tr").length`, &n)
		return n
	}
	if n := countRows(); n != 1 {
		t.Fatalf("the case's first page has %d exhibits, want 1", n)
	}
	wd.Click(t, `#case-exhibits button.more`)
	own.wait("the case's second page", `return document.querySelectorAll("#case-exhibits tbody tr").length === 2 && document.querySelector("#case-exhibits button.more").hidden`)
	if got := own.text(fmt.Sprintf(`#case-exhibits tr[data-evidence=%q]`, id)); !strings.Contains(got, "NL-0042-EX3") {
		t.Errorf("the case lists the laptop as %q, want its exhibit number", got)
	}
	own.screenshot("2c-owner-case-paged")
	wd.Eval(t, `sessionStorage.removeItem("pageSize"); return null`, nil)

	// ... sees the forensic metadata on the exhibit, puts it under legal hold and
	// shares it with the court, for the verification,
	own.open("#/evidence/" + id)
	if got := own.text("#ev-sha256"); got != want {
		t.Fatalf("the exhibit's SHA-256 is %q, want %q", got, want)
	}
	for sel, w := range map[string]string{"#ev-exhibit-number": "NL-0042-EX3", "#ev-examiner": "J. de Vries",
		"#ev-tool": "FTK Imager 4.7.1", "#ev-seized-at": "2026-03-01 06:30:00 UTC", "#ev-seized-place": "Rotterdam",
		"#ev-source-hashes": source} {
		if got := own.text(sel); !strings.Contains(got, w) {
			t.Errorf("the exhibit page shows %s %q, want %q", sel, got, w)
		}
	}
	wd.Click(t, "#act-hold")
	wd.Type(t, "#reason-text", "appeal pending")
	wd.Click(t, "#reason-submit")
	own.wait("the legal hold", `return document.getElementById("ev-held") && document.getElementById("ev-held").textContent === "yes"`)
	wd.Click(t, "#act-share")
	wd.Type(t, "#share-to", "court-nl")
	wd.Type(t, "#share-basis", "court order 2026-113")
	wd.Click(t, "#share-view-only")
	wd.Click(t, "#share-submit")
	own.okAlert("the share with the court", "Shared with court-nl")
	// A held exhibit cannot be disposed of: the dialog says so.
	wd.Click(t, "#act-dispose")
	wd.Type(t, "#dispose-authority", "retention schedule NL-R-7")
	wd.Click(t, "#dispose-submit")
	if msg := own.dialogError("dlg-dispose"); !strings.Contains(msg, "hold") {
		t.Errorf("disposing of a held exhibit: the dialog says %q, want the legal hold named", msg)
	}

	// ... disposes of the phone extraction, whose case's retention has ended,
	own.open("#/evidence/" + phoneID)
	wd.Click(t, "#act-dispose")
	wd.Type(t, "#dispose-authority", "Order of the District Court of Rotterdam, 2026-04-02")
	wd.Click(t, "#dispose-submit")
	own.okAlert("the disposal", "Disposed of.")
	if got := own.text("#ev-disposed"); !strings.Contains(got, "District Court of Rotterdam") {
		t.Errorf("the disposed exhibit shows %q", got)
	}
	if own.text(`#timeline tr[data-action="dispose"]`) == "" {
		t.Errorf("the timeline has no dispose event")
	}

	// ... and answers the request by sharing the laptop.
	own.open("#/requests/" + rq)
	if st := own.text("#rq-state"); st != "acknowledged" {
		t.Errorf("the request's state shows %q, want acknowledged", st)
	}
	wd.Click(t, "#act-respond")
	own.wait("the cases of the answer", `return [...document.querySelectorAll("#respond-case option")].some((o) => o.value === `+jsString(testCase)+`)`)
	own.choose("#respond-case", testCase)
	own.wait("the exhibits of the case", `return !!document.querySelector('input[name=respond-exhibit][value=`+jsString(id)+`]')`)
	var offered []string
	wd.Eval(t, `return [...document.querySelectorAll("input[name=respond-exhibit]")].map((x) => x.value)`, &offered)
	if len(offered) != 1 {
		t.Errorf("the answer offers %q, want the laptop only (the phone extraction is disposed of)", offered)
	}
	wd.Click(t, `input[name=respond-exhibit][value=`+jsString(id)+`]`)
	own.screenshot("2d-owner-answering")
	wd.Click(t, "#respond-submit")
	own.okAlert("the answer", "Shared 1 exhibit(s) with agency-us.")
	if st := own.text("#rq-state"); st != "answered" {
		t.Errorf("the answered request's state shows %q, want answered", st)
	}
	if own.text(fmt.Sprintf(`#rq-shares li[data-evidence=%q]`, id)) == "" {
		t.Errorf("the request does not list the laptop as shared")
	}
	for _, action := range []string{"request-filed", "request-acknowledged", "request-fulfilled"} {
		if own.text(fmt.Sprintf(`#timeline tr[data-action=%q]`, action)) == "" {
			t.Errorf("the request's custody has no %s event", action)
		}
	}
	own.screenshot("2e-owner-answered")
	own.checkConsoleLog("/dispose - Failed to load resource: the server responded with a status of 409")

	// 3. The partner finds the grant in the inbox, accepts it and downloads.
	part.open("#/inbox")
	if row := part.text(fmt.Sprintf(`#inbox-awaiting tr[data-evidence=%q]`, id)); !strings.Contains(row, "eio EIO 2026/117") {
		t.Errorf("the partner's inbox shows the grant as %q, want the legal basis of the request", row)
	}
	part.screenshot("3a-partner-inbox-grant")
	wd.Click(t, fmt.Sprintf(`#inbox-awaiting tr[data-evidence=%q] button.accept`, id))
	wd.Click(t, "#accept-submit")
	part.okAlert("the acceptance", "Accepted grant")
	part.wait("the active grant", fmt.Sprintf(`return !!document.querySelector('#inbox-active tr[data-evidence=%q]')`, id))
	part.open("#/evidence/" + id)
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
	part.screenshot("3b-partner-downloaded")
	part.open("#/requests/" + rq)
	if st := part.text("#rq-state"); st != "answered" {
		t.Errorf("the partner sees the request as %q, want answered", st)
	}
	part.checkConsoleLog()

	// 4. The court sees the whole timeline and verifies it in the browser.
	wd.Open(t, court.URL())
	crt.wait("the court's console", `return document.body.dataset.ready === "true"`)
	crt.open("#/evidence/" + id)
	for _, action := range []string{"register", "legal-hold", "share", "accept", "download-start", "download-deliver", "received"} {
		if crt.text(fmt.Sprintf(`#timeline tr[data-action=%q]`, action)) == "" {
			t.Errorf("the court's timeline has no %s event", action)
		}
	}
	var shares string
	wd.Eval(t, `return [...document.querySelectorAll('#timeline tr[data-action="share"]')].map((r) => r.innerText).join("\n")`, &shares)
	if got := shares; !strings.Contains(got, "EIO 2026/117") || !strings.Contains(got, rq) {
		t.Errorf("the court's timeline does not show the share in answer to the EIO: %q", got)
	}
	wd.Click(t, "#verify-run")
	crt.wait("the verification", `const v = document.getElementById("verdict"); return !!v || !!document.querySelector("[data-result=error]")`)
	if got := crt.text("#verify-out"); !strings.Contains(got, "✓ VERIFIED") {
		t.Fatalf("the verification shows %q, want VERIFIED", got)
	}
	var rows int
	crt.wait("the report", `const f = document.getElementById("verify-report"); return !!(f.contentDocument && f.contentDocument.querySelector("tr.event"))`)
	wd.Eval(t, `return document.getElementById("verify-report").contentDocument.querySelectorAll("tr.event.verified").length`, &rows)
	if rows < 9 {
		t.Errorf("the report in the page shows %d verified events, want at least 9", rows)
	}
	crt.screenshot("4-court-timeline-verified")
	crt.checkConsoleLog()
}
