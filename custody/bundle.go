package custody

import (
	"encoding/json"
	"fmt"
)

// BundleMediaType identifies version 1 of the court bundle format.
const BundleMediaType = "application/vnd.evidencegw.custody-bundle.v1+json"

// MaxBundleSize bounds an encoded bundle (64 MiB).
const MaxBundleSize = 64 << 20

// Bundle is the self-contained custody record of one exhibit, for offline verification.
type Bundle struct {
	MediaType string        `json:"media_type"`
	Events    []BundleEntry `json:"events"`
	// Consistency holds, on request, RFC 6962 consistency proofs from earlier tree sizes
	// (those of bundles the court already holds) to this bundle's checkpoint, so that
	// several bundles can be checked against each other offline (CrossCheck).
	Consistency []ConsistencyEntry `json:"consistency,omitempty"`
}

// ConsistencyEntry is a consistency proof between two tree sizes of the log.
type ConsistencyEntry struct {
	FromSize uint64   `json:"from_size"`
	ToSize   uint64   `json:"to_size"`
	Hashes   [][]byte `json:"hashes"`
}

// BundleEntry is one custody event with its proof of inclusion in the log.
type BundleEntry struct {
	// Envelope is the DSSE envelope that signs the event statement.
	Envelope Envelope `json:"envelope"`
	// Proof is a C2SP tlog-proof (https://c2sp.org/tlog-proof): the leaf index, the
	// RFC 6962 inclusion proof and the signed checkpoint it leads to.
	Proof string `json:"proof"`
}

// Marshal encodes the bundle as indented JSON.
func (b *Bundle) Marshal() ([]byte, error) {
	b.MediaType = BundleMediaType
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding bundle: %w", err)
	}
	return append(out, '\n'), nil
}

// ParseBundle decodes a bundle, refusing unknown fields, oversized input and other
// media types. It checks only the encoding; Verify checks the content.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("bundle of %d bytes exceeds %d", len(data), MaxBundleSize)
	}
	var b Bundle
	if err := decodeStrict(data, &b); err != nil {
		return nil, fmt.Errorf("decoding bundle: %w", err)
	}
	if b.MediaType != BundleMediaType {
		return nil, fmt.Errorf("bundle media type %q, want %q", b.MediaType, BundleMediaType)
	}
	if len(b.Events) == 0 {
		return nil, fmt.Errorf("bundle holds no event")
	}
	return &b, nil
}
