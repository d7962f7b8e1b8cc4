package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Trust root versions (docs/bundle.md#trust-root-versions). Version 1 is the first
// trust root, unversioned as the first release wrote it; every later version names the
// SHA-256 of the one before and is published as a change logged in the transparency
// log of the version before, so that a court that pinned version n accepts version n+1
// only if that log, under its key and witnesses, holds the change.
const (
	// TrustRootChainMediaType identifies a trust root chain file.
	TrustRootChainMediaType = "application/vnd.evidencegw.trust-root-chain.v1+json"
	// TrustRootChangeType is the in-toto predicate type of a trust root change.
	TrustRootChangeType = "https://github.com/evidencegw/evidencegw/trust-root-change/v1"
	// TrustRootLeafPrefix starts the log leaf of a trust root change.
	TrustRootLeafPrefix = "evidencegw-trust-root-leaf/v1\n"
	// trustRootSubject is the subject name of a trust root change statement.
	trustRootSubject = "trust-root"
	// MaxTrustRootChainSize bounds an encoded chain.
	MaxTrustRootChainSize = 64 << 20
	// maxTrustRootChanges bounds the changes of one chain.
	maxTrustRootChanges = 10000
)

// TrustRootVersion returns the version of the trust root: 1 when it has none.
func (tr *TrustRoot) TrustRootVersion() uint64 { return max(tr.Version, 1) }

// TrustRootDigest is the hex SHA-256 of an encoded trust root, as a later version names
// it in Previous.
func TrustRootDigest(encoded []byte) string {
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:])
}

// SameTrust reports whether two trust roots say the same (their keys, log, witnesses and
// whatever else they carry), whatever their version and previous digest.
func SameTrust(a, b *TrustRoot) (bool, error) {
	ac, bc := *a, *b
	ac.Version, ac.Previous, bc.Version, bc.Previous = 0, "", 0, ""
	ab, err := json.Marshal(&ac)
	if err != nil {
		return false, err
	}
	bb, err := json.Marshal(&bc)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ab, bb), nil
}

// TrustRootChange is the statement predicate of a trust root change: the version it
// introduces, the digest of the version before and when the gateway made it.
type TrustRootChange struct {
	Version  uint64    `json:"version"`
	Previous string    `json:"previous"`
	Time     time.Time `json:"time"`
}

// trustRootStatement is the in-toto Statement v1 of a change.
type trustRootStatement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     TrustRootChange `json:"predicate"`
}

// NewTrustRootChangeStatement returns the statement a gateway signs for a new trust
// root version: its subject the encoded trust root.
func NewTrustRootChangeStatement(encoded []byte, version uint64, previous string, at time.Time) ([]byte, error) {
	return json.Marshal(trustRootStatement{
		Type:          StatementType,
		Subject:       []Subject{{Name: trustRootSubject, Digest: map[string]string{"sha256": TrustRootDigest(encoded)}}},
		PredicateType: TrustRootChangeType,
		Predicate:     TrustRootChange{Version: version, Previous: previous, Time: at.UTC()},
	})
}

// TrustRootLeaf returns the log leaf of a change statement:
// "evidencegw-trust-root-leaf/v1\n" || hex(SHA-256(statement)) || "\n".
func TrustRootLeaf(statement []byte) []byte {
	return []byte(TrustRootLeafPrefix + Digest(statement) + "\n")
}

// TrustRootChainEntry is one logged change: the new version's exact bytes, its signed
// change statement, and the proof that the log of the version before holds it.
type TrustRootChainEntry struct {
	// TrustRoot is the standard base64 of the encoded trust root of this version.
	TrustRoot string   `json:"trust_root"`
	Envelope  Envelope `json:"envelope"`
	// Proof is a C2SP tlog-proof of the change's leaf.
	Proof string `json:"proof"`
}

// TrustRootChain lists the changes from version 2 on, in version order.
type TrustRootChain struct {
	MediaType string                `json:"media_type"`
	Changes   []TrustRootChainEntry `json:"changes"`
}

// ParseTrustRootChain decodes a chain file, refusing unknown fields and oversized input.
func ParseTrustRootChain(b []byte) (*TrustRootChain, error) {
	if len(b) > MaxTrustRootChainSize {
		return nil, fmt.Errorf("trust root chain of %d bytes exceeds %d", len(b), MaxTrustRootChainSize)
	}
	var c TrustRootChain
	if err := decodeStrict(b, &c); err != nil {
		return nil, fmt.Errorf("decoding trust root chain: %w", err)
	}
	if c.MediaType != TrustRootChainMediaType {
		return nil, fmt.Errorf("trust root chain media type %q, want %q", c.MediaType, TrustRootChainMediaType)
	}
	if len(c.Changes) > maxTrustRootChanges {
		return nil, fmt.Errorf("trust root chain of %d changes exceeds %d", len(c.Changes), maxTrustRootChanges)
	}
	return &c, nil
}

// Marshal encodes the chain as indented JSON.
func (c *TrustRootChain) Marshal() ([]byte, error) {
	c.MediaType = TrustRootChainMediaType
	if c.Changes == nil {
		c.Changes = []TrustRootChainEntry{}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding trust root chain: %w", err)
	}
	return append(b, '\n'), nil
}

// FollowTrustRootChain starts from the trust root a verifier pinned (its exact bytes)
// and accepts each later version of the chain in turn, only if (docs/bundle.md):
//
//  1. it is the next version, and names the SHA-256 of the current one's bytes;
//  2. its change statement, about its bytes, is signed by an event key of the new
//     version valid at the change's time;
//  3. the change's leaf is included in a checkpoint signed by the current version's log
//     key, cosigned as the current version's witnesses require and as policy (the
//     verifier's own witness policy, if not nil) requires.
//
// Changes up to the pinned version are skipped. It returns the latest trust root
// reached and its bytes; an error wraps ErrVerification when the chain does not hold.
func FollowTrustRootChain(pinned []byte, chain *TrustRootChain, policy *WitnessPolicy) (*TrustRoot, []byte, error) {
	cur, err := ParseTrustRoot(pinned)
	if err != nil {
		return nil, nil, err
	}
	curBytes := pinned
	for i, ch := range chain.Changes {
		next, nextBytes, err := followOne(cur, curBytes, ch, policy)
		if err == errSkip {
			continue
		}
		if err != nil {
			return cur, curBytes, fmt.Errorf("trust root chain change %d: %w", i, err)
		}
		cur, curBytes = next, nextBytes
	}
	return cur, curBytes, nil
}

var errSkip = errors.New("change at or before the pinned version")

func followOne(cur *TrustRoot, curBytes []byte, ch TrustRootChainEntry, policy *WitnessPolicy) (*TrustRoot, []byte, error) {
	nextBytes, err := base64.StdEncoding.DecodeString(ch.TrustRoot)
	if err != nil {
		return nil, nil, failf("trust root is not base64: %v", err)
	}
	next, err := ParseTrustRoot(nextBytes)
	if err != nil {
		return nil, nil, failf("%v", err)
	}
	v := next.TrustRootVersion()
	switch {
	case v <= cur.TrustRootVersion():
		return nil, nil, errSkip
	case v != cur.TrustRootVersion()+1:
		return nil, nil, failf("version %d follows version %d: a change is missing", v, cur.TrustRootVersion())
	case next.Previous != TrustRootDigest(curBytes):
		return nil, nil, failf("version %d names previous %q, not the SHA-256 of version %d", v, next.Previous, cur.TrustRootVersion())
	}
	change, err := verifyChangeEnvelope(ch.Envelope, next, nextBytes)
	if err != nil {
		return nil, nil, err
	}
	if change.Version != v || change.Previous != next.Previous {
		return nil, nil, failf("the signed change is for version %d after %q, not version %d", change.Version, change.Previous, v)
	}
	payload, _ := ch.Envelope.PayloadBytes()
	if _, err := verifyInclusion(ch.Proof, cur, policy, checkpointCache{}, TrustRootLeaf(payload)); err != nil {
		return nil, nil, fmt.Errorf("version %d is not in the log of version %d: %w", v, cur.TrustRootVersion(), err)
	}
	return next, nextBytes, nil
}

// verifyChangeEnvelope checks the change statement: well formed, about the new trust
// root's bytes, signed by one of its event keys valid at the change's time.
func verifyChangeEnvelope(env Envelope, next *TrustRoot, nextBytes []byte) (TrustRootChange, error) {
	if env.PayloadType != PayloadType || len(env.Signatures) == 0 {
		return TrustRootChange{}, failf("the change envelope is not a signed in-toto statement")
	}
	payload, err := env.PayloadBytes()
	if err != nil || len(payload) > MaxStatementSize {
		return TrustRootChange{}, failf("the change envelope's payload is malformed")
	}
	var st trustRootStatement
	if err := decodeStrict(payload, &st); err != nil {
		return TrustRootChange{}, failf("the change statement: %v", err)
	}
	switch {
	case st.Type != StatementType || st.PredicateType != TrustRootChangeType:
		return TrustRootChange{}, failf("the change statement has type %q, predicate type %q", st.Type, st.PredicateType)
	case len(st.Subject) != 1 || st.Subject[0].Name != trustRootSubject || st.Subject[0].Digest["sha256"] != TrustRootDigest(nextBytes):
		return TrustRootChange{}, failf("the change statement is not about this trust root's bytes")
	}
	for _, s := range env.Signatures {
		key, ok := next.key(s.KeyID)
		if !ok || !key.validAt(st.Predicate.Time) {
			continue
		}
		if env.verifyWith(key, payload) == nil {
			return st.Predicate, nil
		}
	}
	return TrustRootChange{}, failf("the change is not signed by an event key of the new version valid at %s", st.Predicate.Time.Format(time.RFC3339))
}
