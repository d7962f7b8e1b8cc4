package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/pki"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// runTest runs a client command with env and returns its output and error.
func runTest(t *testing.T, env clientEnv, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd, ok := clientCommands[name]
	if !ok {
		t.Fatalf("no client command %q", name)
	}
	var out, errb bytes.Buffer
	err = cmd.run(t.Context(), newInvocation(name, cmd.synopsis, &out, &errb, env), args)
	return out.String(), errb.String(), err
}

func testEnv(identity string) clientEnv {
	return clientEnv{
		getenv: func(k string) string {
			if k == identityEnv {
				return identity
			}
			return ""
		},
		now: func() time.Time { return testNow },
	}
}

func TestParseExpires(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-12-31", want: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		{in: "2026-06-01", want: time.Date(2026, 6, 1, 23, 59, 59, 0, time.UTC)},
		{in: "2026-12-31T18:00:00+02:00", want: time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)},
		{in: "2026-07-01T00:00:00Z", want: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-05-31", wantErr: true},           // past
		{in: "2026-06-01T12:00:00Z", wantErr: true}, // now
		{in: "31/12/2026", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseExpires(tt.in, testNow)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !got.Equal(tt.want)) {
			t.Errorf("parseExpires(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("parseExpires(%q) location %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestClientUsageErrors(t *testing.T) {
	env := testEnv("")
	withID := testEnv(t.TempDir())
	tests := []struct {
		name string
		env  clientEnv
		cmd  string
		args []string
		want string
	}{
		{"upload without file", withID, "upload", []string{"--case", "C1"}, "missing FILE"},
		{"upload two files", withID, "upload", []string{"a", "--case", "C1", "b"}, `unexpected argument "b"`},
		{"upload without case", withID, "upload", []string{"a"}, "--case is required"},
		{"upload flag without value", withID, "upload", []string{"a", "--case"}, "flag needs an argument"},
		{"upload without identity", env, "upload", []string{"a", "--case", "C1"}, "no identity"},
		{"share without expiry", withID, "share", []string{"ev-x", "--to", "us", "--legal-basis", "MLAT"}, "--expires is required"},
		{"share expired", withID, "share", []string{"ev-x", "--to", "us", "--legal-basis", "MLAT", "--expires", "2020-01-01"}, "not in the future"},
		{"share bad date", withID, "share", []string{"ev-x", "--expires", "tomorrow", "--to", "us", "--legal-basis", "MLAT"}, "neither a date"},
		{"share unknown flag", withID, "share", []string{"ev-x", "--too", "us"}, "flag provided but not defined"},
		{"download without -o", withID, "download", []string{"ev-x"}, "-o FILE is required"},
		{"revoke without grant", withID, "revoke", []string{"ev-x"}, "--grant is required"},
		{"whoami with argument", withID, "whoami", []string{"me"}, `unexpected argument "me"`},
		{"show without id", withID, "show", nil, "missing EVIDENCE-ID"},
		{"trust-root without -o", withID, "trust-root", nil, "-o FILE is required"},
		{"verify without trust root", env, "verify", []string{"bundle.json"}, "--trust-root is required"},
		{"verify without bundle", env, "verify", []string{"--trust-root", "tr.json"}, "missing BUNDLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runTest(t, tt.env, tt.cmd, tt.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v (%T), want a usageError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestVerifyReadFailureIsNotUsage(t *testing.T) {
	dir := t.TempDir()
	_, _, err := runTest(t, testEnv(""), "verify", filepath.Join(dir, "missing.json"), "--trust-root", filepath.Join(dir, "tr.json"))
	var ue usageError
	if err == nil || errors.As(err, &ue) {
		t.Fatalf("verify of missing files: error %v, want a plain error", err)
	}
}

// cliGateway fakes the two endpoints the flag-order tests call.
type cliGateway struct {
	mu    sync.Mutex
	query string
	share api.ShareRequest
}

func (g *cliGateway) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/evidence", func(w http.ResponseWriter, r *http.Request) {
		sum, _ := api.ParseDigest(r.Header.Get(api.HeaderContentDigest))
		g.mu.Lock()
		g.query = r.URL.RawQuery
		g.mu.Unlock()
		writeTestJSON(w, http.StatusCreated, api.UploadResult{
			Evidence: api.EvidenceView{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", CaseID: r.URL.Query().Get("case_id"), SHA256: hex.EncodeToString(sum)},
			Custody:  api.CustodyReceipt{Seq: 0, Action: "register", LogIndex: 7},
		})
	})
	mux.HandleFunc("POST /v1/evidence/{id}/grants", func(w http.ResponseWriter, r *http.Request) {
		var req api.ShareRequest
		json.NewDecoder(r.Body).Decode(&req)
		g.mu.Lock()
		g.share = req
		g.mu.Unlock()
		writeTestJSON(w, http.StatusCreated, api.GrantResult{
			Grant:   api.GrantView{GrantID: "gr-abcdefghijklmnop", To: req.To, LegalBasis: req.LegalBasis, Expires: req.Expires, MaxDownloads: req.MaxDownloads, State: api.GrantActive},
			Custody: api.CustodyReceipt{Seq: 1, Action: "share", LogIndex: 8},
		})
	})
	return mux
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.JSONMediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// startCLIGateway starts a fake gateway under mutual TLS and writes a client identity
// for it; it returns the gateway and the identity directory.
func startCLIGateway(t *testing.T) (*cliGateway, string) {
	t.Helper()
	ca, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueServer([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := pki.ServerTLSConfig(certPEM, keyPEM, ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	g := &cliGateway{}
	srv := httptest.NewUnstartedServer(g.handler())
	srv.TLS = serverTLS
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert, key, err := ca.IssueClient(pkix.Name{CommonName: "alice", Organization: []string{"police-fr"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "alice")
	if err := pki.WriteIdentity(dir, pki.Identity{CertPEM: cert, KeyPEM: key, CAPEM: ca.CertPEM(), GatewayURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	return g, dir
}

func TestUploadFlagOrder(t *testing.T) {
	g, idDir := startCLIGateway(t)
	file := filepath.Join(t.TempDir(), "phone.bin")
	content := []byte("phone extraction")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	orders := [][]string{
		{"--identity", idDir, "--case", "CASE-7", "--json", file},
		{file, "--case", "CASE-7", "--json", "--identity", idDir},
		{"--case=CASE-7", file, "--identity", idDir, "--json"},
	}
	for _, args := range orders {
		stdout, _, err := runTest(t, testEnv(""), "upload", args...)
		if err != nil {
			t.Fatalf("upload %q: %v", args, err)
		}
		var out struct {
			EvidenceID string             `json:"evidence_id"`
			CaseID     string             `json:"case_id"`
			SHA256     string             `json:"sha256"`
			Custody    api.CustodyReceipt `json:"custody"`
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("upload %q: output is not JSON: %v\n%s", args, err, stdout)
		}
		if out.EvidenceID == "" || out.CaseID != "CASE-7" || out.SHA256 != hex.EncodeToString(sum[:]) || out.Custody.Action != "register" {
			t.Errorf("upload %q: output %+v, want evidence id, case CASE-7, the file's digest and the register event", args, out)
		}
		if g.query != "case_id=CASE-7" {
			t.Errorf("upload %q: gateway got query %q, want case_id=CASE-7", args, g.query)
		}
	}
}

func TestShareCommand(t *testing.T) {
	g, idDir := startCLIGateway(t)
	stdout, _, err := runTest(t, testEnv(idDir), "share", "--to", "agency-us", "ev-abcdefghijklmnopqrstuvwxyz",
		"--legal-basis", "MLAT 2026/17", "--expires", "2026-12-31", "--max-downloads", "3", "--json")
	if err != nil {
		t.Fatalf("share: %v", err)
	}
	want := api.ShareRequest{To: "agency-us", LegalBasis: "MLAT 2026/17", Expires: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), MaxDownloads: 3}
	if g.share != want {
		t.Errorf("gateway got %+v, want %+v", g.share, want)
	}
	var out struct {
		GrantID    string `json:"grant_id"`
		EvidenceID string `json:"evidence_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.GrantID != "gr-abcdefghijklmnop" || out.EvidenceID == "" {
		t.Errorf("output %s (%v), want an object with grant_id and evidence_id", stdout, err)
	}

	stdout, _, err = runTest(t, testEnv(idDir), "share", "ev-abcdefghijklmnopqrstuvwxyz", "--to", "agency-us",
		"--legal-basis", "EIO 12", "--expires", "2026-12-31T10:00:00Z", "--view-only")
	if err != nil {
		t.Fatalf("share: %v", err)
	}
	for _, w := range []string{"granted grant gr-abcdefghijklmnop", "agency-us", `"EIO 12"`, "custody: event 1 (share)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}
