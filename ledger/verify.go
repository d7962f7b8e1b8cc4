package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/evidencegw/evidencegw/custody"
)

// verifiedCacheSize bounds how many verified events the ledger remembers (about 150
// bytes each), so that a chain is checked once per process, not once per request.
const verifiedCacheSize = 1 << 17

// Damage is the first stored event of a chain that failed verification: its signature,
// its place in the chain or its inclusion in the log. It is a security event: the
// stored events were altered, removed or forged.
type Damage struct {
	Seq uint64
	// Digest is the hex SHA-256 of the stored statement, or of the stored bytes when
	// they are not an envelope.
	Digest string
	Reason string
}

func (d *Damage) Error() string {
	return fmt.Sprintf("stored custody event %d (digest %s) failed verification: %s", d.Seq, d.Digest, d.Reason)
}

// trustRootRefresh is the least time between two reloads of the trust root when an
// event does not verify with the one in hand (event keys may have been rotated).
const trustRootRefresh = time.Second

// verifier checks stored events against the trust root and the log, and remembers the
// events it verified.
type verifier struct {
	trustRoot func(ctx context.Context) (*custody.TrustRoot, error)
	log       Log
	verified  *lru.Cache[verifiedKey, struct{}]

	mu sync.Mutex
	// latest is the newest checkpoint verified with the trust root's log key.
	latest Checkpoint
	// tr is the trust root in hand, loaded at loaded.
	tr     *custody.TrustRoot
	loaded time.Time
}

// root returns the trust root in hand, loading it the first time.
func (v *verifier) root(ctx context.Context) (*custody.TrustRoot, error) {
	v.mu.Lock()
	tr := v.tr
	v.mu.Unlock()
	if tr != nil {
		return tr, nil
	}
	return v.reload(ctx)
}

// reload loads the trust root again, at most once per trustRootRefresh.
func (v *verifier) reload(ctx context.Context) (*custody.TrustRoot, error) {
	v.mu.Lock()
	if v.tr != nil && time.Since(v.loaded) < trustRootRefresh {
		tr := v.tr
		v.mu.Unlock()
		return tr, nil
	}
	v.mu.Unlock()
	tr, err := v.trustRoot(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the trust root: %w", err)
	}
	v.mu.Lock()
	v.tr, v.loaded = tr, time.Now()
	v.mu.Unlock()
	return tr, nil
}

// cosigned checks that cp carries the cosignatures the trust root requires: an error
// matching ErrWitnessQuorum if not.
func (v *verifier) cosigned(ctx context.Context, cp Checkpoint) error {
	tr, err := v.root(ctx)
	if err != nil {
		return err
	}
	if err := tr.CheckCosignatures(cp.Note); err != nil {
		return &WitnessQuorumError{Size: cp.Size, Refusals: []WitnessRefusal{{Detail: err.Error()}}}
	}
	return nil
}

// verifiedKey names a verified event: the SHA-256 of its stored envelope (signatures
// included) and its log index.
type verifiedKey struct {
	envelope [sha256.Size]byte
	index    uint64
}

func newVerifier(trustRoot func(ctx context.Context) (*custody.TrustRoot, error), log Log) *verifier {
	c, _ := lru.New[verifiedKey, struct{}](verifiedCacheSize)
	return &verifier{trustRoot: trustRoot, log: log, verified: c}
}

// check verifies one stored record of a chain whose earlier records verified: its
// envelope against the trust root, its place after prev, and its leaf in the log (when
// it has a log index). It returns why it failed, or "".
func (v *verifier) check(ctx context.Context, lk link, rec *Record, raw []byte, hasIndex bool) (string, error) {
	seq := lk.seq
	if reason := linkage(lk, rec); reason != "" {
		return reason, nil
	}
	key := verifiedKey{sha256.Sum256(raw), rec.LogIndex}
	if hasIndex && v.verified.Contains(key) {
		rec.Signed = true
		return "", nil
	}
	tr, reason, err := v.signature(ctx, *rec)
	if err != nil || reason != "" {
		return reason, err
	}
	rec.Signed = true
	if !hasIndex {
		return "", nil // not in the log yet: Load publishes it, Append proves it
	}
	tagKey := lk.tagKey
	if seq == 0 {
		if tagKey, err = rec.Event.TagKey(); err != nil {
			return err.Error(), nil
		}
	}
	leaf := custody.Leaf(rec.Statement, tagKey, rec.Event.EvidenceID, seq)
	reason, err = v.included(ctx, tr, leaf, rec.LogIndex)
	if reason == "" && err == nil {
		v.verified.Add(key, struct{}{})
	}
	return reason, err
}

// signature checks a record's envelope with the trust root, reloading the trust root
// once if it fails (the event key may have been rotated since it was loaded). It
// returns the trust root used and why the envelope failed, or "".
func (v *verifier) signature(ctx context.Context, rec Record) (*custody.TrustRoot, string, error) {
	tr, err := v.root(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, err := custody.VerifyEnvelope(rec.Envelope, tr); err == nil {
		return tr, "", nil
	}
	if tr, err = v.reload(ctx); err != nil {
		return nil, "", err
	}
	if _, err := custody.VerifyEnvelope(rec.Envelope, tr); err != nil {
		return tr, err.Error(), nil
	}
	return tr, "", nil
}

// signed reports whether a record's envelope verifies with the trust root.
func (v *verifier) signed(ctx context.Context, rec Record) (bool, error) {
	_, reason, err := v.signature(ctx, rec)
	return err == nil && reason == "", err
}

// linkage checks a record's place in its chain; "" if it is in place.
func linkage(lk link, rec *Record) string {
	ev, seq := rec.Event, lk.seq
	if seq == 0 {
		first := custody.ActionRegister
		if custody.ValidRequestID(ev.EvidenceID) {
			first = custody.ActionRequestFiled
		}
		if ev.Seq != 0 || ev.Action != first {
			return fmt.Sprintf("the first event is %s event %d, not a registration", ev.Action, ev.Seq)
		}
		return ""
	}
	first, prev := lk.first, lk.prev
	switch {
	case ev.Seq != seq:
		return fmt.Sprintf("event %d is stored where event %d belongs", ev.Seq, seq)
	case ev.EvidenceID != first.EvidenceID || ev.CaseID != first.CaseID:
		return fmt.Sprintf("the event is about %s (case %s), not %s (case %s)", ev.EvidenceID, ev.CaseID, first.EvidenceID, first.CaseID)
	case ev.Prev != prev.Digest:
		return fmt.Sprintf("its previous digest %s is not the digest of event %d (%s): the chain is broken", ev.Prev, seq-1, prev.Digest)
	case ev.Time.Before(prev.Event.Time):
		return fmt.Sprintf("its time %s precedes event %d", ev.Time.Format(time.RFC3339), seq-1)
	}
	return ""
}

// included checks that leaf is at index in the log, under the newest checkpoint
// verified with the trust root's log key. It returns why it is not, or "" (and an
// error if the log could not be read).
func (v *verifier) included(ctx context.Context, tr *custody.TrustRoot, leaf []byte, index uint64) (string, error) {
	cp, err := v.covering(ctx, tr, index)
	if err != nil {
		return "", err
	}
	if index >= cp.Size {
		return fmt.Sprintf("its log index %d is beyond the log's signed checkpoint of size %d", index, cp.Size), nil
	}
	hashes, err := v.log.InclusionProof(ctx, index, cp.Size)
	if err != nil {
		return "", fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", index, cp.Size, err)
	}
	if err := custody.VerifyInclusion(index, cp.Size, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, cp.Hash); err != nil {
		return fmt.Sprintf("its leaf is not in the log at index %d (checkpoint of size %d): %v", index, cp.Size, err), nil
	}
	return "", nil
}

// covering returns a verified checkpoint whose tree holds index, reading the log's
// latest one if the newest verified one is too small.
func (v *verifier) covering(ctx context.Context, tr *custody.TrustRoot, index uint64) (Checkpoint, error) {
	v.mu.Lock()
	cp := v.latest
	v.mu.Unlock()
	if index < cp.Size {
		return cp, nil
	}
	latest, err := v.log.Checkpoint(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("reading the log's checkpoint: %w", err)
	}
	return v.accept(tr, latest)
}

// accept verifies a checkpoint with the trust root's log key and keeps it if it is the
// newest so far.
func (v *verifier) accept(tr *custody.TrustRoot, cp Checkpoint) (Checkpoint, error) {
	opened, err := tr.ParseCheckpoint(cp.Note)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("the log's checkpoint: %w", err)
	}
	if opened.Size != cp.Size || string(opened.Hash) != string(cp.Hash) {
		return Checkpoint{}, fmt.Errorf("the log's checkpoint says size %d, its note %d: %w", cp.Size, opened.Size, ErrSecurity)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if cp.Size > v.latest.Size {
		v.latest = cp
	}
	return cp, nil
}

// proven checks the proof of a record the ledger itself appended against the
// checkpoint the log returned, and remembers the record as verified.
func (v *verifier) proven(ctx context.Context, rec Record, raw, leaf []byte, cp Checkpoint, hashes [][]byte) error {
	tr, err := v.root(ctx)
	if err != nil {
		return err
	}
	if cp, err = v.accept(tr, cp); err != nil {
		return err
	}
	if err := custody.VerifyInclusion(rec.LogIndex, cp.Size, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, cp.Hash); err != nil {
		return fmt.Errorf("the log's inclusion proof of leaf %d in tree %d does not verify: %v: %w", rec.LogIndex, cp.Size, err, ErrSecurity)
	}
	v.verified.Add(verifiedKey{sha256.Sum256(raw), rec.LogIndex}, struct{}{})
	return nil
}

// rawDigest is the digest that names stored bytes that are not an envelope.
func rawDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Leaves returns count leaves of the log from start, in the tree of size size, each
// proven to be in the log by an inclusion proof to the newest checkpoint verified with
// the trust root's log key: whatever backend serves them, and whatever its storage
// holds, only leaves of the signed tree come out. A leaf that fails is an error
// matching ErrSecurity.
func (l *Ledger) Leaves(ctx context.Context, start, count, size uint64) ([][]byte, error) {
	lr, ok := l.cfg.Log.(LeafReader)
	if !ok {
		return nil, fmt.Errorf("the log backend does not serve its leaves: %w", errors.ErrUnsupported)
	}
	tr, err := l.verify.root(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := l.verify.covering(ctx, tr, start+count-1)
	if err != nil {
		return nil, err
	}
	if size > cp.Size {
		return nil, fmt.Errorf("tree size %d is beyond the signed checkpoint's %d: %w", size, cp.Size, ErrBadSize)
	}
	leaves, err := lr.Leaves(ctx, start, count, size)
	if err != nil {
		return nil, err
	}
	for i, leaf := range leaves {
		idx := start + uint64(i)
		hashes, err := l.cfg.Log.InclusionProof(ctx, idx, cp.Size)
		if err != nil {
			return nil, fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", idx, cp.Size, err)
		}
		if err := custody.VerifyInclusion(idx, cp.Size, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, cp.Hash); err != nil {
			return nil, fmt.Errorf("the log served a leaf %d that is not in its signed tree of size %d: %v: %w", idx, cp.Size, err, ErrSecurity)
		}
	}
	return leaves, nil
}
