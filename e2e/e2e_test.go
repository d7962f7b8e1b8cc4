// Package e2e drives the built evidencegw binary through the README walkthrough and the
// tamper cases, against a gateway on the embedded default started in a temp directory.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/pki"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/evidencegw once per test run.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "evidencegw-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "evidencegw")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/evidencegw").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// gateway is a running `evidencegw serve`.
type gateway struct {
	t      testing.TB
	data   string
	config string
	// bin is the binary that serves (the default build if empty); env is added to
	// its environment.
	bin     string
	env     []string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	logMu   *sync.Mutex
	waitErr chan error
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startGateway starts a gateway on the embedded default, on a fresh data directory
// (or data, if not empty).
func startGateway(t testing.TB, data string) *gateway {
	t.Helper()
	return startGatewayWith(t, data, "")
}

// startGatewayWith starts a gateway whose configuration is base (YAML without listen)
// with a free loopback port.
func startGatewayWith(t testing.TB, data, base string) *gateway {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	g := &gateway{t: t, data: data, config: filepath.Join(t.TempDir(), "config.yaml")}
	if err := os.WriteFile(g.config, []byte("listen: "+freePort(t)+"\n"+base), 0o600); err != nil {
		t.Fatal(err)
	}
	g.start()
	t.Cleanup(g.stop)
	return g
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// gatewayStartTimeout bounds a gateway's start. Starting, it checks its log and sweeps
// the store for orphan uploads: on the real stack, whose store the tests share and
// fill, that takes seconds, more on a busy machine.
const gatewayStartTimeout = 2 * time.Minute

func (g *gateway) start() {
	g.t.Helper()
	g.log, g.logMu = &bytes.Buffer{}, &sync.Mutex{}
	bin := g.bin
	if bin == "" {
		bin = binary(g.t)
	}
	g.cmd = exec.Command(bin, "serve", "--data", g.data, "--config", g.config)
	g.cmd.Env = append(os.Environ(), g.env...)
	g.cmd.Stdout = lockedWriter{g.logMu, g.log}
	g.cmd.Stderr = lockedWriter{g.logMu, g.log}
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.waitErr = make(chan error, 1)
	go func() { g.waitErr <- g.cmd.Wait() }()
	deadline := time.Now().Add(gatewayStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-g.waitErr:
			g.t.Fatalf("gateway exited: %v\n%s", err, g.logs())
		default:
		}
		if _, _, err := g.run("investigator-nl", "whoami"); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.t.Fatalf("gateway did not become ready\n%s", g.logs())
}

func (g *gateway) logs() string {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	return g.log.String()
}

// stop terminates the gateway gracefully.
func (g *gateway) stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.waitErr:
	case <-time.After(20 * time.Second):
		g.cmd.Process.Kill()
		<-g.waitErr
	}
	g.cmd = nil
}

// kill stops the gateway with SIGKILL, as a crash would.
func (g *gateway) kill() {
	g.cmd.Process.Kill()
	<-g.waitErr
	g.cmd = nil
}

func (g *gateway) identity(name string) string { return filepath.Join(g.data, "identities", name) }

// run runs a client command as the named demo identity.
func (g *gateway) run(who string, args ...string) (string, string, error) {
	cmd := exec.Command(binary(g.t), args...)
	cmd.Env = append(os.Environ(), "EVIDENCEGW_IDENTITY="+g.identity(who), "EVIDENCEGW_STATE_DIR="+filepath.Join(g.data, "client-state"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// must runs a client command that must succeed.
func (g *gateway) must(who string, args ...string) string {
	g.t.Helper()
	out, errOut, err := g.run(who, args...)
	if err != nil {
		g.t.Fatalf("evidencegw %s (as %s): %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), who, err, out, errOut)
	}
	return out
}

// Exit statuses of the command line (docs/cli.md).
const (
	exitFailed             = 1 // the command failed; for verify: could not verify
	exitUsage              = 2
	exitVerificationFailed = 3
)

// fails runs a client command that must fail with exit status code and with stderr
// containing want, case and all: the precise reason, so that a failure for another
// reason (a connection refused, a usage error) does not pass for the refusal tested.
func (g *gateway) fails(who string, code int, want string, args ...string) {
	g.t.Helper()
	if want == "" {
		g.t.Fatalf("evidencegw %s (as %s): no failure message to expect", strings.Join(args, " "), who)
	}
	out, errOut, err := g.run(who, args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		g.t.Fatalf("evidencegw %s (as %s): got %v, want exit status %d mentioning %q\nstdout: %s", strings.Join(args, " "), who, err, code, want, out)
	}
	if got := exit.ExitCode(); got != code || !strings.Contains(errOut, want) {
		g.t.Fatalf("evidencegw %s (as %s): got exit status %d, stderr %q; want status %d mentioning %q", strings.Join(args, " "), who, got, errOut, code, want)
	}
}

func jsonField(t testing.TB, out, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	v, ok := m[field].(string)
	if !ok {
		t.Fatalf("output has no string %q: %s", field, out)
	}
	return v
}

func writeRandomFile(t testing.TB, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), "evidence.bin")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// httpClient is a plain HTTP client with the identity of the named member, whose
// register and share requests carry the member's signed act (actTransport).
func (g *gateway) httpClient(who string) (*http.Client, string) {
	g.t.Helper()
	id, err := pki.LoadIdentity(g.identity(who))
	if err != nil {
		g.t.Fatal(err)
	}
	tc, err := id.TLSConfig()
	if err != nil {
		g.t.Fatal(err)
	}
	at, err := newActTransport(&http.Transport{TLSClientConfig: tc})
	if err != nil {
		g.t.Fatal(err)
	}
	return &http.Client{Transport: at}, id.GatewayURL
}

// objectNames lists the stored objects but the log's checkpoints, which the log stores
// on its own schedule.
func (g *gateway) objectNames() []string {
	var names []string
	root := filepath.Join(g.data, "store", "objects")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "checkpoints" {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			names = append(names, rel)
		}
		return nil
	})
	return names
}

func TestWalkthrough(t *testing.T) {
	walkthrough(t, startGateway(t, ""))
}

// walkthrough is the README walkthrough, with the refusals around it.
func walkthrough(t *testing.T, g *gateway) {
	file, content := writeRandomFile(t, 3<<20+12345)
	dir := t.TempDir()

	// Investigator uploads and shares with the partner and the court.
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-2026-0042", "--description", "seized laptop image", "--json", file), "evidence_id")
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02")
	grant := jsonField(t, g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT request 2026/117",
		"--expires", expires, "--max-downloads", "2", "--json"), "grant_id")
	g.must("investigator-nl", "share", id, "--to", "court-nl", "--legal-basis", "court order 2026-113", "--expires", expires, "--view-only")

	// Partner: nothing before accepting, then accept, download, and not twice accept.
	out := filepath.Join(dir, "received.bin")
	g.fails("partner-us", exitFailed, "gateway: Forbidden: download is not permitted by policy forbid-download-not-accepted (HTTP 403)", "download", id, "-o", out)
	g.must("partner-us", "accept", id)
	g.fails("partner-us", exitFailed, "grant "+grant+" of "+id+" is already accepted", "accept", id, "--grant", grant)
	g.must("partner-us", "download", id, "-o", out)
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("downloaded content differs from the upload (err %v)", err)
	}
	// The download limit is 2.
	g.must("partner-us", "download", id, "-o", filepath.Join(dir, "second.bin"))
	g.fails("partner-us", exitFailed, "gateway: Forbidden: download is not permitted by policy forbid-download-limit (HTTP 403)", "download", id, "-o", filepath.Join(dir, "third.bin"))

	// The court sees history and bundles but may not download under a view-only grant.
	hist := g.must("court-nl", "history", id)
	for _, action := range []string{"register", "share", "accept", "download"} {
		if !strings.Contains(hist, action) {
			t.Errorf("history lacks %q:\n%s", action, hist)
		}
	}
	g.fails("court-nl", exitFailed, "gateway: Forbidden: download is not permitted by policy forbid-download-not-accepted, forbid-download-view-only (HTTP 403)", "download", id, "-o", filepath.Join(dir, "court.bin"))
	bundle, trust := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "trust-root.json")
	g.must("court-nl", "bundle", id, "-o", bundle)
	g.must("court-nl", "trust-root", "-o", trust)
	report := g.must("", "verify", bundle, "--trust-root", trust, "--evidence", file)
	if !strings.Contains(report, id) {
		t.Errorf("verify report does not name %s:\n%s", id, report)
	}
	// Each member signed their own acts; both downloads' receipts arrived.
	for _, w := range []string{"signed by CN=investigator-nl,O=agency-nl,C=NL", "signed by CN=partner-us,O=agency-us,C=US", "received"} {
		if !strings.Contains(report, w) {
			t.Errorf("verify report lacks %q:\n%s", w, report)
		}
	}
	if strings.Contains(report, "NOT RECEIVED") || strings.Count(hist, "received (event") != 2 {
		t.Errorf("a download shows no signed receipt:\n%s\n%s", hist, report)
	}

	// The partner sees its own part of the history, not the share to the court, and
	// exports no bundle.
	if ph := g.must("partner-us", "history", id); strings.Contains(ph, "court-nl") || !strings.Contains(ph, "accept") {
		t.Errorf("partner history shows another agency's transfer, or misses its own:\n%s", ph)
	}
	g.fails("partner-us", exitFailed, "gateway: Forbidden: bundle is not permitted: no policy allows it (HTTP 403)", "bundle", id, "-o", filepath.Join(dir, "partner-bundle.json"))

	// Legal hold: only the owner, once, recorded in custody.
	g.fails("partner-us", exitFailed, "gateway: Forbidden: hold is not permitted: no policy allows it (HTTP 403)", "hold", id)
	g.must("investigator-nl", "hold", id, "--reason", "defence request")
	g.fails("investigator-nl", exitFailed, "gateway: Conflict: the evidence is already under legal hold (HTTP 409)", "hold", id)
	g.must("investigator-nl", "release", id)

	// Revocation stops the partner.
	g.must("investigator-nl", "revoke", id, "--grant", grant, "--reason", "case closed")
	g.fails("partner-us", exitFailed, "gateway: Forbidden: view is not permitted by policy forbid-revoked-grant (HTTP 403)", "download", id, "-o", filepath.Join(dir, "after-revoke.bin"))

	// Another agency's evidence does not exist for the partner.
	other := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-2026-0043", "--json", file), "evidence_id")
	g.fails("partner-us", exitFailed, "GET /v1/evidence/"+other+": gateway: Not Found: no such evidence (HTTP 404)", "show", other)
	g.fails("partner-us", exitFailed, "GET /v1/evidence/ev-aaaaaaaaaaaaaaaaaaaaaaaaaa: gateway: Not Found: no such evidence (HTTP 404)", "show", "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa")
	g.fails("partner-us", exitFailed, `showing ../../etc/passwd: invalid evidence id "../../etc/passwd"`, "show", "../../etc/passwd")

	// Restarting keeps everything.
	g.stop()
	g.start()
	g.must("", "verify", bundle, "--trust-root", trust, "--evidence", file)
	hist2 := g.must("court-nl", "history", id)
	if !strings.Contains(hist2, "revoke") || !strings.Contains(hist2, "legal-hold") {
		t.Errorf("history after restart lacks the revoke:\n%s", hist2)
	}
}

func TestTamperedBundleFailsVerify(t *testing.T) {
	g := startGateway(t, "")
	file, content := writeRandomFile(t, 4096)
	dir := t.TempDir()
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-T", "--json", file), "evidence_id")
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "EIO 2026/5", "--expires", time.Now().AddDate(0, 1, 0).Format("2006-01-02"))
	bundle, trust := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "trust-root.json")
	g.must("investigator-nl", "bundle", id, "-o", bundle)
	g.must("investigator-nl", "trust-root", "-o", trust)
	g.must("", "verify", bundle, "--trust-root", trust)

	raw, _ := os.ReadFile(bundle)
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	events := b["events"].([]any)
	tampered := []struct {
		name   string
		mutate func() []any
		want   string // the failure, after "verifying FILE: "
	}{
		{"removed", func() []any { return append(append([]any{}, events[:1]...), events[2:]...) },
			"event 1: custody verification failed: has sequence number 2 at position 1: events are missing or out of order"},
		{"reordered", func() []any {
			e := append([]any{}, events...)
			e[1], e[2] = e[2], e[1]
			return e
		}, "event 1: custody verification failed: has sequence number 2 at position 1: events are missing or out of order"},
		{"edited", func() []any {
			e := append([]any{}, events...)
			env := cloneMap(e[1].(map[string]any))
			envelope := cloneMap(env["envelope"].(map[string]any))
			payload, err := base64.StdEncoding.DecodeString(envelope["payload"].(string))
			if err != nil || !bytes.Contains(payload, []byte("EIO 2026/5")) {
				t.Fatalf("event 1 is not the share under EIO 2026/5 (err %v): %s", err, payload)
			}
			payload = bytes.ReplaceAll(payload, []byte("EIO 2026/5"), []byte("EIO 2026/6"))
			envelope["payload"] = base64.StdEncoding.EncodeToString(payload)
			env["envelope"] = envelope
			e[1] = env
			return e
		}, "event 1: custody verification failed: no trusted signature (seq 1, share): key "},
	}
	for _, tt := range tampered {
		t.Run(tt.name, func(t *testing.T) {
			c := cloneMap(b)
			c["events"] = tt.mutate()
			out, _ := json.Marshal(c)
			p := filepath.Join(dir, tt.name+".json")
			os.WriteFile(p, out, 0o600)
			g.fails("", exitVerificationFailed, "evidencegw: verifying "+p+": "+tt.want, "verify", p, "--trust-root", trust)
		})
	}
	// Other content fails too.
	other, otherContent := writeRandomFile(t, 4096)
	g.fails("", exitVerificationFailed, fmt.Sprintf("evidencegw: verifying %s: custody verification failed: evidence content has SHA-256 %x, the registered exhibit has %x",
		bundle, sha256.Sum256(otherContent), sha256.Sum256(content)), "verify", bundle, "--trust-root", trust, "--evidence", other)
}

func cloneMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func TestFlippedCiphertextByte(t *testing.T) {
	g := startGateway(t, "")
	file, _ := writeRandomFile(t, 2<<20)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-F", "--json", file), "evidence_id")
	obj := filepath.Join(g.data, "store", "objects", "content", "NL", id, "sealed")
	if err := os.Chmod(obj, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(obj, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	one := make([]byte, 1)
	f.ReadAt(one, 1<<20)
	one[0] ^= 0x01
	f.WriteAt(one, 1<<20)
	f.Close()

	out := filepath.Join(t.TempDir(), "out.bin")
	g.fails("investigator-nl", exitVerificationFailed, "gateway: Internal Server Error: the stored evidence failed its integrity check; none of what failed was sent, and the failure was recorded in custody (HTTP 500)", "download", id, "-o", out)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed download left %s behind (err %v)", out, err)
	}
	if hist := g.must("investigator-nl", "history", id); !strings.Contains(hist, "integrity-failure") {
		t.Errorf("history does not record the integrity failure:\n%s", hist)
	}
}

func TestBadUploadsStoreNothing(t *testing.T) {
	g := startGateway(t, "")
	hc, base := g.httpClient("investigator-nl")
	before := g.objectNames()
	body := []byte("some evidence bytes")
	wrong := sha256.Sum256([]byte("other bytes"))

	post := func(header string, body io.Reader, length int64) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/evidence?case_id=CASE-B", body)
		if header != "" {
			req.Header.Set("Content-Digest", header)
		}
		req.ContentLength = length
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post(api.FormatDigest(wrong[:]), bytes.NewReader(body), int64(len(body))); r.StatusCode != 422 {
		t.Errorf("wrong digest: got %d, want 422", r.StatusCode)
	}
	if r := post("", bytes.NewReader(body), int64(len(body))); r.StatusCode != 400 {
		t.Errorf("no digest: got %d, want 400", r.StatusCode)
	}
	if r := post("sha-256=:bm90IGEgZGlnZXN0:", bytes.NewReader(body), int64(len(body))); r.StatusCode != 400 {
		t.Errorf("malformed digest: got %d, want 400", r.StatusCode)
	}
	// A body that ends before its declared length.
	right := sha256.Sum256(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/evidence?case_id=CASE-B", io.MultiReader(bytes.NewReader(body), errReader{}))
	req.Header.Set("Content-Digest", api.FormatDigest(right[:]))
	req.ContentLength = int64(len(body)) + 1000
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("truncated upload: got status %d, want the request to fail", resp.StatusCode)
	}
	if r := post(api.FormatDigest(right[:]), bytes.NewReader(body), int64(len(body))); r.StatusCode != 201 {
		t.Fatalf("good upload: got %d, want 201", r.StatusCode)
	}
	after := g.objectNames()
	// The good upload adds content, its data key and the register event with its index.
	if got, want := len(after)-len(before), 4; got != want {
		t.Errorf("bad uploads left objects: %d new objects, want %d: %v", got, want, after)
	}
	// Oversized or malformed JSON is refused with a problem.
	for _, b := range []string{"{", `{"to":"agency-us","unknown":1}`, `{"to":"` + strings.Repeat("x", 70<<10) + `"}`} {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/evidence/ev-aaaaaaaaaaaaaaaaaaaaaaaaaa/grants", strings.NewReader(b))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 413 {
			t.Errorf("JSON body %.20q: got %d, want 400 or 413", b, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("JSON body %.20q: got Content-Type %q, want problem+json", b, ct)
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }

func TestKilledMidUploadLeavesNothing(t *testing.T) {
	g := startGateway(t, "")
	hc, base := g.httpClient("investigator-nl")
	before := g.objectNames()
	pr, pw := io.Pipe()
	sum := sha256.Sum256(nil)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/v1/evidence?case_id=CASE-K", pr)
	req.Header.Set("Content-Digest", api.FormatDigest(sum[:]))
	req.ContentLength = 64 << 20
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	chunk := make([]byte, 1<<20)
	for range 8 {
		pw.Write(chunk)
	}
	g.kill()
	pw.CloseWithError(errors.New("stop"))
	<-done
	g.start()
	if after := g.objectNames(); len(after) != len(before) {
		t.Errorf("a killed upload left objects: before %v, after %v", before, after)
	}
	if tmp, _ := os.ReadDir(filepath.Join(g.data, "store", "tmp")); len(tmp) != 0 {
		t.Errorf("the restart left %d temp files", len(tmp))
	}
}

func sha256Sum(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}
