package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cutProxy forwards TCP connections to a gateway and counts the bytes clients send;
// cut decides, as bytes flow, when to break every open connection.
type cutProxy struct {
	ln   net.Listener
	to   string
	sent atomic.Int64
	cut  func(sent int64) bool

	mu    sync.Mutex
	conns []net.Conn
}

func startCutProxy(t *testing.T, to string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, to: to, cut: func(int64) bool { return false }}
	t.Cleanup(func() { ln.Close(); p.breakAll() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) breakAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.to)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { io.Copy(c, up); c.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if p.cut(p.sent.Add(int64(n))) {
				p.breakAll()
				return
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	up.Close()
}

// startGateway runs the embedded gateway in-process with its public URL on a cutting
// proxy, and returns the proxy and the data directory.
func startGateway(t *testing.T, extraConfig string) (*cutProxy, string) {
	t.Helper()
	dir := t.TempDir()
	apiAddr := freeAddr(t)
	proxy := startCutProxy(t, apiAddr)
	cfgPath := filepath.Join(dir, "gateway.yaml")
	cfgText := "listen: " + apiAddr + "\npublic_url: https://" + proxy.ln.Addr().String() + "\nops_listen: \"\"\n" + extraConfig
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, filepath.Join(dir, "data"), slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "data", "identities", "investigator-nl", "gateway")); err == nil {
			if c, err := net.Dial("tcp", apiAddr); err == nil {
				c.Close()
				return proxy, filepath.Join(dir, "data")
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// partBytes is the ciphertext of one part of the test gateway (part_mib 5).
const partBytes = 5 << 20

func TestUploadResumesAfterCuts(t *testing.T) {
	proxy, data := startGateway(t, "uploads:\n  part_mib: 5\n")
	content := make([]byte, 40<<20+12345)
	rand.Read(content)
	file := filepath.Join(t.TempDir(), "server.img")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	// The connection breaks twice: at 12 MiB and at 30 MiB sent.
	var cuts atomic.Int32
	proxy.cut = func(sent int64) bool {
		if (sent > 12<<20 && cuts.Load() == 0) || (sent > 30<<20 && cuts.Load() == 1) {
			cuts.Add(1)
			return true
		}
		return false
	}
	state := t.TempDir()
	env := testEnv(filepath.Join(data, "identities", "investigator-nl"))
	stdout, stderr, code := runCLI(t, env, "upload", "--json", "--case", "CASE-9", "--state-dir", state, file)
	if code != 0 {
		t.Fatalf("upload through two cuts: exit %d, %s", code, stderr)
	}
	checkRegistered(t, stdout, content)
	if cuts.Load() != 2 {
		t.Errorf("the connection was cut %d times, want 2", cuts.Load())
	}
	// Each cut sends again at most the part it was in (plus TLS and HTTP overhead).
	if sent, most := proxy.sent.Load(), int64(len(content))+2*partBytes+2<<20; sent > most {
		t.Errorf("the client sent %d bytes for %d, more than one part again per cut (%d)", sent, len(content), most)
	}
	if left, _ := filepath.Glob(filepath.Join(state, "uploads", "*")); len(left) != 0 {
		t.Errorf("upload state left after the registration: %q", left)
	}
}

func checkRegistered(t *testing.T, stdout string, content []byte) {
	t.Helper()
	var out struct {
		EvidenceID string `json:"evidence_id"`
		SHA256     string `json:"sha256"`
		Size       int64  `json:"size"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("upload output is not JSON: %v\n%s", err, stdout)
	}
	sum := sha256.Sum256(content)
	if out.SHA256 != hex.EncodeToString(sum[:]) || out.Size != int64(len(content)) || !strings.HasPrefix(out.EvidenceID, "ev-") {
		t.Errorf("registered %+v, want %d bytes with sha256 %x", out, len(content), sum)
	}
}

func TestUploadRunAgainResumes(t *testing.T) {
	proxy, data := startGateway(t, "uploads:\n  part_mib: 5\n")
	content := make([]byte, 30<<20)
	rand.Read(content)
	file := filepath.Join(t.TempDir(), "phone.img")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	env := testEnv(filepath.Join(data, "identities", "investigator-nl"))
	// The first run stops (as a crash or Ctrl-C would) after 18 MiB are sent.
	ctx, cancel := context.WithCancel(t.Context())
	proxy.cut = func(sent int64) bool {
		if sent > 18<<20 {
			cancel()
		}
		return false
	}
	var out, errb bytes.Buffer
	env.stdout, env.stderr = &out, &errb
	if code := execute(ctx, newRootCmd(env), []string{"upload", "--json", "--case", "CASE-9", "--state-dir", state, file}); code == 0 {
		t.Fatalf("the stopped run exited 0: %s", out.String())
	}
	if !strings.Contains(errb.String(), "run the same command again") {
		t.Errorf("the stopped run says %q, want it to say to run the command again", errb.String())
	}
	if left, _ := filepath.Glob(filepath.Join(state, "uploads", "*.json")); len(left) != 1 {
		t.Fatalf("upload state after the stopped run: %q, want one file", left)
	}
	firstRun := proxy.sent.Load()
	proxy.cut = func(int64) bool { return false }
	stdout, stderr, code := runCLI(t, testEnv(filepath.Join(data, "identities", "investigator-nl")), "upload", "--json", "--case", "CASE-9", "--state-dir", state, file)
	if code != 0 {
		t.Fatalf("the second run: exit %d, %s", code, stderr)
	}
	checkRegistered(t, stdout, content)
	if second := proxy.sent.Load() - firstRun; second > int64(len(content))-firstRun+partBytes+2<<20 {
		t.Errorf("the second run sent %d bytes after %d of %d: it did not continue the first run's upload", second, firstRun, len(content))
	}
}
