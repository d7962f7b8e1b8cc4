package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// SignReceipt signs a receipt statement with the private key of the client
// certificate: ASN.1 ECDSA P-256 over SHA-256 of the statement bytes.
func (c *Client) SignReceipt(s ReceiptStatement) (SignedReceipt, error) {
	key, ok := c.signer.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return SignedReceipt{}, fmt.Errorf("signing receipt: the identity's key is %T, receipts need an ECDSA P-256 key", c.signer)
	}
	statement, err := s.Marshal()
	if err != nil {
		return SignedReceipt{}, err
	}
	digest := sha256.Sum256(statement)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return SignedReceipt{}, fmt.Errorf("signing receipt: %w", err)
	}
	return SignedReceipt{Statement: statement, Signature: sig}, nil
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

// SelectGrant picks the grant to accept among those the evidence view lists. With a
// grantID it is that grant, which must be active and not yet accepted. Without one it
// is the only active, unaccepted grant; several are an error that lists them.
func SelectGrant(ev *EvidenceView, grantID string) (GrantView, error) {
	if grantID != "" {
		for _, g := range ev.Grants {
			if g.GrantID != grantID {
				continue
			}
			switch {
			case g.Accepted:
				return g, fmt.Errorf("grant %s of %s is already accepted", grantID, ev.EvidenceID)
			case g.State != GrantActive:
				return g, fmt.Errorf("grant %s of %s is %s, not active", grantID, ev.EvidenceID, g.State)
			}
			return g, nil
		}
		return GrantView{}, fmt.Errorf("evidence %s has no grant %s for this identity", ev.EvidenceID, grantID)
	}
	var open []GrantView
	for _, g := range ev.Grants {
		if g.State == GrantActive && !g.Accepted {
			open = append(open, g)
		}
	}
	switch len(open) {
	case 0:
		return GrantView{}, fmt.Errorf("evidence %s has no active grant awaiting acceptance by this identity", ev.EvidenceID)
	case 1:
		return open[0], nil
	}
	ids := make([]string, len(open))
	for i, g := range open {
		ids[i] = g.GrantID + " (" + g.LegalBasis + ")"
	}
	return GrantView{}, fmt.Errorf("evidence %s has %d active grants awaiting acceptance: choose one of %s", ev.EvidenceID, len(open), strings.Join(ids, ", "))
}

// AcceptGrant accepts a grant of an evidence item: it reads the evidence to learn its
// registered digest, selects the grant (see SelectGrant; grantID may be empty), signs
// a receipt for it now and sends it.
func (c *Client) AcceptGrant(ctx context.Context, evidenceID, grantID string) (*GrantResult, error) {
	ev, err := c.Evidence(ctx, evidenceID)
	if err != nil {
		return nil, fmt.Errorf("accepting %s: %w", evidenceID, err)
	}
	g, err := SelectGrant(ev, grantID)
	if err != nil {
		return nil, fmt.Errorf("accepting %s: %w", evidenceID, err)
	}
	receipt, err := c.SignReceipt(NewReceiptStatement(evidenceID, g.GrantID, ev.SHA256, c.now()))
	if err != nil {
		return nil, fmt.Errorf("accepting grant %s of %s: %w", g.GrantID, evidenceID, err)
	}
	r, err := c.Accept(ctx, evidenceID, AcceptRequest{GrantID: g.GrantID, Receipt: receipt})
	if err != nil {
		return nil, fmt.Errorf("accepting grant %s of %s: %w", g.GrantID, evidenceID, err)
	}
	return r, nil
}
