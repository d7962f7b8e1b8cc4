package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/x509/pkix"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/pki"
)

func TestBundleCaseFormat(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	ev := custody.Event{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", CaseID: "C1", Action: custody.ActionRegister, Time: time.Unix(1700000000, 0).UTC(),
		Actor:   custody.Party{Agency: "police-fr", Jurisdiction: "FR"},
		Exhibit: &custody.Exhibit{SHA256: sum, Size: 3, TagKey: hex.EncodeToString(make([]byte, 32))},
		Storage: &custody.StorageFacts{Location: "mem://x", CiphertextSHA256: sum}}
	p, _ := custody.NewStatement(sum, ev).Marshal()
	b := &custody.Bundle{Events: []custody.BundleEntry{{Envelope: custody.Envelope{PayloadType: custody.PayloadType, Payload: base64.StdEncoding.EncodeToString(p), Signatures: []custody.Signature{{KeyID: "k", Sig: "AA=="}}},
		Proof: "c2sp.org/tlog-proof@v1\nindex 4\n\norigin.test\n5\nAAAA\n"}}}
	raw, _ := b.Marshal()
	ca, _ := pki.OpenDevCA(t.TempDir())
	certPEM, keyPEM, _ := ca.IssueServer([]string{"127.0.0.1"}, time.Hour)
	serverTLS, _ := pki.ServerTLSConfig(certPEM, keyPEM, ca.Pool())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/evidence/{id}/bundle", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", custody.BundleMediaType)
		w.Write(raw)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = serverTLS
	srv.StartTLS()
	defer srv.Close()
	cert, key, _ := ca.IssueClient(pkix.Name{CommonName: "alice", Organization: []string{"police-fr"}}, time.Hour)
	dir := filepath.Join(t.TempDir(), "alice")
	pki.WriteIdentity(dir, pki.Identity{CertPEM: cert, KeyPEM: key, CAPEM: ca.CertPEM(), GatewayURL: srv.URL})

	out := filepath.Join(t.TempDir(), "chain.jsonld")
	stdout, stderr, code := runCLI(t, testEnv(dir), "bundle", "ev-abcdefghijklmnopqrstuvwxyz", "--format", "case-jsonld", "-o", out)
	if code != exitOK {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	t.Log(stdout)
	data, _ := os.ReadFile(out)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["@graph"] == nil {
		t.Fatalf("not JSON-LD: %v\n%s", err, data)
	}
	out2 := filepath.Join(t.TempDir(), "b.json")
	stdout, stderr, code = runCLI(t, testEnv(dir), "bundle", "ev-abcdefghijklmnopqrstuvwxyz", "-o", out2, "--json")
	if code != exitOK {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	t.Log(stdout)
	got, _ := os.ReadFile(out2)
	if string(got) != string(raw) {
		t.Error("default format changed")
	}
	_, stderr, code = runCLI(t, testEnv(dir), "bundle", "ev-abcdefghijklmnopqrstuvwxyz", "-o", out2+"x", "--format", "xml")
	if code != exitUsage {
		t.Errorf("bad format: exit code %d, want %d: %s", code, exitUsage, stderr)
	}
	t.Log(stderr)
}
