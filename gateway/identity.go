package gateway

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// Principal is an authenticated caller.
type Principal struct {
	Agency       string
	Jurisdiction string
	Person       string
	Role         string
	// Cert is the verified client certificate.
	Cert *x509.Certificate
}

// LogValue names the caller in logs.
func (p Principal) LogValue() slog.Value {
	return slog.GroupValue(slog.String("agency", p.Agency), slog.String("person", p.Person), slog.String("role", p.Role))
}

// errUnknownIdentity is returned for a certificate that verified against a trusted CA
// but maps to no configured member.
var errUnknownIdentity = errors.New("client certificate is not mapped to a member of any agency")

// Authenticator maps verified client certificates to principals.
type Authenticator struct {
	members []member
	// Pool holds every client CA, for the TLS server's ClientCAs.
	Pool *x509.CertPool
}

type member struct {
	cas       []*x509.Certificate
	subject   string
	principal Principal
}

// NewAuthenticator builds the certificate-to-principal map of cfg. Agencies without a
// client_ca use devCA.
func NewAuthenticator(cfg Config, devCA *x509.Certificate) (*Authenticator, error) {
	a := &Authenticator{Pool: x509.NewCertPool()}
	for _, ag := range cfg.Agencies {
		cas := []*x509.Certificate{devCA}
		if ag.ClientCA != "" {
			var err error
			if cas, err = loadCerts(ag.ClientCA); err != nil {
				return nil, fmt.Errorf("agency %s: %w", ag.ID, err)
			}
		} else if devCA == nil {
			return nil, fmt.Errorf("agency %s: no client_ca and no development CA", ag.ID)
		}
		for _, ca := range cas {
			a.Pool.AddCert(ca)
		}
		for _, m := range ag.Members {
			a.members = append(a.members, member{cas: cas, subject: m.Subject, principal: Principal{
				Agency: ag.ID, Jurisdiction: ag.Jurisdiction, Person: m.Person, Role: m.Role,
			}})
		}
	}
	return a, nil
}

func loadCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading client CA: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing client CA %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("client CA %s holds no certificate", path)
	}
	return certs, nil
}

// Identify returns the principal of a TLS connection whose client certificate the TLS
// layer verified. The certificate's issuer must be the member's agency CA and its
// subject the member's subject.
func (a *Authenticator) Identify(cs *tls.ConnectionState) (Principal, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) < 2 {
		return Principal{}, errUnknownIdentity
	}
	leaf := cs.VerifiedChains[0][0]
	subject := leaf.Subject.String()
	for _, chain := range cs.VerifiedChains {
		issuer := chain[1]
		for _, m := range a.members {
			if m.subject == subject && hasCert(m.cas, issuer) {
				p := m.principal
				p.Cert = leaf
				return p, nil
			}
		}
	}
	return Principal{}, errUnknownIdentity
}

func hasCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}
