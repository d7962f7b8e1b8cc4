package vault

// These tests run against a real Vault Transit engine: the vaultdev server that
// deploy/local/up starts. EVIDENCEGW_VAULT_ADDR and EVIDENCEGW_VAULT_TOKEN_FILE locate
// it (defaults: the local stack). When it is unreachable the tests skip, except under
// CI=true, where they fail. Each test uses fresh key names and deletes its keys.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/evidencegw/evidencegw/keys"
)

const (
	defaultTestAddr      = "http://127.0.0.1:8200"
	defaultTestTokenFile = "/var/lib/evidencegw-stack/vault-token"
	testOrigin           = "test.evidencegw.example/log"
)

// testVault returns the address and token of the test Vault, skipping the test (or
// failing it under CI=true) when it is not reachable.
func testVault(t *testing.T) (addr, token string) {
	t.Helper()
	addr = envOr("EVIDENCEGW_VAULT_ADDR", defaultTestAddr)
	tokenFile := envOr("EVIDENCEGW_VAULT_TOKEN_FILE", defaultTestTokenFile)
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		unavailable(t, "reading Vault token: %v", err)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get(addr + "/v1/sys/health")
	if err != nil {
		unavailable(t, "Vault at %s: %v", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		unavailable(t, "Vault at %s: sys/health answered %s", addr, resp.Status)
	}
	return addr, strings.TrimSpace(string(tok))
}

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("test Vault unavailable (start it with deploy/local/up): "+format, args...)
	}
	t.Skipf("test Vault unavailable (start it with deploy/local/up): "+format, args...)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// testConfig returns a Config with fresh key names, and deletes those keys when the
// test ends.
func testConfig(t *testing.T, addr, token string) Config {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	p := "test-" + hex.EncodeToString(b[:]) + "-"
	cfg := Config{
		Address:       addr,
		Token:         token,
		KEKs:          map[string]string{"NL": p + "kek-nl", "US": p + "kek-us"},
		EventKey:      p + "event",
		CheckpointKey: p + "checkpoint",
		LogOrigin:     testOrigin,
	}
	t.Cleanup(func() {
		c := rawClient(t, addr, token)
		for _, k := range []string{cfg.KEKs["NL"], cfg.KEKs["US"], cfg.EventKey, cfg.CheckpointKey} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := c.Logical().WriteWithContext(ctx, "transit/keys/"+k+"/config", map[string]any{"deletion_allowed": true})
			if err == nil {
				_, err = c.Logical().DeleteWithContext(ctx, "transit/keys/"+k)
			}
			cancel()
			if err != nil && !strings.Contains(err.Error(), "no existing key") {
				t.Logf("deleting test key %s: %v", k, err)
			}
		}
	})
	return cfg
}

// rawClient is a Vault client for what the package does not do (rotating the
// signing keys, cleaning up).
func rawClient(t *testing.T, addr, token string) *api.Client {
	t.Helper()
	c, err := newClient(addr, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestManager(t *testing.T) (*Manager, Config) {
	t.Helper()
	addr, token := testVault(t)
	cfg := testConfig(t, addr, token)
	m, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, cfg
}

func TestDataKeyRoundTrip(t *testing.T) {
	m, cfg := newTestManager(t)
	aad := []byte("ev-1")
	dk, err := m.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatalf("NewDataKey: %v", err)
	}
	if want := "vault:transit/" + cfg.KEKs["NL"]; dk.KeyRef != want {
		t.Errorf("KeyRef = %q, want %q", dk.KeyRef, want)
	}
	if !bytes.HasPrefix(dk.Wrapped, []byte("vault:v1:")) {
		t.Errorf("Wrapped = %q, want a vault:v1: ciphertext", dk.Wrapped)
	}
	if len(dk.Plaintext) != 32 {
		t.Fatalf("plaintext is %d bytes, want 32", len(dk.Plaintext))
	}
	got, err := m.UnwrapDataKey(t.Context(), dk.KeyRef, dk.Wrapped, aad)
	if err != nil {
		t.Fatalf("UnwrapDataKey: %v", err)
	}
	if !bytes.Equal(got, dk.Plaintext) {
		t.Errorf("unwrapped key differs from the generated one")
	}
	dk2, err := m.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatalf("second NewDataKey: %v", err)
	}
	if bytes.Equal(dk2.Plaintext, dk.Plaintext) {
		t.Errorf("two data keys are equal")
	}
	// Empty aad is allowed, as in the local key manager.
	dk3, err := m.NewDataKey(t.Context(), "US", nil)
	if err != nil {
		t.Fatalf("NewDataKey with empty aad: %v", err)
	}
	if _, err := m.UnwrapDataKey(t.Context(), dk3.KeyRef, dk3.Wrapped, nil); err != nil {
		t.Errorf("UnwrapDataKey with empty aad: %v", err)
	}
}

func TestUnwrapRefused(t *testing.T) {
	m, cfg := newTestManager(t)
	aad := []byte("ev-1")
	dk, err := m.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatalf("NewDataKey: %v", err)
	}
	altered := bytes.Clone(dk.Wrapped)
	altered[len(altered)-3] ^= 'A' ^ 'B'
	if altered[len(altered)-3] == dk.Wrapped[len(altered)-3] {
		t.Fatal("alteration did not change the wrapped key")
	}
	tests := []struct {
		name    string
		keyRef  string
		wrapped []byte
		aad     []byte
	}{
		{"wrong aad", dk.KeyRef, dk.Wrapped, []byte("ev-2")},
		{"empty aad", dk.KeyRef, dk.Wrapped, nil},
		{"altered wrapped key", dk.KeyRef, altered, aad},
		{"other jurisdiction's key", m.keyRef(cfg.KEKs["US"]), dk.Wrapped, aad},
		{"local key ref", keys.LocalKEKRef, dk.Wrapped, aad},
		{"unconfigured key", "vault:transit/not-ours", dk.Wrapped, aad},
		{"other mount", "vault:other/" + cfg.KEKs["NL"], dk.Wrapped, aad},
		{"not a ciphertext", dk.KeyRef, []byte("garbage"), aad},
		{"unknown version", dk.KeyRef, append([]byte("vault:v9:"), dk.Wrapped[len("vault:v1:"):]...), aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := m.UnwrapDataKey(t.Context(), tt.keyRef, tt.wrapped, tt.aad)
			t.Logf("UnwrapDataKey: %v", err)
			if !errors.Is(err, keys.ErrUnwrap) {
				t.Errorf("UnwrapDataKey: got key %v, error %v; want keys.ErrUnwrap", key != nil, err)
			}
			if errors.Is(err, keys.ErrUnavailable) {
				t.Errorf("UnwrapDataKey: error %v wraps keys.ErrUnavailable", err)
			}
		})
	}
}

func TestRotateRewrap(t *testing.T) {
	m, _ := newTestManager(t)
	aad := []byte("ev-rot")
	old, err := m.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatalf("NewDataKey: %v", err)
	}
	if err := m.Rotate(t.Context(), "NL"); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	fresh, err := m.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatalf("NewDataKey after rotation: %v", err)
	}
	if !bytes.HasPrefix(fresh.Wrapped, []byte("vault:v2:")) || fresh.KeyRef != old.KeyRef {
		t.Errorf("after rotation: got %q under %q, want a vault:v2: ciphertext under %q", fresh.Wrapped, fresh.KeyRef, old.KeyRef)
	}
	rewrapped, err := m.Rewrap(t.Context(), old.KeyRef, old.Wrapped, aad)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if !bytes.HasPrefix(rewrapped, []byte("vault:v2:")) {
		t.Errorf("Rewrap = %q, want a vault:v2: ciphertext", rewrapped)
	}
	for name, w := range map[string][]byte{"rewrapped": rewrapped, "old": old.Wrapped} {
		got, err := m.UnwrapDataKey(t.Context(), old.KeyRef, w, aad)
		if err != nil {
			t.Fatalf("UnwrapDataKey(%s): %v", name, err)
		}
		if !bytes.Equal(got, old.Plaintext) {
			t.Errorf("UnwrapDataKey(%s): key differs from the original", name)
		}
	}
	if _, err := m.UnwrapDataKey(t.Context(), old.KeyRef, rewrapped, []byte("ev-other")); !errors.Is(err, keys.ErrUnwrap) {
		t.Errorf("UnwrapDataKey(rewrapped, other aad): got %v, want keys.ErrUnwrap", err)
	}
	if _, err := m.Rewrap(t.Context(), old.KeyRef, old.Wrapped, []byte("ev-other")); !errors.Is(err, keys.ErrUnwrap) {
		t.Errorf("Rewrap with other aad: got %v, want keys.ErrUnwrap", err)
	}
}

func TestUnknownJurisdiction(t *testing.T) {
	m, _ := newTestManager(t)
	if _, err := m.NewDataKey(t.Context(), "FR", []byte("ev-1")); !errors.Is(err, ErrUnknownJurisdiction) {
		t.Errorf("NewDataKey(FR): got %v, want ErrUnknownJurisdiction", err)
	}
	if _, err := m.NewDataKey(t.Context(), "", []byte("ev-1")); !errors.Is(err, ErrUnknownJurisdiction) {
		t.Errorf(`NewDataKey(""): got %v, want ErrUnknownJurisdiction`, err)
	}
	if err := m.Rotate(t.Context(), "FR"); !errors.Is(err, ErrUnknownJurisdiction) {
		t.Errorf("Rotate(FR): got %v, want ErrUnknownJurisdiction", err)
	}
}

func TestNewRefusesWrongKeyType(t *testing.T) {
	addr, token := testVault(t)
	cfg := testConfig(t, addr, token)
	// A key-encryption key created outside the package without derivation cannot
	// bind aad: New must refuse it rather than use it.
	c := rawClient(t, addr, token)
	if _, err := c.Logical().WriteWithContext(t.Context(), "transit/keys/"+cfg.KEKs["NL"], map[string]any{"type": "aes256-gcm96"}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "derived=false") {
		t.Errorf("New with a non-derived key-encryption key: got %v, want a type error", err)
	}
}

func TestConfigValidation(t *testing.T) {
	good := Config{Address: "http://127.0.0.1:1", Token: "t", KEKs: map[string]string{"NL": "k"},
		EventKey: "e", CheckpointKey: "c", LogOrigin: testOrigin}
	tests := []struct {
		name   string
		modify func(*Config)
	}{
		{"no address", func(c *Config) { c.Address = "" }},
		{"no token", func(c *Config) { c.Token = "" }},
		{"no KEKs", func(c *Config) { c.KEKs = nil }},
		{"bad origin", func(c *Config) { c.LogOrigin = "a b" }},
		{"same signing keys", func(c *Config) { c.CheckpointKey = c.EventKey }},
		{"KEK is event key", func(c *Config) { c.KEKs = map[string]string{"NL": "e"} }},
		{"bad key name", func(c *Config) { c.EventKey = "a/b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			cfg.KEKs = map[string]string{"NL": "k"}
			tt.modify(&cfg)
			_, err := New(t.Context(), cfg)
			if err == nil || errors.Is(err, keys.ErrUnavailable) {
				t.Errorf("New: got %v, want a configuration error", err)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	m, _ := newTestManager(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := m.NewDataKey(ctx, "NL", []byte("ev-1"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("NewDataKey with a cancelled context: got %v, want context.Canceled and not keys.ErrUnavailable", err)
	}
}
