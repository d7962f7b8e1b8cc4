package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"testing"
	"time"
)

// testValidity is the validity of certificates issued in tests.
const testValidity = time.Hour

// newTestCA opens a new development CA in a temporary directory.
func newTestCA(t testing.TB) *CA {
	t.Helper()
	ca, err := OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatalf("OpenDevCA: %v", err)
	}
	return ca
}

// testClientSubject is the subject of client certificates issued in tests.
var testClientSubject = pkix.Name{
	CommonName:         "alice",
	OrganizationalUnit: []string{"forensics"},
	Organization:       []string{"Example Police"},
	Country:            []string{"NL"},
}

// issueClient issues a client certificate for testClientSubject.
func issueClient(t testing.TB, ca *CA) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := ca.IssueClient(testClientSubject, testValidity)
	if err != nil {
		t.Fatalf("IssueClient: %v", err)
	}
	return certPEM, keyPEM
}

// issueServer issues a server certificate for the loopback addresses and localhost.
func issueServer(t testing.TB, ca *CA) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := ca.IssueServer([]string{"127.0.0.1", "::1", "localhost"}, testValidity)
	if err != nil {
		t.Fatalf("IssueServer: %v", err)
	}
	return certPEM, keyPEM
}

// mustParseCert parses a PEM certificate.
func mustParseCert(t testing.TB, certPEM []byte) *x509.Certificate {
	t.Helper()
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		t.Fatalf("parsing certificate: %v", err)
	}
	return cert
}

// checkMode fails t if the permission bits of path are not want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s: got %v, want %v", path, got, want)
	}
}
