package api

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// maxReceiptStatement bounds an encoded receipt statement.
const maxReceiptStatement = 4 << 10

// NewReceiptStatement returns the statement that accepts grant grantID of the
// evidence with the given registered digest, signed at t (kept in UTC, whole seconds).
func NewReceiptStatement(evidenceID, grantID, sha256Hex string, t time.Time) ReceiptStatement {
	return ReceiptStatement{
		Type:       ReceiptStatementType,
		EvidenceID: evidenceID,
		GrantID:    grantID,
		SHA256:     sha256Hex,
		Time:       t.UTC().Truncate(time.Second),
	}
}

// Marshal encodes the statement as the exact bytes to sign:
// {"_type":"evidencegw-receipt/v1","evidence_id":...,"grant_id":...,"sha256":...,"time":...}.
func (s ReceiptStatement) Marshal() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding receipt statement: %w", err)
	}
	return b, nil
}

// ParseReceiptStatement decodes and checks a receipt statement: its type, well-formed
// ids and digest, no unknown field.
func ParseReceiptStatement(b []byte) (ReceiptStatement, error) {
	var s ReceiptStatement
	if len(b) > maxReceiptStatement {
		return s, fmt.Errorf("receipt statement of %d bytes exceeds %d", len(b), maxReceiptStatement)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("decoding receipt statement: %w", err)
	}
	if dec.More() {
		return s, errors.New("decoding receipt statement: trailing data")
	}
	switch {
	case s.Type != ReceiptStatementType:
		return s, fmt.Errorf("receipt statement _type %q, want %q", s.Type, ReceiptStatementType)
	case !custody.ValidEvidenceID(s.EvidenceID):
		return s, fmt.Errorf("receipt statement: invalid evidence id %q", s.EvidenceID)
	case !custody.ValidGrantID(s.GrantID):
		return s, fmt.Errorf("receipt statement: invalid grant id %q", s.GrantID)
	case len(s.SHA256) != 64 || strings.Trim(s.SHA256, "0123456789abcdef") != "":
		return s, fmt.Errorf("receipt statement: invalid sha256 %q", s.SHA256)
	case s.Time.IsZero():
		return s, errors.New("receipt statement: no time")
	}
	return s, nil
}

// VerifyReceiptSignature checks a receipt's signature with the public key of the
// certificate that signed it.
func VerifyReceiptSignature(pub crypto.PublicKey, r SignedReceipt) error {
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return fmt.Errorf("verifying receipt: key is %T, want ECDSA P-256", pub)
	}
	digest := sha256.Sum256(r.Statement)
	if !ecdsa.VerifyASN1(key, digest[:], r.Signature) {
		return errors.New("verifying receipt: signature does not verify")
	}
	return nil
}
