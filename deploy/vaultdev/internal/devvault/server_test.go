package devvault

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
)

const testToken = "test-root-token"

// startServer runs a Server over storage in dir ("" for memory) and returns
// it with a Vault API client logged in with the root token.
func startServer(t *testing.T, dir string) (*Server, *api.Client, *httptest.Server) {
	t.Helper()
	srv, err := New(t.Context(), Config{RootToken: testToken, DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close(t.Context())
	})
	client := newClient(t, hs.URL, testToken)
	return srv, client, hs
}

func newClient(t *testing.T, addr, token string) *api.Client {
	t.Helper()
	conf := api.DefaultConfig()
	conf.Address = addr
	conf.MaxRetries = 0
	c, err := api.NewClient(conf)
	if err != nil {
		t.Fatalf("api.NewClient: %v", err)
	}
	c.SetToken(token)
	return c
}

func mountTransit(t *testing.T, c *api.Client, path string) {
	t.Helper()
	if err := c.Sys().MountWithContext(t.Context(), path, &api.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("mounting transit at %s: %v", path, err)
	}
}

func write(t *testing.T, c *api.Client, path string, data map[string]any) map[string]any {
	t.Helper()
	s, err := c.Logical().WriteWithContext(t.Context(), path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	if s == nil {
		return nil
	}
	return s.Data
}

func statusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func TestMounts(t *testing.T) {
	_, c, hs := startServer(t, "")
	mountTransit(t, c, "transit")
	mounts, err := c.Sys().ListMountsWithContext(t.Context())
	if err != nil {
		t.Fatalf("ListMounts: %v", err)
	}
	if m := mounts["transit/"]; m == nil || m.Type != "transit" {
		t.Fatalf("mounts[transit/] = %+v, want a transit mount", m)
	}
	err = c.Sys().MountWithContext(t.Context(), "transit", &api.MountInput{Type: "transit"})
	if got := statusOf(err); got != http.StatusBadRequest {
		t.Errorf("mounting transit twice: status %d (%v), want 400", got, err)
	}
	err = c.Sys().MountWithContext(t.Context(), "kv", &api.MountInput{Type: "kv"})
	if got := statusOf(err); got != http.StatusBadRequest {
		t.Errorf("mounting kv: status %d (%v), want 400", got, err)
	}
	if err := c.Sys().UnmountWithContext(t.Context(), "transit"); err != nil {
		t.Fatalf("Unmount: %v", err)
	}
	if resp := rawRequest(t, http.MethodGet, hs.URL+"/v1/transit/keys/x", testToken, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("read after unmount: status %d, want 404", resp.StatusCode)
	}
}

func TestKeyTypesAndList(t *testing.T) {
	_, c, hs := startServer(t, "")
	mountTransit(t, c, "transit")
	for _, typ := range []string{"aes256-gcm96", "ecdsa-p256", "ed25519"} {
		write(t, c, "transit/keys/"+typ, map[string]any{"type": typ})
		s, err := c.Logical().ReadWithContext(t.Context(), "transit/keys/"+typ)
		if err != nil || s == nil {
			t.Fatalf("read key %s: %v, %v", typ, s, err)
		}
		if got := s.Data["type"]; got != typ {
			t.Errorf("key %s: type %v, want %s", typ, got, typ)
		}
	}
	s, err := c.Logical().ListWithContext(t.Context(), "transit/keys")
	if err != nil || s == nil {
		t.Fatalf("list keys: %v, %v", s, err)
	}
	if got := len(s.Data["keys"].([]any)); got != 3 {
		t.Errorf("listed %d keys, want 3", got)
	}
	// Both spellings of a list: the LIST method and GET ?list=true.
	for _, r := range []struct{ method, url string }{
		{"LIST", hs.URL + "/v1/transit/keys"},
		{http.MethodGet, hs.URL + "/v1/transit/keys?list=true"},
	} {
		resp := rawRequest(t, r.method, r.url, testToken, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s: status %d, want 200", r.method, r.url, resp.StatusCode)
		}
	}
	_, err = c.Logical().ReadWithContext(t.Context(), "transit/keys/missing")
	if got := statusOf(err); got != 0 || err != nil {
		// The api client turns a 404 on read into (nil, nil).
		t.Errorf("read missing key: status %d, err %v, want (nil, nil)", got, err)
	}
}

func TestDatakeyDecryptRotateRewrap(t *testing.T) {
	_, c, _ := startServer(t, "")
	mountTransit(t, c, "transit")
	write(t, c, "transit/keys/dek", map[string]any{"type": "aes256-gcm96"})

	dk := write(t, c, "transit/datakey/plaintext/dek", map[string]any{"bits": 256})
	plain, _ := dk["plaintext"].(string)
	ct, _ := dk["ciphertext"].(string)
	if raw, err := base64.StdEncoding.DecodeString(plain); err != nil || len(raw) != 32 {
		t.Fatalf("datakey plaintext: %d bytes, %v; want 32", len(raw), err)
	}
	if !strings.HasPrefix(ct, "vault:v1:") {
		t.Fatalf("datakey ciphertext %q, want prefix vault:v1:", ct)
	}
	if got := write(t, c, "transit/decrypt/dek", map[string]any{"ciphertext": ct})["plaintext"]; got != plain {
		t.Fatalf("decrypt: got %v, want the datakey plaintext", got)
	}

	write(t, c, "transit/keys/dek/rotate", nil)
	rw := write(t, c, "transit/rewrap/dek", map[string]any{"ciphertext": ct})
	ct2, _ := rw["ciphertext"].(string)
	if !strings.HasPrefix(ct2, "vault:v2:") {
		t.Fatalf("rewrapped ciphertext %q, want prefix vault:v2:", ct2)
	}
	if got := write(t, c, "transit/decrypt/dek", map[string]any{"ciphertext": ct2})["plaintext"]; got != plain {
		t.Fatalf("decrypt rewrapped: got %v, want the datakey plaintext", got)
	}

	// Retiring v1 makes the old ciphertext undecryptable: a 400, as in Vault.
	write(t, c, "transit/keys/dek/config", map[string]any{"min_decryption_version": 2})
	_, err := c.Logical().WriteWithContext(t.Context(), "transit/decrypt/dek", map[string]any{"ciphertext": ct})
	if got := statusOf(err); got != http.StatusBadRequest {
		t.Errorf("decrypt retired version: status %d (%v), want 400", got, err)
	}
}

func TestAssociatedData(t *testing.T) {
	_, c, _ := startServer(t, "")
	mountTransit(t, c, "transit")
	write(t, c, "transit/keys/ad", map[string]any{"type": "aes256-gcm96"})
	b64 := base64.StdEncoding.EncodeToString
	pt := b64([]byte("evidence data key"))
	ct := write(t, c, "transit/encrypt/ad", map[string]any{"plaintext": pt, "associated_data": b64([]byte("case-1/exhibit-7"))})["ciphertext"]
	got := write(t, c, "transit/decrypt/ad", map[string]any{"ciphertext": ct, "associated_data": b64([]byte("case-1/exhibit-7"))})["plaintext"]
	if got != pt {
		t.Fatalf("decrypt with the same associated data: got %v, want %v", got, pt)
	}
	_, err := c.Logical().WriteWithContext(t.Context(), "transit/decrypt/ad", map[string]any{"ciphertext": ct, "associated_data": b64([]byte("case-2/exhibit-7"))})
	if got := statusOf(err); got != http.StatusBadRequest {
		t.Errorf("decrypt with other associated data: status %d (%v), want 400", got, err)
	}
}

func TestSignVerify(t *testing.T) {
	_, c, _ := startServer(t, "")
	mountTransit(t, c, "transit")
	input := base64.StdEncoding.EncodeToString([]byte("custody event"))
	other := base64.StdEncoding.EncodeToString([]byte("forged event"))
	for _, typ := range []string{"ecdsa-p256", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			write(t, c, "transit/keys/"+typ, map[string]any{"type": typ})
			sig := write(t, c, "transit/sign/"+typ, map[string]any{"input": input})["signature"]
			if got := write(t, c, "transit/verify/"+typ, map[string]any{"input": input, "signature": sig})["valid"]; got != true {
				t.Errorf("verify: valid = %v, want true", got)
			}
			if got := write(t, c, "transit/verify/"+typ, map[string]any{"input": other, "signature": sig})["valid"]; got != false {
				t.Errorf("verify other input: valid = %v, want false", got)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	_, _, hs := startServer(t, "")
	for _, tok := range []string{"", "wrong"} {
		c := newClient(t, hs.URL, tok)
		_, err := c.Logical().ReadWithContext(t.Context(), "transit/keys/x")
		if got := statusOf(err); got != http.StatusForbidden {
			t.Errorf("token %q: status %d (%v), want 403", tok, got, err)
		}
	}
	resp := rawRequest(t, http.MethodGet, hs.URL+"/v1/auth/token/lookup-self", "", "")
	if body := readAll(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"errors":["permission denied"]`) {
		t.Errorf("no token: %d %s, want 403 with errors [permission denied]", resp.StatusCode, body)
	}
	if resp := rawRequest(t, http.MethodGet, hs.URL+"/v1/auth/token/lookup-self", testToken, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("lookup-self: status %d, want 200", resp.StatusCode)
	}
}

func TestSeal(t *testing.T) {
	srv, c, hs := startServer(t, "")
	mountTransit(t, c, "transit")
	if resp := rawRequest(t, http.MethodGet, hs.URL+"/v1/sys/health", "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("health unsealed: status %d, want 200", resp.StatusCode)
	}
	if err := c.Sys().SealWithContext(t.Context()); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if !srv.Sealed() {
		t.Fatal("server not sealed after sys/seal")
	}
	resp := rawRequest(t, http.MethodGet, hs.URL+"/v1/sys/health", "", "")
	if body := readAll(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"sealed":true`) {
		t.Errorf("health sealed: %d %s, want 503 with sealed true", resp.StatusCode, body)
	}
	h, err := c.Sys().HealthWithContext(t.Context())
	if err != nil || !h.Sealed {
		t.Errorf("api Health sealed: %+v, %v; want Sealed", h, err)
	}
	_, err = c.Logical().WriteWithContext(t.Context(), "transit/keys/k", nil)
	if got := statusOf(err); got != http.StatusServiceUnavailable {
		t.Errorf("write while sealed: status %d (%v), want 503", got, err)
	}
	resp = rawRequest(t, http.MethodGet, hs.URL+"/v1/transit/keys?list=true", "", "")
	if body := readAll(t, resp); resp.StatusCode != http.StatusServiceUnavailable || body != `{"errors":["Vault is sealed"]}` {
		t.Errorf("request without token while sealed: %d %s, want 503 Vault is sealed", resp.StatusCode, body)
	}
	if _, err := c.Sys().UnsealWithContext(t.Context(), "not-the-key"); statusOf(err) != http.StatusBadRequest {
		t.Errorf("unseal with a wrong key: %v, want 400", err)
	}
	st, err := c.Sys().UnsealWithContext(t.Context(), testToken)
	if err != nil || st.Sealed {
		t.Fatalf("Unseal: %+v, %v", st, err)
	}
	write(t, c, "transit/keys/k", nil)
}

func TestErrorsShape(t *testing.T) {
	_, c, hs := startServer(t, "")
	mountTransit(t, c, "transit")
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/v1/nomount/x", "", http.StatusNotFound},
		{http.MethodGet, "/v1/transit/keys/missing", "", http.StatusNotFound},
		{http.MethodPost, "/v1/transit/keys/bad", `{"type":"no-such-type"}`, http.StatusBadRequest},
		{http.MethodPost, "/v1/transit/decrypt/missing", `{"ciphertext":"vault:v1:AAAA"}`, http.StatusBadRequest},
		{http.MethodPost, "/v1/transit/keys/x", `{not json`, http.StatusBadRequest},
		{http.MethodDelete, "/v1/transit/keys/missing", "", http.StatusBadRequest},
	} {
		resp := rawRequest(t, tc.method, hs.URL+tc.path, testToken, tc.body)
		body := readAll(t, resp)
		if resp.StatusCode != tc.want || !strings.HasPrefix(body, `{"errors":[`) {
			t.Errorf("%s %s: %d %s, want %d with an errors array", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
	}
}

func TestDeleteKey(t *testing.T) {
	_, c, _ := startServer(t, "")
	mountTransit(t, c, "transit")
	write(t, c, "transit/keys/gone", nil)
	write(t, c, "transit/keys/gone/config", map[string]any{"deletion_allowed": true})
	if _, err := c.Logical().DeleteWithContext(t.Context(), "transit/keys/gone"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if s, err := c.Logical().ReadWithContext(t.Context(), "transit/keys/gone"); s != nil || err != nil {
		t.Errorf("read deleted key: %v, %v; want nothing", s, err)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	srv1, c1, hs1 := startServer(t, dir)
	mountTransit(t, c1, "transit")
	write(t, c1, "transit/keys/p", nil)
	write(t, c1, "transit/keys/p/rotate", nil)
	pt := base64.StdEncoding.EncodeToString([]byte("kept across restarts"))
	ct := write(t, c1, "transit/encrypt/p", map[string]any{"plaintext": pt})["ciphertext"]
	hs1.Close()
	srv1.Close(t.Context())

	_, c2, _ := startServer(t, dir)
	if got := write(t, c2, "transit/decrypt/p", map[string]any{"ciphertext": ct})["plaintext"]; got != pt {
		t.Fatalf("decrypt after restart: got %v, want %v", got, pt)
	}
	s, err := c2.Logical().ReadWithContext(t.Context(), "transit/keys/p")
	if err != nil || s == nil {
		t.Fatalf("read key after restart: %v, %v", s, err)
	}
	if got := s.Data["latest_version"]; got != jsonNumber("2") {
		t.Errorf("latest_version after restart = %v, want 2", got)
	}
}

func rawRequest(t *testing.T, method, url, token, body string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = bytes.NewBufferString(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return strings.TrimSpace(string(b))
}

func jsonNumber(s string) any { return json.Number(s) }
