package custody

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
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
