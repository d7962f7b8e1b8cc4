package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/keys"
)

const defaultTestVaultdevBin = "/var/lib/evidencegw-stack/bin/vaultdev"

// freeAddr returns a loopback address that nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// wantUnavailable checks that err wraps keys.ErrUnavailable and mentions want.
func wantUnavailable(t *testing.T, what string, err error, want string) {
	t.Helper()
	t.Logf("%s: %v", what, err)
	if !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("%s: got %v, want keys.ErrUnavailable", what, err)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not say %q", what, err, want)
	}
}

func TestNewUnreachable(t *testing.T) {
	cfg := Config{Address: "http://" + freeAddr(t), Token: "t", KEKs: map[string]string{"NL": "kek-nl"},
		EventKey: "event", CheckpointKey: "checkpoint", LogOrigin: testOrigin}
	start := time.Now()
	_, err := New(t.Context(), cfg)
	wantUnavailable(t, "New", err, "connection refused")
	if d := time.Since(start); d > time.Second {
		t.Errorf("New took %v to report an unreachable Vault, want under 1s", d)
	}
}

func TestNewHangingVault(t *testing.T) {
	if testing.Short() {
		t.Skipf("waits %v for the call timeout", callTimeout)
	}
	// A server that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	cfg := Config{Address: "http://" + l.Addr().String(), Token: "t", KEKs: map[string]string{"NL": "kek-nl"},
		EventKey: "event", CheckpointKey: "checkpoint", LogOrigin: testOrigin}
	start := time.Now()
	_, err = New(t.Context(), cfg)
	if !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("New: got %v, want keys.ErrUnavailable", err)
	}
	if d := time.Since(start); d > callTimeout+time.Second {
		t.Errorf("New took %v against a hanging Vault, want at most %v", d, callTimeout)
	}
}

// startVaultdev runs a private, memory-only vaultdev, so that the test can seal and
// stop it without disturbing the shared one.
func startVaultdev(t *testing.T) (addr, token string, stop func()) {
	t.Helper()
	bin := envOr("EVIDENCEGW_VAULTDEV_BIN", defaultTestVaultdevBin)
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "vaultdev binary: %v", err)
	}
	hostport := freeAddr(t)
	token = "private-test-token"
	cmd := exec.Command(bin, "-addr", hostport, "-transit-mount", DefaultMount)
	cmd.Env = append(os.Environ(), "VAULTDEV_ROOT_TOKEN="+token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vaultdev: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		select {
		case <-done:
			return
		default:
		}
		cmd.Process.Kill()
		<-done
	}
	t.Cleanup(stop)
	addr = "http://" + hostport
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := hc.Get(addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, token, stop
			}
		}
		select {
		case <-done:
			t.Fatalf("vaultdev exited: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vaultdev did not become healthy: %v\n%s", err, stderr.String())
		}
	}
}

func TestSealedAndStoppedVault(t *testing.T) {
	addr, token, stop := startVaultdev(t)
	cfg := Config{Address: addr, Token: token, KEKs: map[string]string{"NL": "kek-nl"},
		EventKey: "event", CheckpointKey: "checkpoint", LogOrigin: testOrigin}
	m, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	aad := []byte("ev-1")
	dk, err := m.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatalf("NewDataKey: %v", err)
	}
	ev, _, err := m.EventSigner(t.Context())
	if err != nil {
		t.Fatalf("EventSigner: %v", err)
	}
	cp, _, err := m.CheckpointSigner(t.Context())
	if err != nil {
		t.Fatalf("CheckpointSigner: %v", err)
	}
	ops := func() map[string]error {
		_, e1 := m.NewDataKey(t.Context(), "NL", aad)
		_, e2 := m.UnwrapDataKey(t.Context(), dk.KeyRef, dk.Wrapped, aad)
		_, e3 := m.Rewrap(t.Context(), dk.KeyRef, dk.Wrapped, aad)
		e4 := m.Rotate(t.Context(), "NL")
		_, e5 := ev.SignMessage(bytes.NewReader([]byte("event")))
		_, e6 := cp.Sign([]byte("checkpoint\n"))
		_, e7 := m.EventKeys(t.Context())
		_, _, e8 := m.EventSigner(t.Context())
		_, e9 := New(t.Context(), cfg)
		return map[string]error{"NewDataKey": e1, "UnwrapDataKey": e2, "Rewrap": e3, "Rotate": e4,
			"event SignMessage": e5, "checkpoint Sign": e6, "EventKeys": e7, "EventSigner": e8, "New": e9}
	}

	if err := rawClient(t, addr, token).Sys().SealWithContext(t.Context()); err != nil {
		t.Fatalf("sealing: %v", err)
	}
	start := time.Now()
	for op, err := range ops() {
		wantUnavailable(t, "sealed: "+op, err, "sealed")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("sealed: operations took %v, want fast failures", d)
	}

	stop()
	start = time.Now()
	for op, err := range ops() {
		wantUnavailable(t, "stopped: "+op, err, "connection refused")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopped: operations took %v, want fast failures", d)
	}
}

func TestCallerCancellationIsNotUnavailability(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := checkErr(ctx, "http://vault", fmt.Errorf("request: %w", context.Canceled))
	if errors.Is(err, keys.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("checkErr after caller cancellation: got %v, want context.Canceled without keys.ErrUnavailable", err)
	}
}
