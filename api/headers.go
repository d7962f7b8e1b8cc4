package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dunglas/httpsfv"
)

// FormatDigest returns an RFC 9530 Content-Digest or Repr-Digest field value for a
// SHA-256 digest: "sha-256=:<base64>:".
func FormatDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// ErrNoSHA256 is returned by ParseDigest for a field that holds no sha-256 member.
var ErrNoSHA256 = errors.New("digest field has no sha-256 member")

// ParseDigest returns the SHA-256 digest of an RFC 9530 Content-Digest or Repr-Digest
// field, an RFC 8941 dictionary such as "sha-512=:...:, sha-256=:...:", given as the
// values of its field lines (which are joined as RFC 9110 combines them). The field is
// parsed with an RFC 8941 parser (github.com/dunglas/httpsfv): any syntax error is an
// error. Members of other algorithms are ignored. A sha-256 member that is not a byte
// sequence of 32 bytes is an error, and so is more than one sha-256 member: RFC 8941
// would keep the last, a reader that keeps the first would see another digest, so an
// ambiguous field is refused rather than read either way.
func ParseDigest(fields ...string) ([]byte, error) {
	dict, err := httpsfv.UnmarshalDictionary(fields)
	if err != nil {
		return nil, fmt.Errorf("digest field is not an RFC 8941 dictionary: %w", err)
	}
	m, ok := dict.Get("sha-256")
	if !ok {
		return nil, ErrNoSHA256
	}
	if n := countMembers(fields); n != len(dict.Names()) {
		return nil, fmt.Errorf("digest field repeats a member (%d members, %d names): refused as ambiguous", n, len(dict.Names()))
	}
	item, ok := m.(httpsfv.Item)
	if !ok {
		return nil, errors.New("sha-256 digest is an inner list, not a byte sequence")
	}
	sum, ok := item.Value.([]byte)
	if !ok {
		return nil, fmt.Errorf("sha-256 digest is a %T, not a byte sequence (:base64:)", item.Value)
	}
	if len(sum) != sha256.Size {
		return nil, fmt.Errorf("sha-256 digest of %d bytes, want %d", len(sum), sha256.Size)
	}
	return sum, nil
}

// countMembers counts the top-level members of fields, a dictionary the RFC 8941 parser
// has accepted: in a valid dictionary a comma outside a string (or display string)
// separates two members, and nowhere else can one appear.
func countMembers(fields []string) int {
	n := 0
	for _, f := range fields {
		if strings.TrimSpace(f) == "" {
			continue
		}
		n++
		inString := false
		for i := 0; i < len(f); i++ {
			switch c := f[i]; {
			case inString && c == '\\':
				i++
			case c == '"':
				inString = !inString
			case c == ',' && !inString:
				n++
			}
		}
	}
	return n
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

// FormatIdempotencyKey encodes an idempotency key as an RFC 8941 string item.
func FormatIdempotencyKey(key string) string {
	v, err := httpsfv.Marshal(httpsfv.NewItem(key))
	if err != nil {
		return ""
	}
	return v
}

// ParseIdempotencyKey decodes an Idempotency-Key field: one RFC 8941 string of 1 to
// 255 printable ASCII characters.
func ParseIdempotencyKey(fields ...string) (string, error) {
	item, err := httpsfv.UnmarshalItem(fields)
	if err != nil {
		return "", fmt.Errorf("Idempotency-Key is not an RFC 8941 item: %w", err)
	}
	key, ok := item.Value.(string)
	if !ok {
		return "", fmt.Errorf("Idempotency-Key is a %T, want a string (\"...\")", item.Value)
	}
	if key == "" || len(key) > 255 {
		return "", fmt.Errorf("Idempotency-Key of %d characters, want 1 to 255", len(key))
	}
	return key, nil
}
