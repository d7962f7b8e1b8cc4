package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Names of the files in an identity directory.
const (
	IdentityCertFile    = "cert.pem"
	IdentityKeyFile     = "key.pem"
	IdentityCAFile      = "ca.pem"
	IdentityGatewayFile = "gateway"
	// IdentityActKeyFile, optional, names the key that signs the member's acts when it
	// is not key.pem: one line, a key reference (a PEM file, relative to the identity
	// directory or absolute; hashivault://KEY; pkcs11:...).
	IdentityActKeyFile = "act-key"
	// IdentityActCertFile, optional, holds the certificate of that key (and its
	// intermediates), issued by the agency's CA.
	IdentityActCertFile = "act-cert.pem"
)

// Identity is what a client needs to call a gateway: its certificate and key, the CA
// certificates to trust for the gateway's server certificate, and the gateway URL.
type Identity struct {
	// CertPEM is the client certificate, PEM-encoded, optionally followed by
	// intermediate certificates.
	CertPEM []byte
	// KeyPEM is the client's private key, PEM-encoded. Never log it.
	KeyPEM []byte
	// CAPEM holds the CA certificates, PEM-encoded, that the gateway's server
	// certificate must chain to. The system roots are not used.
	CAPEM []byte
	// GatewayURL is the gateway base URL, such as "https://127.0.0.1:8443".
	GatewayURL string
	// ActKey and ActCertPEM, both optional, are the key reference and certificate of
	// the key that signs the member's acts, when it is not KeyPEM (act-key,
	// act-cert.pem).
	ActKey     string
	ActCertPEM []byte
}

// LogValue keeps the private key out of logs.
func (id Identity) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("gateway", id.GatewayURL), slog.String("key", "REDACTED")}
	if cert, err := parseCertPEM(id.CertPEM); err == nil {
		attrs = append(attrs, slog.String("subject", SubjectString(cert)),
			slog.String("fingerprint", Fingerprint(cert)))
	}
	return slog.GroupValue(attrs...)
}

// Validate checks that the certificate and key parse and belong together, that CAPEM
// holds at least one certificate, and that GatewayURL is an https URL with a host.
// The error names the file of the identity directory the faulty field is kept in.
func (id Identity) Validate() error {
	if _, err := parseCertPEM(id.CertPEM); err != nil {
		return fmt.Errorf("%s: %w", IdentityCertFile, err)
	}
	if err := checkKeyPEM(id.KeyPEM); err != nil {
		return fmt.Errorf("%s: %w", IdentityKeyFile, err)
	}
	if _, err := tls.X509KeyPair(id.CertPEM, id.KeyPEM); err != nil {
		return fmt.Errorf("%s and %s do not form a key pair: %w", IdentityCertFile, IdentityKeyFile, err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(id.CAPEM) {
		return fmt.Errorf("%s: no valid PEM CERTIFICATE block", IdentityCAFile)
	}
	if err := checkGatewayURL(id.GatewayURL); err != nil {
		return fmt.Errorf("%s: %w", IdentityGatewayFile, err)
	}
	if len(id.ActCertPEM) > 0 {
		if _, err := ParseCertificates(id.ActCertPEM); err != nil {
			return fmt.Errorf("%s: %w", IdentityActCertFile, err)
		}
	}
	return nil
}

// ParseCertificates parses every PEM "CERTIFICATE" block of data, in order; other
// blocks are skipped. It fails if there is none.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != pemCertificate {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return certs, nil
}

// checkKeyPEM checks that data holds a PEM private key in one of the encodings
// [tls.X509KeyPair] accepts (PKCS #8, SEC 1, PKCS #1), so that a malformed key is
// reported as such rather than as a mismatch with the certificate.
func checkKeyPEM(data []byte) error {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return errors.New("no PEM PRIVATE KEY block")
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			return nil
		}
		if _, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
			return nil
		}
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
			return nil
		}
		return fmt.Errorf("cannot parse PEM %s block as PKCS #8, SEC 1 or PKCS #1", block.Type)
	}
}

// checkGatewayURL checks that u is an absolute https URL with a host and nothing
// after the path.
func checkGatewayURL(u string) error {
	if u == "" {
		return errors.New("gateway URL is empty")
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("parsing gateway URL: %w", err)
	}
	if parsed.Scheme != "https" || parsed.Host == "" {
		return fmt.Errorf("gateway URL %q is not an https URL with a host", u)
	}
	if parsed.User != nil || parsed.RawQuery != "" || parsed.Fragment != "" {
		return fmt.Errorf("gateway URL %q has user info, a query or a fragment", u)
	}
	return nil
}

// WriteIdentity validates id and writes it to dir, creating dir (mode 0700) if
// needed. key.pem gets mode 0600, the other files 0644. Each file is replaced
// atomically, so an existing identity in dir is overwritten file by file.
func WriteIdentity(dir string, id Identity) error {
	if err := id.Validate(); err != nil {
		return fmt.Errorf("writing identity to %s: %w", dir, err)
	}
	if err := ensureDir(dir); err != nil {
		return fmt.Errorf("writing identity: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{IdentityKeyFile, id.KeyPEM, keyMode},
		{IdentityCertFile, id.CertPEM, publicMode},
		{IdentityCAFile, id.CAPEM, publicMode},
		{IdentityGatewayFile, []byte(id.GatewayURL + "\n"), publicMode},
	}
	if id.ActKey != "" {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{IdentityActKeyFile, []byte(id.ActKey + "\n"), publicMode})
	}
	if len(id.ActCertPEM) > 0 {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{IdentityActCertFile, id.ActCertPEM, publicMode})
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("writing identity: %w", err)
		}
	}
	return nil
}

// LoadIdentity reads the identity kept in dir and validates it. A missing file gives
// an error that names it and matches [fs.ErrNotExist].
func LoadIdentity(dir string) (Identity, error) {
	var id Identity
	var gateway []byte
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{
		{IdentityCertFile, &id.CertPEM},
		{IdentityKeyFile, &id.KeyPEM},
		{IdentityCAFile, &id.CAPEM},
		{IdentityGatewayFile, &gateway},
	} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return Identity{}, fmt.Errorf("loading identity from %s: %w", dir, err)
		}
		*f.dst = data
	}
	id.GatewayURL = strings.TrimSpace(string(gateway))
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{IdentityActKeyFile, nil}, {IdentityActCertFile, &id.ActCertPEM}} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Identity{}, fmt.Errorf("loading identity from %s: %w", dir, err)
		}
		if f.dst == nil {
			id.ActKey = strings.TrimSpace(string(data))
			continue
		}
		*f.dst = data
	}
	if err := id.Validate(); err != nil {
		return Identity{}, fmt.Errorf("loading identity from %s: %w", dir, err)
	}
	return id, nil
}

// TLSConfig returns a client TLS configuration that presents the identity's
// certificate and trusts only the CAs in CAPEM, with TLS 1.3 at least.
func (id Identity) TLSConfig() (*tls.Config, error) {
	cert, err := tls.X509KeyPair(id.CertPEM, id.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("building client TLS configuration: loading key pair: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(id.CAPEM) {
		return nil, errors.New("building client TLS configuration: CA PEM holds no valid certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
		MinVersion:   tls.VersionTLS13,
	}, nil
}
