package custody

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// LeafPrefix starts every log leaf.
const LeafPrefix = "evidencegw-custody-leaf/v1\n"

const tagContext = "evidencegw-custody-tag/v1\n"

// Tag returns the exhibit tag of event seq: HMAC-SHA256 keyed with the exhibit's tag key
// over "evidencegw-custody-tag/v1\n" || evidence id || "\n" || decimal seq.
//
// The key is set at registration and travels only in the register event, so a reader of
// the raw log cannot link leaves to an exhibit, while a holder of the exhibit's bundle
// can find every leaf of the exhibit (completeness).
func Tag(tagKey []byte, evidenceID string, seq uint64) []byte {
	m := hmac.New(sha256.New, tagKey)
	m.Write([]byte(tagContext))
	m.Write([]byte(evidenceID))
	m.Write([]byte{'\n'})
	m.Write([]byte(strconv.FormatUint(seq, 10)))
	return m.Sum(nil)
}

// Leaf returns the log leaf of an event:
//
//	"evidencegw-custody-leaf/v1\n" || hex(event digest) || "\n" || hex(tag) || "\n"
//
// where the event digest is Digest(statement) and the tag is Tag(tagKey, id, seq).
func Leaf(statement, tagKey []byte, evidenceID string, seq uint64) []byte {
	var b bytes.Buffer
	b.WriteString(LeafPrefix)
	b.WriteString(Digest(statement))
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(Tag(tagKey, evidenceID, seq)))
	b.WriteByte('\n')
	return b.Bytes()
}

// ParseLeaf splits a leaf into its event digest and tag (both hex).
func ParseLeaf(leaf []byte) (digest, tag string, err error) {
	rest, ok := bytes.CutPrefix(leaf, []byte(LeafPrefix))
	if !ok || len(rest) != 64+1+64+1 || rest[64] != '\n' || rest[129] != '\n' {
		return "", "", fmt.Errorf("malformed custody leaf")
	}
	digest, tag = string(rest[:64]), string(rest[65:129])
	if !hexDigestRe.MatchString(digest) || !hexDigestRe.MatchString(tag) {
		return "", "", fmt.Errorf("malformed custody leaf")
	}
	return digest, tag, nil
}

// TagKey decodes the subject's tag key from its first event: an exhibit's register
// event or a request's request-filed event.
func (e Event) TagKey() ([]byte, error) {
	var key string
	switch {
	case e.Exhibit != nil:
		key = e.Exhibit.TagKey
	case e.Request != nil:
		key = e.Request.TagKey
	default:
		return nil, fmt.Errorf("event %d has no exhibit facts", e.Seq)
	}
	k, err := hex.DecodeString(key)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("invalid tag key in event %d", e.Seq)
	}
	return k, nil
}
