package custody

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// LogSnapshotMediaType identifies version 1 of the log snapshot format.
const LogSnapshotMediaType = "application/vnd.evidencegw.log-snapshot.v1+json"

// MaxLogSnapshotSize bounds an encoded log snapshot (1 GiB).
const MaxLogSnapshotSize = 1 << 30

// LogSnapshot is every leaf of the log up to a signed checkpoint. A court obtains it
// from the gateway (`evidencegw log snapshot`) or from anyone who mirrors the log; it
// needs no trust in whoever supplies it, because the leaves must hash to the root of a
// checkpoint signed by the trusted log key.
type LogSnapshot struct {
	MediaType string `json:"media_type"`
	// Checkpoint is the C2SP signed checkpoint the leaves add up to.
	Checkpoint string `json:"checkpoint"`
	// Leaves are the log's leaves 0..size-1 (base64 in JSON).
	Leaves [][]byte `json:"leaves"`
}

// ParseLogSnapshot decodes a log snapshot, refusing unknown fields and other media types.
func ParseLogSnapshot(data []byte) (*LogSnapshot, error) {
	if len(data) > MaxLogSnapshotSize {
		return nil, fmt.Errorf("log snapshot of %d bytes exceeds %d", len(data), MaxLogSnapshotSize)
	}
	var s LogSnapshot
	if err := decodeStrict(data, &s); err != nil {
		return nil, fmt.Errorf("decoding log snapshot: %w", err)
	}
	if s.MediaType != LogSnapshotMediaType {
		return nil, fmt.Errorf("log snapshot media type %q, want %q", s.MediaType, LogSnapshotMediaType)
	}
	return &s, nil
}

// Completeness is what a completeness check established.
type Completeness struct {
	// LogSize is the size of the snapshot's checkpoint.
	LogSize uint64
	// BundleSize is the largest tree size the bundle's proofs lead to: the bundle is
	// complete up to it.
	BundleSize uint64
	// LaterEvents counts events of the exhibit logged after the bundle's checkpoint.
	LaterEvents int
	// Republished counts leaves that repeat a bundled event (a crash-recovery append of
	// the same signed event).
	Republished int
}

// CheckCompleteness checks, against a log snapshot, that a verified bundle (r, from
// Verify) lists every custody event of its exhibit up to the bundle's checkpoint:
//
//  1. the snapshot's checkpoint is signed by the trusted log key and its leaves hash
//     to its root, so the snapshot is the log itself;
//  2. every checkpoint of the bundle is a prefix of the snapshot (same root at its
//     size): the log did not fork between them;
//  3. scanning every leaf, no leaf below the bundle's checkpoint carries a tag of the
//     exhibit (Tag) other than the bundle's own events.
//
// A failure wraps ErrVerification.
func CheckCompleteness(r *Report, snap *LogSnapshot, tr *TrustRoot) (*Completeness, error) {
	if len(r.Events) == 0 {
		return nil, failf("no verified events to check completeness of")
	}
	if tr.Log.verifier == nil {
		return nil, fmt.Errorf("trust root not loaded: use ParseTrustRoot")
	}
	cp, _, _, err := log.ParseCheckpoint([]byte(snap.Checkpoint), tr.Log.Origin, tr.Log.verifier)
	if err != nil {
		return nil, failf("log snapshot checkpoint not signed by the trusted log key: %v", err)
	}
	if uint64(len(snap.Leaves)) != cp.Size {
		return nil, failf("log snapshot holds %d leaves for a checkpoint of size %d", len(snap.Leaves), cp.Size)
	}
	c := &Completeness{LogSize: cp.Size}
	for size := range r.Checkpoints {
		c.BundleSize = max(c.BundleSize, size)
	}
	if c.BundleSize > cp.Size {
		return nil, failf("log snapshot (size %d) is older than the bundle's checkpoint (size %d)", cp.Size, c.BundleSize)
	}
	if err := checkPrefixRoots(snap.Leaves, cp.Hash, r.Checkpoints); err != nil {
		return nil, err
	}
	return c, c.scanTags(r, snap.Leaves)
}

// checkPrefixRoots recomputes the Merkle root of the leaves at each checkpoint size.
func checkPrefixRoots(leaves [][]byte, root []byte, checkpoints map[uint64][]byte) error {
	sizes := slices.Sorted(func(yield func(uint64) bool) {
		for s := range checkpoints {
			if !yield(s) {
				return
			}
		}
	})
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	next := 0
	for i := 0; i <= len(leaves); i++ {
		for next < len(sizes) && sizes[next] == uint64(i) {
			got, err := rootOf(rng)
			if err != nil {
				return err
			}
			if want := checkpointRoot(checkpoints[sizes[next]]); !bytes.Equal(got, want) {
				return failf("the log's first %d leaves do not hash to the bundle's checkpoint of that size: the log forked", sizes[next])
			}
			next++
		}
		if i == len(leaves) {
			break
		}
		if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(leaves[i]), nil); err != nil {
			return fmt.Errorf("hashing leaf %d: %w", i, err)
		}
	}
	got, err := rootOf(rng)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, root) {
		return failf("the log snapshot's leaves do not hash to its checkpoint's root")
	}
	return nil
}

func rootOf(rng *compact.Range) ([]byte, error) {
	if rng.End() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	return rng.GetRootHash(nil)
}

// scanTags looks for leaves of the exhibit that the bundle does not list.
func (c *Completeness) scanTags(r *Report, leaves [][]byte) error {
	tagKey, err := r.Events[0].Event.TagKey()
	if err != nil {
		return failf("%v", err)
	}
	id := r.EvidenceID
	// An exhibit cannot have more events than the log has leaves.
	seqOf := make(map[string]uint64, len(leaves))
	for s := range uint64(len(leaves)) {
		seqOf[hex.EncodeToString(Tag(tagKey, id, s))] = s
	}
	for i, leaf := range leaves {
		digest, tag, err := ParseLeaf(leaf)
		if err != nil {
			continue // not a custody leaf
		}
		s, ok := seqOf[tag]
		if !ok {
			continue
		}
		switch {
		case s < uint64(len(r.Events)) && r.Events[s].LogIndex == uint64(i):
		case s < uint64(len(r.Events)) && digest == r.Events[s].Digest:
			c.Republished++
		case s < uint64(len(r.Events)):
			return failf("log leaf %d is a second, different event %d of %s, absent from the bundle: the exhibit's chain forked", i, s, id)
		case uint64(i) < c.BundleSize:
			return failf("log leaf %d is event %d of %s, logged before the bundle's checkpoint but absent from the bundle: the bundle is incomplete", i, s, id)
		default:
			c.LaterEvents++
		}
	}
	return nil
}
