package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evidencegw/evidencegw/custody"
)

// HeaderCustodyAct carries the member's signed act on every request that changes
// custody: the standard (padded) base64 of the JSON of a [custody.SignedAct]
// (docs/api.md, "Signed acts").
const HeaderCustodyAct = "Custody-Act"

// maxActHeader bounds the Custody-Act header value.
var maxActHeader = base64.StdEncoding.EncodedLen(custody.MaxActSize)

// FormatAct encodes a signed act as the value of the Custody-Act header.
func FormatAct(sa custody.SignedAct) (string, error) {
	b, err := json.Marshal(sa)
	if err != nil {
		return "", fmt.Errorf("encoding signed act: %w", err)
	}
	if len(b) > custody.MaxActSize {
		return "", fmt.Errorf("signed act of %d bytes exceeds %d", len(b), custody.MaxActSize)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// ParseAct decodes the Custody-Act header values of a request: nil if there is none, an
// error if there are several or the one is malformed. It checks only the encoding; the
// signature and what the act names are checked by the use case.
func ParseAct(values ...string) (*custody.SignedAct, error) {
	switch {
	case len(values) == 0:
		return nil, nil
	case len(values) > 1:
		return nil, errors.New("more than one Custody-Act header")
	case len(values[0]) > maxActHeader:
		return nil, fmt.Errorf("Custody-Act header longer than %d bytes", maxActHeader)
	}
	b, err := base64.StdEncoding.DecodeString(values[0])
	if err != nil {
		return nil, fmt.Errorf("Custody-Act header is not base64: %w", err)
	}
	sa, err := custody.ParseSignedAct(b)
	if err != nil {
		return nil, fmt.Errorf("Custody-Act header: %w", err)
	}
	return &sa, nil
}
