package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOpenDevCACreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	created, err := OpenDevCA(dir)
	if err != nil {
		t.Fatalf("OpenDevCA (create): %v", err)
	}
	loaded, err := OpenDevCA(dir)
	if err != nil {
		t.Fatalf("OpenDevCA (load): %v", err)
	}
	if !bytes.Equal(loaded.CertPEM(), created.CertPEM()) {
		t.Errorf("reopened CA certificate differs from the created one")
	}
	if !loaded.key.Equal(created.key) {
		t.Errorf("reopened CA key differs from the created one")
	}

	cert := loaded.Cert()
	if got, want := cert.Subject.CommonName, DevCACommonName; got != want {
		t.Errorf("CA common name: got %q, want %q", got, want)
	}
	if !cert.IsCA || !cert.MaxPathLenZero {
		t.Errorf("CA certificate: got IsCA %v MaxPathLenZero %v, want true true", cert.IsCA, cert.MaxPathLenZero)
	}
	if got, want := cert.NotAfter.Sub(cert.NotBefore), devCAValidity+clockSkew; got != want {
		t.Errorf("CA validity: got %v, want %v", got, want)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA public key: got %T, want ECDSA P-256", cert.PublicKey)
	}

	checkMode(t, dir, 0o700)
	checkMode(t, filepath.Join(dir, CAKeyFile), 0o600)
	checkMode(t, filepath.Join(dir, CACertFile), 0o644)
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseECKeyPEM(keyPEM); err != nil {
		t.Errorf("%s is not a PKCS #8 ECDSA key: %v", CAKeyFile, err)
	}
}

func TestOpenDevCAErrors(t *testing.T) {
	good := t.TempDir()
	if _, err := OpenDevCA(good); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := OpenDevCA(other); err != nil {
		t.Fatal(err)
	}
	read := func(dir, name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}

	tests := []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{"only certificate", map[string][]byte{CACertFile: read(good, CACertFile)}, "ca-key.pem is missing"},
		{"only key", map[string][]byte{CAKeyFile: read(good, CAKeyFile)}, "ca.pem is missing"},
		{"corrupt certificate", map[string][]byte{CACertFile: []byte("junk"), CAKeyFile: read(good, CAKeyFile)}, CACertFile},
		{"corrupt key", map[string][]byte{CACertFile: read(good, CACertFile), CAKeyFile: []byte("junk")}, CAKeyFile},
		{"key of another CA", map[string][]byte{CACertFile: read(good, CACertFile), CAKeyFile: read(other, CAKeyFile)}, "key does not match certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := OpenDevCA(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("OpenDevCA: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestIssueServer(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM := issueServer(t, ca)
	cert := mustParseCert(t, certPEM)

	if got, want := cert.DNSNames, []string{"localhost"}; !slices.Equal(got, want) {
		t.Errorf("DNS names: got %q, want %q", got, want)
	}
	wantIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if got := cert.IPAddresses; !slices.EqualFunc(got, wantIPs, net.IP.Equal) {
		t.Errorf("IP addresses: got %v, want %v", got, wantIPs)
	}
	if got, want := cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}; !slices.Equal(got, want) {
		t.Errorf("extended key usage: got %v, want %v", got, want)
	}
	if cert.IsCA {
		t.Errorf("server certificate: got IsCA true, want false")
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: ca.Pool()})
		if err != nil {
			t.Errorf("verifying server certificate for %s: %v", host, err)
		}
	}
	if _, err := parseECKeyPEM(keyPEM); err != nil {
		t.Errorf("server key is not a PKCS #8 ECDSA key: %v", err)
	}
}

func TestIssueServerErrors(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name     string
		hosts    []string
		validity time.Duration
		wantErr  string
	}{
		{"no hosts", nil, time.Hour, "no hosts"},
		{"empty host", []string{""}, time.Hour, "invalid host"},
		{"host with space", []string{"local host"}, time.Hour, "invalid host"},
		{"host with port", []string{"localhost:8443"}, time.Hour, "invalid host"},
		{"zero validity", []string{"localhost"}, 0, "not positive"},
		{"beyond CA expiry", []string{"localhost"}, 20 * 365 * 24 * time.Hour, "after the CA certificate expires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ca.IssueServer(tt.hosts, tt.validity)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("IssueServer: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestIssueClient(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM := issueClient(t, ca)
	cert := mustParseCert(t, certPEM)

	if got, want := cert.Subject.String(), testClientSubject.String(); got != want {
		t.Errorf("subject: got %q, want %q", got, want)
	}
	if got, want := cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}; !slices.Equal(got, want) {
		t.Errorf("extended key usage: got %v, want %v", got, want)
	}
	if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 128 {
		t.Errorf("serial number: got %v, want a positive number of at most 128 bits", cert.SerialNumber)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("client public key: got %T, want ECDSA P-256", cert.PublicKey)
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:     ca.Pool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		t.Errorf("verifying client certificate: %v", err)
	}
	key, err := parseECKeyPEM(keyPEM)
	if err != nil {
		t.Fatalf("client key is not a PKCS #8 ECDSA key: %v", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Errorf("client key does not match the certificate")
	}

	again, _ := issueClient(t, ca)
	if mustParseCert(t, again).SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Errorf("two client certificates got the same serial number %v", cert.SerialNumber)
	}
}

func TestIssueClientWindow(t *testing.T) {
	ca := newTestCA(t)
	notBefore := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	notAfter := notBefore.Add(24 * time.Hour)
	certPEM, _, err := ca.IssueClientWindow(testClientSubject, notBefore, notAfter)
	if err != nil {
		t.Fatalf("IssueClientWindow: %v", err)
	}
	cert := mustParseCert(t, certPEM)
	if !cert.NotBefore.Equal(notBefore) || !cert.NotAfter.Equal(notAfter) {
		t.Errorf("validity: got %v to %v, want %v to %v", cert.NotBefore, cert.NotAfter, notBefore, notAfter)
	}
}

func TestIssueClientErrors(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	tests := []struct {
		name    string
		issue   func() error
		wantErr string
	}{
		{"empty subject", func() error {
			_, _, err := ca.IssueClient(pkix.Name{}, time.Hour)
			return err
		}, "empty subject"},
		{"negative validity", func() error {
			_, _, err := ca.IssueClient(testClientSubject, -time.Hour)
			return err
		}, "not positive"},
		{"inverted window", func() error {
			_, _, err := ca.IssueClientWindow(testClientSubject, now, now.Add(-time.Hour))
			return err
		}, "is empty"},
		{"beyond CA expiry", func() error {
			_, _, err := ca.IssueClientWindow(testClientSubject, now, ca.Cert().NotAfter.Add(time.Second))
			return err
		}, "after the CA certificate expires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.issue()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
