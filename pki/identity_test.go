package pki

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newTestIdentity returns a valid identity issued by ca.
func newTestIdentity(t testing.TB, ca *CA) Identity {
	t.Helper()
	certPEM, keyPEM := issueClient(t, ca)
	return Identity{CertPEM: certPEM, KeyPEM: keyPEM, CAPEM: ca.CertPEM(), GatewayURL: "https://127.0.0.1:8443"}
}

func TestIdentityRoundTrip(t *testing.T) {
	ca := newTestCA(t)
	id := newTestIdentity(t, ca)
	dir := filepath.Join(t.TempDir(), "alice")
	if err := WriteIdentity(dir, id); err != nil {
		t.Fatalf("WriteIdentity: %v", err)
	}
	got, err := LoadIdentity(dir)
	if err != nil {
		t.Fatalf("LoadIdentity: %v", err)
	}
	for _, f := range []struct {
		name      string
		got, want []byte
	}{
		{"CertPEM", got.CertPEM, id.CertPEM},
		{"KeyPEM", got.KeyPEM, id.KeyPEM},
		{"CAPEM", got.CAPEM, id.CAPEM},
	} {
		if !bytes.Equal(f.got, f.want) {
			t.Errorf("%s: got %q, want %q", f.name, f.got, f.want)
		}
	}
	if got, want := got.GatewayURL, id.GatewayURL; got != want {
		t.Errorf("GatewayURL: got %q, want %q", got, want)
	}

	checkMode(t, dir, 0o700)
	checkMode(t, filepath.Join(dir, IdentityKeyFile), 0o600)
	checkMode(t, filepath.Join(dir, IdentityCertFile), 0o644)
	checkMode(t, filepath.Join(dir, IdentityCAFile), 0o644)
	checkMode(t, filepath.Join(dir, IdentityGatewayFile), 0o644)

	// Writing again replaces the identity.
	id2 := newTestIdentity(t, ca)
	id2.GatewayURL = "https://gateway.example"
	if err := WriteIdentity(dir, id2); err != nil {
		t.Fatalf("WriteIdentity (replace): %v", err)
	}
	got, err = LoadIdentity(dir)
	if err != nil {
		t.Fatalf("LoadIdentity (replaced): %v", err)
	}
	if !bytes.Equal(got.CertPEM, id2.CertPEM) || got.GatewayURL != id2.GatewayURL {
		t.Errorf("replaced identity: got gateway %q, want %q and the new certificate", got.GatewayURL, id2.GatewayURL)
	}
	checkMode(t, filepath.Join(dir, IdentityKeyFile), 0o600)
}

func TestLoadIdentityMissingFile(t *testing.T) {
	ca := newTestCA(t)
	for _, name := range []string{IdentityCertFile, IdentityKeyFile, IdentityCAFile, IdentityGatewayFile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteIdentity(dir, newTestIdentity(t, ca)); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			_, err := LoadIdentity(dir)
			if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), name) {
				t.Errorf("LoadIdentity: got error %v, want fs.ErrNotExist naming %s", err, name)
			}
		})
	}
}

func TestLoadIdentityInvalidFile(t *testing.T) {
	ca := newTestCA(t)
	_, otherKey := issueClient(t, ca)
	tests := []struct {
		name    string
		file    string
		data    []byte
		wantErr string
	}{
		{"certificate not PEM", IdentityCertFile, []byte("junk"), "cert.pem: no PEM CERTIFICATE block"},
		{"key not PEM", IdentityKeyFile, []byte("junk"), "key.pem: no PEM PRIVATE KEY block"},
		{"key not a key", IdentityKeyFile, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "key.pem: cannot parse"},
		{"key of another certificate", IdentityKeyFile, otherKey, "cert.pem and key.pem do not form a key pair"},
		{"CA not PEM", IdentityCAFile, []byte("junk"), "ca.pem: no valid PEM CERTIFICATE block"},
		{"gateway empty", IdentityGatewayFile, []byte("\n"), "gateway: gateway URL is empty"},
		{"gateway plain http", IdentityGatewayFile, []byte("http://127.0.0.1:8080\n"), "gateway: gateway URL \"http://127.0.0.1:8080\" is not an https URL"},
		{"gateway without host", IdentityGatewayFile, []byte("https:///x\n"), "is not an https URL with a host"},
		{"gateway with query", IdentityGatewayFile, []byte("https://127.0.0.1?a=b\n"), "has user info, a query or a fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteIdentity(dir, newTestIdentity(t, ca)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tt.file), tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadIdentity(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadIdentity: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWriteIdentityRejectsInvalid(t *testing.T) {
	ca := newTestCA(t)
	id := newTestIdentity(t, ca)
	id.GatewayURL = "ftp://127.0.0.1"
	dir := filepath.Join(t.TempDir(), "id")
	err := WriteIdentity(dir, id)
	if err == nil || !strings.Contains(err.Error(), IdentityGatewayFile) {
		t.Errorf("WriteIdentity: got error %v, want one naming %s", err, IdentityGatewayFile)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("identity directory after a rejected write: got stat error %v, want fs.ErrNotExist", err)
	}
}

func TestIdentityTLSConfig(t *testing.T) {
	ca := newTestCA(t)
	id := newTestIdentity(t, ca)
	cfg, err := id.TLSConfig()
	if err != nil {
		t.Fatalf("TLSConfig: %v", err)
	}
	if got, want := cfg.MinVersion, uint16(tls.VersionTLS13); got != want {
		t.Errorf("MinVersion: got %#x, want %#x", got, want)
	}
	if got, want := len(cfg.Certificates), 1; got != want {
		t.Errorf("certificates: got %d, want %d", got, want)
	}
	if cfg.RootCAs == nil {
		t.Errorf("RootCAs: got nil, want the identity's CA pool")
	}

	bad := id
	bad.CAPEM = []byte("junk")
	if _, err := bad.TLSConfig(); err == nil {
		t.Errorf("TLSConfig with a junk CA: got no error, want one")
	}
	bad = id
	bad.KeyPEM = nil
	if _, err := bad.TLSConfig(); err == nil {
		t.Errorf("TLSConfig without a key: got no error, want one")
	}
}

func TestIdentityLogValue(t *testing.T) {
	ca := newTestCA(t)
	id := newTestIdentity(t, ca)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "identity", id)
	out := buf.String()
	if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, string(id.KeyPEM[30:60])) {
		t.Errorf("log output contains the private key: %s", out)
	}
	for _, want := range []string{"identity.subject=", "CN=alice", "identity.gateway=https://127.0.0.1:8443", "identity.key=REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output: got %q, want it to contain %q", out, want)
		}
	}
}

// FuzzIdentityValidate checks that Validate does not panic on any input, and that an
// identity it accepts yields a TLS configuration.
func FuzzIdentityValidate(f *testing.F) {
	ca := newTestCA(f)
	id := newTestIdentity(f, ca)
	f.Add(id.CertPEM, id.KeyPEM, id.CAPEM, id.GatewayURL)
	f.Add([]byte("junk"), id.KeyPEM, id.CAPEM, "https://[::1]:8443")
	f.Add(id.CertPEM, []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), id.CAPEM, "https://x")
	f.Fuzz(func(t *testing.T, certPEM, keyPEM, caPEM []byte, gateway string) {
		id := Identity{CertPEM: certPEM, KeyPEM: keyPEM, CAPEM: caPEM, GatewayURL: gateway}
		if id.Validate() != nil {
			return
		}
		if _, err := id.TLSConfig(); err != nil {
			t.Errorf("TLSConfig of a valid identity: %v", err)
		}
	})
}
