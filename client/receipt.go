package client

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/evidencegw/evidencegw/api"
)

// SignReceipt signs a receipt statement with the private key of the client
// certificate: ASN.1 ECDSA P-256 over SHA-256 of the statement bytes.
func (c *Client) SignReceipt(s api.ReceiptStatement) (api.SignedReceipt, error) {
	key, ok := c.signer.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return api.SignedReceipt{}, fmt.Errorf("signing receipt: the identity's key is %T, receipts need an ECDSA P-256 key", c.signer)
	}
	statement, err := s.Marshal()
	if err != nil {
		return api.SignedReceipt{}, err
	}
	digest := sha256.Sum256(statement)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return api.SignedReceipt{}, fmt.Errorf("signing receipt: %w", err)
	}
	return api.SignedReceipt{Statement: statement, Signature: sig}, nil
}

// SelectGrant picks the grant to accept among those the evidence view lists. With a
// grantID it is that grant, which must be active and not yet accepted. Without one it
// is the only active, unaccepted grant; several are an error that lists them.
func SelectGrant(ev *api.EvidenceView, grantID string) (api.GrantView, error) {
	if grantID != "" {
		for _, g := range ev.Grants {
			if g.GrantID != grantID {
				continue
			}
			switch {
			case g.Accepted:
				return g, fmt.Errorf("grant %s of %s is already accepted", grantID, ev.EvidenceID)
			case g.State != api.GrantActive:
				return g, fmt.Errorf("grant %s of %s is %s, not active", grantID, ev.EvidenceID, g.State)
			}
			return g, nil
		}
		return api.GrantView{}, fmt.Errorf("evidence %s has no grant %s for this identity", ev.EvidenceID, grantID)
	}
	var open []api.GrantView
	for _, g := range ev.Grants {
		if g.State == api.GrantActive && !g.Accepted {
			open = append(open, g)
		}
	}
	switch len(open) {
	case 0:
		return api.GrantView{}, fmt.Errorf("evidence %s has no active grant awaiting acceptance by this identity", ev.EvidenceID)
	case 1:
		return open[0], nil
	}
	ids := make([]string, len(open))
	for i, g := range open {
		ids[i] = g.GrantID + " (" + g.LegalBasis + ")"
	}
	return api.GrantView{}, fmt.Errorf("evidence %s has %d active grants awaiting acceptance: choose one of %s", ev.EvidenceID, len(open), strings.Join(ids, ", "))
}

// AcceptGrant accepts a grant of an evidence item: it reads the evidence, selects the
// grant (see SelectGrant; grantID may be empty) and sends the member's signed accept
// act for it.
func (c *Client) AcceptGrant(ctx context.Context, evidenceID, grantID string) (*api.GrantResult, error) {
	ev, err := c.Evidence(ctx, evidenceID)
	if err != nil {
		return nil, fmt.Errorf("accepting %s: %w", evidenceID, err)
	}
	g, err := SelectGrant(ev, grantID)
	if err != nil {
		return nil, fmt.Errorf("accepting %s: %w", evidenceID, err)
	}
	r, err := c.Accept(ctx, evidenceID, api.AcceptRequest{GrantID: g.GrantID})
	if err != nil {
		return nil, fmt.Errorf("accepting grant %s of %s: %w", g.GrantID, evidenceID, err)
	}
	return r, nil
}
