package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// ReceiptError reports a download that completed, its bytes verified and in place, but
// whose signed receipt the gateway did not record: the custody record shows the
// download as not received.
type ReceiptError struct {
	EvidenceID string
	Err        error
}

func (e *ReceiptError) Error() string {
	return fmt.Sprintf("the download of %s is complete and verified, but its signed receipt was not recorded: %v", e.EvidenceID, e.Err)
}

func (e *ReceiptError) Unwrap() error { return e.Err }

// Received records the member's signed receipt of a download: the received act names
// the download event (download, as the gateway answered it), the hex SHA-256 of the
// bytes received and their number (POST /v1/evidence/{id}/received).
func (c *Client) Received(ctx context.Context, evidenceID string, download *api.CustodyReceipt, sha256Hex string, size int64) (*api.CustodyReceipt, error) {
	if download == nil {
		return nil, errors.New("the gateway did not say which download event it recorded")
	}
	payload, err := download.Envelope.PayloadBytes()
	if err != nil {
		return nil, fmt.Errorf("reading the download event: %w", err)
	}
	st, err := custody.ParseStatement(payload)
	if err != nil {
		return nil, fmt.Errorf("reading the download event: %w", err)
	}
	if st.Predicate.EvidenceID != evidenceID || custody.Digest(payload) != download.Digest {
		return nil, fmt.Errorf("the download event is not the one the gateway named")
	}
	a := custody.Act{Action: custody.ActionReceived, Download: download.Digest, Size: size}
	if g := st.Predicate.Grant; g != nil {
		a.GrantID = g.ID
	}
	path, err := evidencePath(evidenceID, "/received")
	if err != nil {
		return nil, err
	}
	hdr, err := c.actHeader(ctx, evidenceID, sha256Hex, a)
	if err != nil {
		return nil, err
	}
	var rc api.CustodyReceipt
	if err := c.doJSONWith(ctx, http.MethodPost, path, nil, http.StatusOK, &rc, hdr); err != nil {
		return nil, err
	}
	return &rc, nil
}
