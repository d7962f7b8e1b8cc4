package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names of the files in a CA directory.
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca-key.pem"
)

// DevCACommonName is the subject common name of the development CA certificate.
const DevCACommonName = "evidencegw development CA"

const (
	// devCAValidity is how long a new development CA certificate is valid.
	devCAValidity = 10 * 365 * 24 * time.Hour
	// clockSkew backdates NotBefore of every certificate issued, so that a peer whose
	// clock is a little behind accepts a certificate issued a moment ago.
	clockSkew = 5 * time.Minute
)

// CA is a certificate authority that issues server and client certificates.
//
// A CA is immutable once opened and safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// OpenDevCA opens the development CA kept in dir, creating it on first use.
//
// If neither ca.pem nor ca-key.pem exists, OpenDevCA creates dir (mode 0700) if
// needed, a new ECDSA P-256 key and a self-signed CA certificate valid for 10 years,
// and writes them to ca.pem and ca-key.pem (mode 0600). If both exist it loads them and
// checks that they form a valid, unexpired CA. If only one exists it fails rather than
// replace a key that certificates may already chain to.
//
// Files are created without overwriting anything, so two processes creating the same
// CA at once cannot both succeed; the loser gets an error, and a later OpenDevCA loads
// the winner's CA. Opening an existing CA is safe from any number of processes.
func OpenDevCA(dir string) (*CA, error) {
	return openCA(dir, pkix.Name{CommonName: DevCACommonName})
}

// OpenAgencyDevCA is [OpenDevCA] for the development CA of one agency, which issues
// only that agency's members' certificates: its subject is "CN=<agency> development
// CA,O=<agency>". The gateway maps a client certificate to its agency by the CA that
// issued it, so each agency needs a CA of its own.
func OpenAgencyDevCA(dir, agency string) (*CA, error) {
	if agency == "" {
		return nil, errors.New("opening an agency development CA: no agency")
	}
	return openCA(dir, pkix.Name{CommonName: agency + " development CA", Organization: []string{agency}})
}

// openCA opens the CA kept in dir, creating it with subject on first use.
func openCA(dir string, subject pkix.Name) (*CA, error) {
	certPath := filepath.Join(dir, CACertFile)
	keyPath := filepath.Join(dir, CAKeyFile)
	certExists, err := fileExists(certPath)
	if err != nil {
		return nil, fmt.Errorf("opening development CA in %s: %w", dir, err)
	}
	keyExists, err := fileExists(keyPath)
	if err != nil {
		return nil, fmt.Errorf("opening development CA in %s: %w", dir, err)
	}
	switch {
	case certExists && keyExists:
		return loadCA(certPath, keyPath)
	case certExists:
		return nil, fmt.Errorf("opening development CA in %s: %s exists but %s is missing", dir, CACertFile, CAKeyFile)
	case keyExists:
		return nil, fmt.Errorf("opening development CA in %s: %s exists but %s is missing", dir, CAKeyFile, CACertFile)
	}
	return createDevCA(dir, certPath, keyPath, subject)
}

// fileExists reports whether path exists.
func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err // *fs.PathError names the operation and path
	}
	return true, nil
}

// createDevCA generates a development CA and writes it, key first, without
// overwriting anything.
func createDevCA(dir, certPath, keyPath string, subject pkix.Name) (*CA, error) {
	ca, keyPEM, err := newDevCA(time.Now(), subject)
	if err != nil {
		return nil, fmt.Errorf("creating development CA in %s: %w", dir, err)
	}
	if err := ensureDir(dir); err != nil {
		return nil, fmt.Errorf("creating development CA: %w", err)
	}
	if err := writeFileOnce(keyPath, keyPEM, keyMode); err != nil {
		return nil, fmt.Errorf("creating development CA: %w", err)
	}
	if err := writeFileOnce(certPath, ca.certPEM, publicMode); err != nil {
		return nil, fmt.Errorf("creating development CA: %w", err)
	}
	return ca, nil
}

// newDevCA generates a key and a self-signed CA certificate for subject, valid from now.
func newDevCA(now time.Time, subject pkix.Name) (*CA, []byte, error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(devCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signing CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing new CA certificate: %w", err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return &CA{cert: cert, certPEM: encodeCertPEM(der), key: key}, keyPEM, nil
}

// loadCA reads a CA certificate and key and checks that they belong together and
// form a usable CA.
func loadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("loading CA certificate: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("loading CA certificate %s: %w", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("loading CA key: %w", err)
	}
	key, err := parseECKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading CA key %s: %w", keyPath, err)
	}
	if err := checkCA(cert, key, time.Now()); err != nil {
		return nil, fmt.Errorf("loading CA from %s and %s: %w", certPath, keyPath, err)
	}
	return &CA{cert: cert, certPEM: encodeCertPEM(cert.Raw), key: key}, nil
}

// checkCA checks that cert is a self-signed CA certificate for key, valid at now.
func checkCA(cert *x509.Certificate, key *ecdsa.PrivateKey, now time.Time) error {
	if !key.PublicKey.Equal(cert.PublicKey) {
		return errors.New("key does not match certificate")
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("certificate is not a CA certificate")
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		return fmt.Errorf("certificate is not self-signed: %w", err)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("certificate is valid only from %s to %s",
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// CertPEM returns the CA certificate, PEM-encoded. It is what clients and servers put
// in their trust pool; the caller may modify the returned slice.
func (ca *CA) CertPEM() []byte { return bytes.Clone(ca.certPEM) }

// Cert returns the CA certificate. The caller must not modify it.
func (ca *CA) Cert() *x509.Certificate { return ca.cert }

// Pool returns a new certificate pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// IssueServer issues a TLS server certificate for hosts, valid for validity from now.
// Each host is an IP address (127.0.0.1, ::1) or a DNS name (localhost); the first
// one is also the subject common name. The key is a new ECDSA P-256 key, returned as
// PEM "PRIVATE KEY" (PKCS #8).
func (ca *CA) IssueServer(hosts []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("issuing server certificate: no hosts")
	}
	if validity <= 0 {
		return nil, nil, fmt.Errorf("issuing server certificate: validity %s is not positive", validity)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if h == "" || strings.ContainsAny(h, " \t\r\n/:") {
			return nil, nil, fmt.Errorf("issuing server certificate: invalid host %q", h)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	now := time.Now()
	certPEM, keyPEM, err = ca.issue(tmpl, now.Add(-clockSkew), now.Add(validity))
	if err != nil {
		return nil, nil, fmt.Errorf("issuing server certificate for %s: %w", strings.Join(hosts, ", "), err)
	}
	return certPEM, keyPEM, nil
}

// IssueClient issues a TLS client certificate for subject, valid for validity from
// now. The key is a new ECDSA P-256 key, returned as PEM "PRIVATE KEY" (PKCS #8).
// The subject must not be empty: the gateway identifies clients by it.
func (ca *CA) IssueClient(subject pkix.Name, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if validity <= 0 {
		return nil, nil, fmt.Errorf("issuing client certificate: validity %s is not positive", validity)
	}
	now := time.Now()
	return ca.IssueClientWindow(subject, now.Add(-clockSkew), now.Add(validity))
}

// IssueClientWindow is like [CA.IssueClient] with an explicit validity window, such
// as one already over, for testing how expired certificates are rejected.
func (ca *CA) IssueClientWindow(subject pkix.Name, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	if len(subject.ToRDNSequence()) == 0 {
		return nil, nil, errors.New("issuing client certificate: empty subject")
	}
	tmpl := &x509.Certificate{
		Subject:     subject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	certPEM, keyPEM, err = ca.issue(tmpl, notBefore, notAfter)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing client certificate for %q: %w", subject.String(), err)
	}
	return certPEM, keyPEM, nil
}

// IssueSigning issues a certificate for subject to an existing public key, such as a
// key in a KMS or on a smart card, valid for validity from now: the certificate a
// member signs acts with (key usage digitalSignature; extended key usage clientAuth,
// so that the same key may also authenticate). RSA keys need 2048 bits at least.
func (ca *CA) IssueSigning(subject pkix.Name, pub crypto.PublicKey, validity time.Duration) ([]byte, error) {
	if len(subject.ToRDNSequence()) == 0 {
		return nil, errors.New("issuing signing certificate: empty subject")
	}
	if validity <= 0 {
		return nil, fmt.Errorf("issuing signing certificate: validity %s is not positive", validity)
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("issuing signing certificate: RSA key of %d bits, want 2048 at least", k.N.BitLen())
		}
	default:
		return nil, fmt.Errorf("issuing signing certificate: unsupported key type %T", pub)
	}
	now := time.Now()
	notBefore, notAfter := now.Add(-clockSkew), now.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		return nil, fmt.Errorf("issuing signing certificate: validity ends %s, after the CA certificate expires at %s",
			notAfter.UTC().Format(time.RFC3339), ca.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("issuing signing certificate for %q: %w", subject.String(), err)
	}
	return encodeCertPEM(der), nil
}

// Issued reports whether cert was issued by this CA (its signature verifies with the
// CA's key).
func (ca *CA) Issued(cert *x509.Certificate) bool {
	return cert.CheckSignatureFrom(ca.cert) == nil
}

// issue completes tmpl (serial, validity, key usage), signs it with a new key and
// returns the PEM-encoded certificate and key.
func (ca *CA) issue(tmpl *x509.Certificate, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	if !notAfter.After(notBefore) {
		return nil, nil, fmt.Errorf("validity window from %s to %s is empty",
			notBefore.UTC().Format(time.RFC3339), notAfter.UTC().Format(time.RFC3339))
	}
	if notAfter.After(ca.cert.NotAfter) {
		return nil, nil, fmt.Errorf("validity ends %s, after the CA certificate expires at %s",
			notAfter.UTC().Format(time.RFC3339), ca.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing certificate: %w", err)
	}
	if keyPEM, err = encodeKeyPEM(key); err != nil {
		return nil, nil, err
	}
	return encodeCertPEM(der), keyPEM, nil
}
