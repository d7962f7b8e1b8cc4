package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// FormatDigest returns an RFC 9530 Content-Digest or Repr-Digest field value for a
// SHA-256 digest: "sha-256=:<base64>:".
func FormatDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// ErrNoSHA256 is returned by ParseDigest for a field that holds no sha-256 member.
var ErrNoSHA256 = errors.New("digest field has no sha-256 member")

// ParseDigest returns the SHA-256 digest of an RFC 9530 Content-Digest or Repr-Digest
// field value, a dictionary such as "sha-512=:...:, sha-256=:...:". Other algorithms
// are ignored; a malformed sha-256 member is an error.
func ParseDigest(field string) ([]byte, error) {
	for member := range strings.SplitSeq(field, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(member), "=")
		if !ok || strings.TrimSpace(key) != "sha-256" {
			continue
		}
		// Parameters (";...") may follow a dictionary value.
		value, _, _ = strings.Cut(strings.TrimSpace(value), ";")
		inner, ok := strings.CutPrefix(value, ":")
		if ok {
			inner, ok = strings.CutSuffix(inner, ":")
		}
		if !ok {
			return nil, fmt.Errorf("sha-256 digest %q is not a byte sequence (:base64:)", value)
		}
		sum, err := base64.StdEncoding.DecodeString(inner)
		if err != nil {
			return nil, fmt.Errorf("decoding sha-256 digest: %w", err)
		}
		if len(sum) != sha256.Size {
			return nil, fmt.Errorf("sha-256 digest of %d bytes, want %d", len(sum), sha256.Size)
		}
		return sum, nil
	}
	return nil, ErrNoSHA256
}

// maxCustodyHeader bounds a Custody-Event header value.
const maxCustodyHeader = 256 << 10

// FormatCustodyEvent encodes a receipt as a Custody-Event header value: the standard
// base64 of its JSON.
func FormatCustodyEvent(r CustodyReceipt) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encoding custody receipt: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// ParseCustodyEvent decodes a Custody-Event header value.
func ParseCustodyEvent(value string) (*CustodyReceipt, error) {
	if len(value) > maxCustodyHeader {
		return nil, fmt.Errorf("custody event header of %d bytes exceeds %d", len(value), maxCustodyHeader)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return nil, fmt.Errorf("decoding custody event header: %w", err)
	}
	var r CustodyReceipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding custody event header: %w", err)
	}
	return &r, nil
}
