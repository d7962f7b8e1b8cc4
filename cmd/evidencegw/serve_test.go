package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/pki"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeOpsListener runs the embedded default in-process: the metrics and probes
// are on the operations listener, in plain HTTP without a certificate, and a member
// asking the mutual-TLS API for /metrics gets 404.
func TestServeOpsListener(t *testing.T) {
	dir := t.TempDir()
	apiAddr, ops := freeAddr(t), freeAddr(t)
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte("listen: "+apiAddr+"\nops_listen: "+ops+"\n"), 0o600); err != nil {
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

	get := func(c *http.Client, url string) (int, string) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := plain.Get("http://" + ops + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the operations listener did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(plain, "http://"+ops+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz on the operations listener: got %d %s, want 200", code, body)
	}

	id, err := pki.LoadIdentity(filepath.Join(dir, "data", "identities", "partner-us"))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := id.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	partner := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	code, body := get(partner, id.GatewayURL+"/metrics")
	var p api.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || code != http.StatusNotFound || p.Kind() != api.ProblemNotFound {
		t.Errorf("a partner's GET /metrics on the API: got %d %s, want 404 not-found", code, body)
	}
	if code, _ := get(partner, id.GatewayURL+"/v1/whoami"); code != http.StatusOK {
		t.Errorf("a partner's whoami: got %d, want 200", code)
	}
	code, body = get(plain, "http://"+ops+"/metrics")
	for _, want := range []string{`evidencegw_http_requests_total{method="GET",route="/v1/whoami",status="2xx"} 1`, "evidencegw_http_connections "} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics on the operations listener: got %d, want 200 with %s", code, want)
		}
	}
}

// TestListenOps: an operations address the configuration sets must be bound; the
// default one, taken, is logged and skipped; "" is no listener.
func TestListenOps(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	if _, err := listenOps(t.Context(), Config{OpsListen: &addr}, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "ops_listen") {
		t.Errorf("a set address that is taken: got %v, want an error naming ops_listen", err)
	}
	off := ""
	if ln, err := listenOps(t.Context(), Config{OpsListen: &off}, slog.New(slog.DiscardHandler)); ln != nil || err != nil {
		t.Errorf(`ops_listen "": got %v, %v, want no listener and no error`, ln, err)
	}
	// The default address, taken by this test or by another gateway.
	if ln, err := net.Listen("tcp", DefaultOpsListen); err == nil {
		defer ln.Close()
	}
	var logs strings.Builder
	ln, err := listenOps(t.Context(), Config{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if ln != nil || err != nil {
		t.Errorf("the default address taken: got %v, %v, want no listener and no error", ln, err)
	}
	if !strings.Contains(logs.String(), "default address is taken") {
		t.Errorf("the skipped listener is not logged: %s", logs.String())
	}
}
