package custody

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Envelope is a DSSE envelope (https://github.com/secure-systems-lab/dsse).
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// MaxEnvelopeSize bounds an encoded envelope.
const MaxEnvelopeSize = 2*MaxStatementSize + 4096

// ErrBadSignature is returned when no trusted key verifies an envelope.
var ErrBadSignature = errors.New("signature does not verify")

// PAE is DSSE's pre-authentication encoding of a payload.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// ParseEnvelope decodes a DSSE envelope, refusing unknown fields and oversized input.
func ParseEnvelope(b []byte) (Envelope, error) {
	var e Envelope
	if len(b) > MaxEnvelopeSize {
		return e, fmt.Errorf("envelope of %d bytes exceeds %d", len(b), MaxEnvelopeSize)
	}
	if err := decodeStrict(b, &e); err != nil {
		return e, fmt.Errorf("decoding envelope: %w", err)
	}
	if e.PayloadType != PayloadType {
		return e, fmt.Errorf("envelope payload type %q, want %q", e.PayloadType, PayloadType)
	}
	if len(e.Signatures) == 0 {
		return e, fmt.Errorf("envelope has no signature")
	}
	return e, nil
}

// PayloadBytes returns the decoded payload.
func (e Envelope) PayloadBytes() ([]byte, error) {
	p, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("decoding envelope payload: %w", err)
	}
	return p, nil
}

// verifyWith checks that one of the envelope's signatures with key's id verifies.
func (e Envelope) verifyWith(key TrustedKey, payload []byte) error {
	pae := PAE(e.PayloadType, payload)
	for _, s := range e.Signatures {
		if s.KeyID != key.KeyID {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			return fmt.Errorf("decoding signature: %w", err)
		}
		if verifyRaw(key.public, pae, sig) {
			return nil
		}
		return fmt.Errorf("key %s: %w", key.KeyID, ErrBadSignature)
	}
	return fmt.Errorf("no signature by key %s", key.KeyID)
}

// verifyRaw checks sig over msg: ECDSA (ASN.1) over SHA-256(msg), or pure Ed25519.
func verifyRaw(pub any, msg, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(k, h[:], sig)
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig)
	}
	return false
}

// VerifyEnvelope checks one signed event on its own, as Verify checks each event of a
// bundle: its statement parses and is well formed, one of its signatures is by an event
// key of the trust root valid at the event's time, and a partner receipt it carries
// verifies. It does not check the event's place in its chain or its log inclusion. A
// failure wraps ErrVerification.
func VerifyEnvelope(env Envelope, tr *TrustRoot) (VerifiedEvent, error) {
	if tr.Log.verifier == nil {
		return VerifiedEvent{}, errors.New("trust root not loaded: use ParseTrustRoot")
	}
	return verifyEntry(BundleEntry{Envelope: env}, tr)
}

// VerifiedAct is a signed act whose signature and certificate verified.
type VerifiedAct struct {
	Statement ActStatement
	// Payload is the signed statement bytes; Digest their hex SHA-256, which names the
	// act (no two events of a chain record the same act).
	Payload []byte
	Digest  string
	// Signer is the certificate of the key that signed; Chain leads from it to the
	// trusted CA (the CA last).
	Signer *x509.Certificate
	Chain  []*x509.Certificate
}

// ParseSignedAct decodes a signed act, refusing unknown fields and oversized input. It
// checks only the encoding; VerifyAct checks the rest.
func ParseSignedAct(b []byte) (SignedAct, error) {
	var sa SignedAct
	if len(b) > MaxActSize {
		return sa, fmt.Errorf("signed act of %d bytes exceeds %d", len(b), MaxActSize)
	}
	if err := decodeStrict(b, &sa); err != nil {
		return sa, fmt.Errorf("decoding signed act: %w", err)
	}
	return sa, nil
}

// VerifyAct checks a signed act against the CA certificates of the signer's agency, at
// time at (the time of the event that records it, or now):
//
//  1. the envelope's payload type is in-toto's and its payload a well-formed act
//     statement;
//  2. the first certificate chains to one of cas, through the others, and every
//     certificate of the chain is valid at at; the first one may sign (key usage
//     digitalSignature or contentCommitment, when it states a key usage);
//  3. a signature whose keyid is the key id of that certificate's public key verifies
//     over the PAE: ECDSA (P-256, P-384 or P-521; ASN.1 DER) or RSA PKCS #1 v1.5 (2048
//     bits at least) over SHA-256 of the PAE, or Ed25519 over the PAE.
//
// It does not check what the act names (CheckActEvent) nor its time (CheckActTime).
func VerifyAct(sa SignedAct, cas []*x509.Certificate, at time.Time) (VerifiedAct, error) {
	var va VerifiedAct
	env := sa.Envelope
	if env.PayloadType != PayloadType {
		return va, fmt.Errorf("act payload type %q, want %q", env.PayloadType, PayloadType)
	}
	payload, err := env.PayloadBytes()
	if err != nil {
		return va, err
	}
	if va.Statement, err = ParseActStatement(payload); err != nil {
		return va, err
	}
	va.Payload, va.Digest = payload, Digest(payload)
	if va.Signer, va.Chain, err = verifyActChain(sa.Certificates, cas, at); err != nil {
		return va, err
	}
	keyID, err := KeyID(va.Signer.PublicKey)
	if err != nil {
		return va, err
	}
	pae := PAE(env.PayloadType, payload)
	for _, s := range env.Signatures {
		if s.KeyID != keyID {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			return va, fmt.Errorf("decoding act signature: %w", err)
		}
		if err := verifyActSignature(va.Signer.PublicKey, pae, sig); err != nil {
			return va, fmt.Errorf("act signed by %s: %w", va.Signer.Subject, err)
		}
		return va, nil
	}
	return va, fmt.Errorf("the act has no signature by the key of its certificate (%s)", va.Signer.Subject)
}

// verifyActChain parses an act's certificates and verifies the first one's chain to cas
// at time at.
func verifyActChain(ders [][]byte, cas []*x509.Certificate, at time.Time) (*x509.Certificate, []*x509.Certificate, error) {
	if len(ders) == 0 || len(ders) > maxActCertificates {
		return nil, nil, fmt.Errorf("the act carries %d certificates, want 1 to %d", len(ders), maxActCertificates)
	}
	if len(cas) == 0 {
		return nil, nil, errors.New("no CA certificate to check the act's certificate against")
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, fmt.Errorf("act certificate %d: %w", i, err)
		}
		certs[i] = c
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, nil, fmt.Errorf("the act's certificate %s does not chain to the agency's CA at %s: %w",
			leaf.Subject, at.UTC().Format(time.RFC3339), err)
	}
	if ku := leaf.KeyUsage; ku != 0 && ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, nil, fmt.Errorf("the act's certificate %s may not sign (key usage)", leaf.Subject)
	}
	return leaf, chains[0], nil
}

// minRSABits is the smallest RSA key an act may be signed with.
const minRSABits = 2048

// verifyActSignature checks sig over msg with pub (see VerifyAct).
func verifyActSignature(pub any, msg, sig []byte) error {
	h := sha256.Sum256(msg)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, h[:], sig) {
			return nil
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits, want %d at least", k.N.BitLen(), minRSABits)
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil {
			return nil
		}
	case ed25519.PublicKey:
		if ed25519.Verify(k, msg, sig) {
			return nil
		}
	default:
		return fmt.Errorf("unsupported key type %T", pub)
	}
	return ErrBadSignature
}
