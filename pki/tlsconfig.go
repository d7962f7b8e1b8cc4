package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ServerTLSConfig returns a server TLS configuration that presents the given
// certificate and requires every client to present a certificate that chains to
// clientCAs, with TLS 1.3 at least.
//
// clientCAs must not be nil: crypto/tls would then verify client certificates against
// the system roots, which would let anyone with a publicly trusted certificate in.
func ServerTLSConfig(certPEM, keyPEM []byte, clientCAs *x509.CertPool) (*tls.Config, error) {
	if clientCAs == nil {
		return nil, errors.New("building server TLS configuration: no client CA pool")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("building server TLS configuration: loading key pair: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		MinVersion:   tls.VersionTLS13,
	}, nil
}
