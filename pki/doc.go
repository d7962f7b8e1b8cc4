// Package pki is the X.509 plumbing behind the gateway's mutual TLS.
//
// Every request to the gateway is authenticated by a client certificate. This package
// provides the pieces the gateway and its clients need to set that up:
//
//   - a development certificate authority kept in a directory ([OpenDevCA]), which issues
//     server certificates ([CA.IssueServer]) and client certificates ([CA.IssueClient]);
//   - client identity directories ([WriteIdentity], [LoadIdentity]), holding everything a
//     client needs to reach a gateway: its certificate and key, the CA that signed the
//     gateway's server certificate, and the gateway URL;
//   - the TLS configurations of both ends ([ServerTLSConfig], [Identity.TLSConfig]), which
//     require TLS 1.3 and, on the server, a client certificate that chains to a given pool;
//   - stable names for a certificate ([SubjectString], [Fingerprint]) for authorization
//     and for the custody record.
//
// # Files
//
// A CA directory (mode 0700) holds:
//
//	ca.pem       the self-signed CA certificate, PEM "CERTIFICATE"
//	ca-key.pem   its ECDSA P-256 key, PEM "PRIVATE KEY" (PKCS #8), mode 0600
//
// An identity directory (mode 0700) holds:
//
//	cert.pem     the client certificate, PEM "CERTIFICATE"
//	key.pem      its private key, PEM "PRIVATE KEY" (PKCS #8), mode 0600
//	ca.pem       the CA certificates to trust for the gateway's server certificate
//	gateway      the gateway base URL, such as https://127.0.0.1:8443, on one line
//
// The development CA is for development and tests: its key sits unencrypted on disk.
// Production deployments issue certificates from their own PKI and only use the identity
// and TLS configuration parts of this package.
//
// It imports the standard library only; every other package may import it.
package pki
