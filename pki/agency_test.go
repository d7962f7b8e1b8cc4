package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAgencyDevCAsAreDistinct: each agency's CA issues only its own members: a
// certificate of one does not chain to the other.
func TestAgencyDevCAsAreDistinct(t *testing.T) {
	dir := t.TempDir()
	nl, err := OpenAgencyDevCA(filepath.Join(dir, "agency-nl"), "agency-nl")
	if err != nil {
		t.Fatal(err)
	}
	us, err := OpenAgencyDevCA(filepath.Join(dir, "agency-us"), "agency-us")
	if err != nil {
		t.Fatal(err)
	}
	if got := SubjectString(nl.Cert()); got != "CN=agency-nl development CA,O=agency-nl" {
		t.Errorf("subject: got %q", got)
	}
	certPEM, _ := issueClient(t, nl)
	cert := mustParseCert(t, certPEM)
	if !nl.Issued(cert) || us.Issued(cert) {
		t.Errorf("Issued: got nl %v us %v, want true false", nl.Issued(cert), us.Issued(cert))
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: us.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Error("a certificate of agency-nl's CA chains to agency-us's")
	}
	again, err := OpenAgencyDevCA(filepath.Join(dir, "agency-nl"), "agency-nl")
	if err != nil || !again.Cert().Equal(nl.Cert()) {
		t.Errorf("reopening: got %v, want the same CA", err)
	}
}

// TestIssueSigning certifies keys held elsewhere: ECDSA, RSA, Ed25519; not small RSA.
func TestIssueSigning(t *testing.T) {
	ca := newTestCA(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, pub := range []any{&ec.PublicKey, &rk.PublicKey, ed} {
		certPEM, err := ca.IssueSigning(testClientSubject, pub, time.Hour)
		if err != nil {
			t.Fatalf("IssueSigning(%T): %v", pub, err)
		}
		cert := mustParseCert(t, certPEM)
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%T: the certificate does not verify: %v", pub, err)
		}
		if cert.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("%T: key usage %v, want digitalSignature", pub, cert.KeyUsage)
		}
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := ca.IssueSigning(testClientSubject, &small.PublicKey, time.Hour); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Errorf("1024-bit RSA: got %v, want a refusal", err)
	}
}
