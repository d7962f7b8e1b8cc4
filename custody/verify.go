package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// ErrVerification is wrapped by every error of Verify that means the bundle must not be
// trusted (as opposed to an unreadable input).
var ErrVerification = errors.New("custody verification failed")

// VerifiedEvent is one event of a verified bundle.
type VerifiedEvent struct {
	Event     Event
	Digest    string
	KeyID     string
	LogIndex  uint64
	TreeSize  uint64
	Statement []byte
}

// Report is what Verify established.
type Report struct {
	EvidenceID string
	CaseID     string
	SHA256     string
	Size       int64
	Origin     string
	Events     []VerifiedEvent
	// Checkpoints are the distinct signed checkpoints the proofs lead to, by tree size.
	Checkpoints map[uint64][]byte
	// ContentChecked is set when the exhibit's bytes were hashed and matched.
	ContentChecked bool
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Content, if set, is read to the end and its SHA-256 compared with the exhibit's.
	Content io.Reader
}

func failf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrVerification, fmt.Sprintf(format, args...))
}

// Verify checks a bundle against a trust root, offline:
//
//  1. every envelope is signed by a trusted event key valid at the event's time;
//  2. every statement is well formed and all are about one exhibit;
//  3. the events form a hash chain: seq 0..n-1 in order, each Prev the digest of the
//     previous statement, event 0 the registration;
//  4. every proof's checkpoint is signed by the trusted log key, and the event's leaf
//     is included in it at the stated index;
//  5. with opts.Content, the content's SHA-256 is the exhibit's.
//
// The first failure is returned, wrapping ErrVerification, with the event it concerns.
func Verify(b *Bundle, tr *TrustRoot, opts VerifyOptions) (*Report, error) {
	if tr.Witnesses.Quorum > 0 {
		return nil, fmt.Errorf("trust root requires %d witness cosignatures: this verifier does not check witnesses yet", tr.Witnesses.Quorum)
	}
	r := &Report{Origin: tr.Log.Origin, Checkpoints: map[uint64][]byte{}}
	var tagKey []byte
	for i, entry := range b.Events {
		ve, err := verifyEntry(entry, tr)
		if err != nil {
			return r, fmt.Errorf("event %d: %w", i, err)
		}
		ev := ve.Event
		if ev.Seq != uint64(i) {
			return r, failf("event %d: has sequence number %d: events are missing or out of order", i, ev.Seq)
		}
		if i == 0 {
			if tagKey, err = ev.TagKey(); err != nil {
				return r, failf("event 0: %v", err)
			}
			r.EvidenceID, r.CaseID = ev.EvidenceID, ev.CaseID
			r.SHA256, r.Size = ev.Exhibit.SHA256, ev.Exhibit.Size
		} else {
			prev := r.Events[i-1]
			if ev.Prev != prev.Digest {
				return r, failf("event %d: previous digest %s does not match event %d (%s): the chain is broken", i, ev.Prev, i-1, prev.Digest)
			}
			if ev.EvidenceID != r.EvidenceID || ev.CaseID != r.CaseID {
				return r, failf("event %d: is about %s (case %s), not %s (case %s)", i, ev.EvidenceID, ev.CaseID, r.EvidenceID, r.CaseID)
			}
			if ev.Time.Before(prev.Event.Time) {
				return r, failf("event %d: time %s precedes event %d", i, ev.Time.Format(time.RFC3339), i-1)
			}
		}
		cp, err := verifyInclusion(entry.Proof, tr, Leaf(ve.Statement, tagKey, ev.EvidenceID, ev.Seq))
		if err != nil {
			return r, fmt.Errorf("event %d: %w", i, err)
		}
		ve.LogIndex, ve.TreeSize = cp.index, cp.size
		if old, ok := r.Checkpoints[cp.size]; ok && !bytes.Equal(cp.root, checkpointRoot(old)) {
			return r, failf("event %d: two different log roots for tree size %d: the log forked", i, cp.size)
		}
		r.Checkpoints[cp.size] = cp.note
		r.Events = append(r.Events, ve)
	}
	if opts.Content != nil {
		h := sha256.New()
		if _, err := io.Copy(h, opts.Content); err != nil {
			return r, fmt.Errorf("reading evidence content: %w", err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
			return r, failf("evidence content has SHA-256 %s, the registered exhibit has %s", got, r.SHA256)
		}
		r.ContentChecked = true
	}
	return r, nil
}

func verifyEntry(entry BundleEntry, tr *TrustRoot) (VerifiedEvent, error) {
	var ve VerifiedEvent
	env := entry.Envelope
	if env.PayloadType != PayloadType {
		return ve, failf("payload type %q, want %q", env.PayloadType, PayloadType)
	}
	payload, err := env.PayloadBytes()
	if err != nil {
		return ve, failf("%v", err)
	}
	st, err := ParseStatement(payload)
	if err != nil {
		return ve, failf("%v", err)
	}
	ve.Event, ve.Statement, ve.Digest = st.Predicate, payload, Digest(payload)
	var errs []error
	for _, s := range env.Signatures {
		key, ok := tr.key(s.KeyID)
		if !ok {
			errs = append(errs, fmt.Errorf("key %s is not in the trust root", s.KeyID))
			continue
		}
		if !key.validAt(st.Predicate.Time) {
			errs = append(errs, fmt.Errorf("key %s was not valid at %s", s.KeyID, st.Predicate.Time.Format(time.RFC3339)))
			continue
		}
		if err := env.verifyWith(key, payload); err != nil {
			errs = append(errs, err)
			continue
		}
		ve.KeyID = key.KeyID
		return ve, nil
	}
	return ve, failf("no trusted signature (seq %d, %s): %v", st.Predicate.Seq, st.Predicate.Action, errors.Join(errs...))
}

type verifiedCheckpoint struct {
	index, size uint64
	root        []byte
	note        []byte
}

// verifyInclusion checks a C2SP tlog-proof for leaf against the trusted log key.
func verifyInclusion(text string, tr *TrustRoot, leaf []byte) (verifiedCheckpoint, error) {
	var vc verifiedCheckpoint
	var p tproof.TLogProof
	if err := p.Unmarshal([]byte(text)); err != nil {
		return vc, failf("malformed tlog-proof: %v", err)
	}
	cp, _, _, err := log.ParseCheckpoint(p.Checkpoint, tr.Log.Origin, tr.Log.verifier)
	if err != nil {
		return vc, failf("checkpoint not signed by the trusted log key: %v", err)
	}
	hashes := make([][]byte, len(p.Hashes))
	for i := range p.Hashes {
		hashes[i] = p.Hashes[i][:]
	}
	leafHash := rfc6962.DefaultHasher.HashLeaf(leaf)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, cp.Size, leafHash, hashes, cp.Hash); err != nil {
		return vc, failf("leaf %d is not included in the checkpoint of size %d: %v", p.Index, cp.Size, err)
	}
	return verifiedCheckpoint{index: p.Index, size: cp.Size, root: cp.Hash, note: p.Checkpoint}, nil
}

// checkpointRoot returns the root hash of an already verified checkpoint note.
func checkpointRoot(n []byte) []byte {
	var c log.Checkpoint
	if _, err := c.Unmarshal(n); err != nil {
		return nil
	}
	return c.Hash
}
