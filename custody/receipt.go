package custody

import (
	"crypto/x509"
	"fmt"
)

// Verify checks that the receipt's signature over its statement verifies with the public
// key of its certificate. It does not say who the certificate belongs to: the gateway
// matched it to the authenticated partner, and the event that carries the receipt is
// signed by the gateway.
func (r *Receipt) Verify() error {
	cert, err := x509.ParseCertificate(r.Certificate)
	if err != nil {
		return fmt.Errorf("receipt certificate: %w", err)
	}
	if !verifyRaw(cert.PublicKey, r.Statement, r.Signature) {
		return fmt.Errorf("receipt of %s: %w", cert.Subject, ErrBadSignature)
	}
	return nil
}
