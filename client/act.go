package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// ActSigner signs a member's acts (docs/bundle.md, "Acts"): a sigstore signer of the
// member's key (a key file, a KMS key, a PKCS #11 token) and the certificate of that key
// issued by the agency's CA, leaf first, then any intermediates.
//
// The signer's SignMessage must produce what custody.VerifyAct checks: ECDSA (ASN.1 DER)
// or RSA PKCS #1 v1.5 over SHA-256 of the message, or Ed25519 over the message. The
// sigstore signers loaded with crypto.SHA256 (signature.LoadSigner, kms/hashivault, the
// PKCS #11 key) do.
type ActSigner struct {
	signer signature.Signer
	certs  []*x509.Certificate
	keyID  string
}

// ErrNoActSigner is returned by a change of custody when the client has no key to sign
// its act with.
var ErrNoActSigner = errors.New("no key to sign the act with")

// NewActSigner returns the act signer of s with the certificate chain certs, after
// checking that the first certificate is for s's public key.
func NewActSigner(s signature.Signer, certs []*x509.Certificate) (*ActSigner, error) {
	if len(certs) == 0 {
		return nil, errors.New("act signer: no certificate")
	}
	pub, err := s.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("act signer: reading the public key: %w", err)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("act signer: the certificate %s is not for the signing key", certs[0].Subject)
	}
	keyID, err := custody.KeyID(pub)
	if err != nil {
		return nil, fmt.Errorf("act signer: %w", err)
	}
	return &ActSigner{signer: s, certs: certs, keyID: keyID}, nil
}

// tlsActSigner is the act signer of a TLS client certificate's key.
func tlsActSigner(cert tls.Certificate) (*ActSigner, error) {
	if cert.PrivateKey == nil || len(cert.Certificate) == 0 {
		return nil, errors.New("no client certificate")
	}
	s, err := signature.LoadSigner(cert.PrivateKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for _, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
	return NewActSigner(s, chain)
}

// Subject returns the subject of the signing certificate.
func (s *ActSigner) Subject() string { return s.certs[0].Subject.String() }

// Sign signs the act about the evidence with the given id ("" for a register act) and
// content digest (hex SHA-256) into a SignedAct. Time and Nonce are set if zero.
func (s *ActSigner) Sign(ctx context.Context, evidenceID, sha256Hex string, a custody.Act) (custody.SignedAct, error) {
	if a.Nonce == "" {
		n := make([]byte, 16)
		rand.Read(n)
		a.Nonce = hex.EncodeToString(n)
	}
	st, err := custody.NewActStatement(evidenceID, sha256Hex, a).Marshal()
	if err != nil {
		return custody.SignedAct{}, err
	}
	sig, err := s.signer.SignMessage(bytes.NewReader(custody.PAE(custody.PayloadType, st)), options.WithContext(ctx))
	if err != nil {
		return custody.SignedAct{}, fmt.Errorf("signing the %s act: %w", a.Action, err)
	}
	sa := custody.SignedAct{Envelope: custody.Envelope{PayloadType: custody.PayloadType,
		Payload: base64.StdEncoding.EncodeToString(st), Signatures: []custody.Signature{{KeyID: s.keyID, Sig: base64.StdEncoding.EncodeToString(sig)}}}}
	for _, c := range s.certs {
		sa.Certificates = append(sa.Certificates, c.Raw)
	}
	return sa, nil
}

// SetActSigner makes the client sign its acts with s instead of the key of its client
// certificate.
func (c *Client) SetActSigner(s *ActSigner) { c.acts = s }

// ActSigner returns the signer of the client's acts, nil if it has none.
func (c *Client) ActSigner() *ActSigner { return c.acts }

// actHeader signs act a about the evidence and returns the Custody-Act header. For an
// act about an existing exhibit with sha256Hex empty, it reads the registered digest
// from the gateway first.
func (c *Client) actHeader(ctx context.Context, evidenceID, sha256Hex string, a custody.Act) (http.Header, error) {
	if c.acts == nil {
		return nil, ErrNoActSigner
	}
	if sha256Hex == "" && evidenceID != "" {
		ev, err := c.Evidence(ctx, evidenceID)
		if err != nil {
			return nil, err
		}
		sha256Hex = ev.SHA256
	}
	a.Time = c.now()
	sa, err := c.acts.Sign(ctx, evidenceID, sha256Hex, a)
	if err != nil {
		return nil, err
	}
	v, err := api.FormatAct(sa)
	if err != nil {
		return nil, err
	}
	return http.Header{api.HeaderCustodyAct: {v}}, nil
}
