package gateway

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/exhibit"
)

// Authentication errors; their text is shown to the client.
var (
	// errUnknownIdentity is a certificate that verified against a trusted CA but maps
	// to no configured member.
	errUnknownIdentity = errors.New("the client certificate is not mapped to a member of any agency")
	errNoCertificate   = errors.New("no client certificate")
	errCertRefused     = errors.New("client certificate refused")
)

// Authenticator maps verified client certificates to principals.
type Authenticator struct {
	members []member
	// Pool holds every client CA, for the TLS server's ClientCAs.
	Pool *x509.CertPool
}

type member struct {
	cas       []*x509.Certificate
	subject   string
	principal exhibit.Principal
}

// Agency is one agency or court whose members may connect.
type Agency struct {
	ID           string
	Jurisdiction string
	// ClientCAs issue the client certificates of the agency's members.
	ClientCAs []*x509.Certificate
	Members   []Member
}

// Member maps one client certificate subject to a person and role.
type Member struct {
	// Subject is the certificate subject as Go renders it (RFC 4514 order), such as
	// "CN=investigator-nl,O=agency-nl,C=NL".
	Subject string
	Person  string
	Role    string
}

// NewAuthenticator builds the certificate-to-principal map of the agencies.
func NewAuthenticator(agencies []Agency) (*Authenticator, error) {
	a := &Authenticator{Pool: x509.NewCertPool()}
	for _, ag := range agencies {
		if len(ag.ClientCAs) == 0 {
			return nil, fmt.Errorf("agency %s: no client CA", ag.ID)
		}
		for _, ca := range ag.ClientCAs {
			a.Pool.AddCert(ca)
		}
		for _, m := range ag.Members {
			a.members = append(a.members, member{cas: ag.ClientCAs, subject: m.Subject, principal: exhibit.Principal{
				Agency: ag.ID, Jurisdiction: ag.Jurisdiction, Person: m.Person, Role: m.Role,
			}})
		}
	}
	return a, nil
}

// Identify returns the principal of a TLS connection. The TLS layer only checks that
// the client holds the key of the certificate it presents (tls.RequireAnyClientCert);
// Identify verifies the chain to a configured client CA (validity period, client-auth
// usage), so that a refused certificate gets a precise 401 rather than a torn
// handshake. The certificate's issuer must be the member's agency CA and its subject
// the member's subject.
func (a *Authenticator) Identify(cs *tls.ConnectionState, now time.Time) (exhibit.Principal, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return exhibit.Principal{}, errNoCertificate
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: a.Pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return exhibit.Principal{}, certError(leaf, now, err)
	}
	subject := leaf.Subject.String()
	for _, chain := range chains {
		issuer := chain[1]
		for _, m := range a.members {
			if m.subject == subject && hasCert(m.cas, issuer) {
				p := m.principal
				p.Cert = leaf
				return p, nil
			}
		}
	}
	return exhibit.Principal{}, errUnknownIdentity
}

// certError explains why a client certificate did not verify.
func certError(leaf *x509.Certificate, now time.Time, err error) error {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		if now.Before(leaf.NotBefore) {
			return fmt.Errorf("%w: not valid before %s", errCertRefused, leaf.NotBefore.UTC().Format(time.RFC3339))
		}
		return fmt.Errorf("%w: expired at %s", errCertRefused, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return fmt.Errorf("%w: not issued by a CA this gateway trusts", errCertRefused)
	}
	return fmt.Errorf("%w: %v", errCertRefused, err)
}

func hasCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}
