package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
)

// SubjectString renders the subject of cert in the style of RFC 4514, such as
// "CN=alice,OU=forensics,O=Example Police,C=NL", for authorization decisions and the
// custody record. The rendering is that of [crypto/x509/pkix.Name.String]: known
// attributes appear in a fixed order whatever their order in the certificate, so two
// certificates with the same subject attributes give the same string. It returns ""
// for a nil cert.
func SubjectString(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	return cert.Subject.String()
}

// Fingerprint returns the lowercase hex SHA-256 of the DER encoding of cert, the
// usual way to pin or name one certificate. It returns "" for a nil cert.
func Fingerprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}
