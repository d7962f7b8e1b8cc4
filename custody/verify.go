package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// ErrVerification is wrapped by every error of Verify that means the bundle must not be
// trusted (as opposed to an unreadable input).
var ErrVerification = errors.New("custody verification failed")

// VerifiedEvent is one event of a bundle and what was established about it.
type VerifiedEvent struct {
	Event     Event
	Digest    string
	KeyID     string
	LogIndex  uint64
	TreeSize  uint64
	Statement []byte
	// Checks lists, in order, what was verified about this event.
	Checks []string
	// Failure is the first check this event failed; "" when it verified.
	Failure string
	// Act is the actor's own signature of the event, verified; nil if the event
	// carries none (docs/bundle.md, "Acts").
	Act *ActorSignature
	// Received, on a download event, a download-deliver event or the transfer event a
	// received act names, is the received event that acknowledges that download; nil
	// if none does.
	Received *Acknowledgement
}

// Verified reports whether every check of the event passed.
func (v VerifiedEvent) Verified() bool { return v.Failure == "" }

// Report is what Verify established.
type Report struct {
	EvidenceID string
	CaseID     string
	SHA256     string
	Size       int64
	Origin     string
	// Events holds every event of the bundle, verified or not, in bundle order.
	Events []VerifiedEvent
	// Checkpoints are the distinct signed checkpoints the proofs lead to, by tree size.
	Checkpoints map[uint64][]byte
	// ContentChecked is set when the exhibit's bytes were hashed and matched.
	ContentChecked bool
	// Consistency are the bundle's consistency proofs, each ending at one of its
	// checkpoints; CrossCheck verifies them against other bundles' checkpoints.
	Consistency []ConsistencyEntry
	// Request is set when the bundle is the chain of a request rather than of an
	// exhibit: the request as filed. SHA256 is then the request digest
	// (RequestDigest) and Size is 0.
	Request *Request
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Content, if set, is read to the end and its SHA-256 compared with the exhibit's.
	Content io.Reader
	// WitnessPolicy, if set, is the verifier's own witness policy: every checkpoint
	// must also meet it, whatever the trust root says.
	WitnessPolicy *WitnessPolicy
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
//  4. every proof's checkpoint is signed by the trusted log key, cosigned as the trust
//     root's witnesses and opts.WitnessPolicy require, and the event's leaf is
//     included in it at the stated index; checkpoints of one size agree;
//  5. an event that records a member's signed act: the act's certificate chains to
//     the CA of the actor's agency in the trust root and its signature verifies, at
//     the event's time; the act names this event and was signed within ActSkew of
//     it, and no other event of the chain records it; a received act acknowledges
//     an earlier download by the same agency (docs/bundle.md, "Acts");
//  6. with opts.Content, the content's SHA-256 is the exhibit's.
//
// Every event is checked, so the report marks each one verified or failed; the first
// failure is returned, wrapping ErrVerification, naming the event it concerns.
func Verify(b *Bundle, tr *TrustRoot, opts VerifyOptions) (*Report, error) {
	if tr.Log.verifier == nil {
		return nil, fmt.Errorf("trust root not loaded: use ParseTrustRoot")
	}
	r := &Report{Origin: tr.Log.Origin, Checkpoints: map[uint64][]byte{}}
	var first error
	fail := func(i int, ve *VerifiedEvent, err error) {
		if ve.Failure == "" {
			ve.Failure = err.Error()
		}
		if first == nil {
			first = fmt.Errorf("event %d: %w", i, err)
		}
	}
	var tagKey []byte
	acts := map[string]uint64{}
	checked := checkpointCache{}
	entries, entryErrs := verifyEntries(b.Events, tr)
	for i, entry := range b.Events {
		ve, err := entries[i], entryErrs[i]
		if err != nil {
			fail(i, &ve, err)
			r.Events = append(r.Events, ve)
			continue
		}
		if err := r.checkChain(i, &ve, &tagKey); err != nil {
			fail(i, &ve, err)
		} else if err := r.checkActor(i, &ve, tr, acts); err != nil {
			fail(i, &ve, err)
		}
		if tagKey == nil {
			fail(i, &ve, failf("no valid registration to derive the log leaf from"))
			r.Events = append(r.Events, ve)
			continue
		}
		cp, err := verifyInclusion(entry.Proof, tr, opts.WitnessPolicy, checked, Leaf(ve.Statement, tagKey, ve.Event.EvidenceID, ve.Event.Seq))
		if err == nil {
			if old, ok := r.Checkpoints[cp.size]; ok && !bytes.Equal(cp.root, checkpointRoot(old)) {
				err = failf("two different log roots for tree size %d: the log forked", cp.size)
			}
		}
		if err != nil {
			fail(i, &ve, err)
		} else {
			ve.LogIndex, ve.TreeSize = cp.index, cp.size
			r.Checkpoints[cp.size] = cp.note
			ve.Checks = append(ve.Checks, fmt.Sprintf("included in log %s at index %d, under a checkpoint of size %d signed by the log key", tr.Log.Origin, cp.index, cp.size))
			if cp.witnessed != "" {
				ve.Checks = append(ve.Checks, cp.witnessed)
			}
		}
		r.Events = append(r.Events, ve)
	}
	r.markDelivered()
	if first != nil {
		return r, first
	}
	for _, c := range b.Consistency {
		if _, ok := r.Checkpoints[c.ToSize]; !ok || c.FromSize == 0 || c.FromSize > c.ToSize {
			return r, failf("consistency proof from size %d to %d does not end at a checkpoint of this bundle", c.FromSize, c.ToSize)
		}
		r.Consistency = append(r.Consistency, c)
	}
	if opts.Content != nil && r.Request != nil {
		return r, fmt.Errorf("%s is a request: its bundle has no evidence content to check", r.EvidenceID)
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

// checkChain checks event i's place in the chain and, for event 0, takes the exhibit
// facts and tag key from it.
func (r *Report) checkChain(i int, ve *VerifiedEvent, tagKey *[]byte) error {
	ev := ve.Event
	if ev.Seq != uint64(i) {
		return failf("has sequence number %d at position %d: events are missing or out of order", ev.Seq, i)
	}
	if i == 0 {
		k, err := ev.TagKey()
		if err != nil {
			return failf("%v", err)
		}
		*tagKey = k
		r.EvidenceID, r.CaseID, r.SHA256 = ev.EvidenceID, ev.CaseID, ev.SubjectDigest()
		if ev.Request != nil {
			r.Request = ev.Request
			ve.Checks = append(ve.Checks, "files the request: first event of the chain")
			return nil
		}
		r.Size = ev.Exhibit.Size
		ve.Checks = append(ve.Checks, "registers the exhibit: first event of the chain")
		return nil
	}
	prev := r.Events[i-1]
	switch {
	case prev.Statement == nil:
		return failf("cannot be chained: event %d is unreadable", i-1)
	case ev.Prev != prev.Digest:
		return failf("previous digest %s does not match event %d (%s): the chain is broken", ev.Prev, i-1, prev.Digest)
	case ev.EvidenceID != r.EvidenceID || ev.CaseID != r.CaseID:
		return failf("is about %s (case %s), not %s (case %s)", ev.EvidenceID, ev.CaseID, r.EvidenceID, r.CaseID)
	case ev.Time.Before(prev.Event.Time):
		return failf("time %s precedes event %d", ev.Time.Format(time.RFC3339), i-1)
	}
	ve.Checks = append(ve.Checks, fmt.Sprintf("chained to event %d by its digest", i-1))
	return nil
}

// verifyEntries runs verifyEntry on every entry, on as many goroutines as the process
// may run at once: an entry's envelope and signature are checked independently of the
// other entries, and the signature is most of the cost of a chain's verification.
func verifyEntries(entries []BundleEntry, tr *TrustRoot) ([]VerifiedEvent, []error) {
	ves := make([]VerifiedEvent, len(entries))
	errs := make([]error, len(entries))
	const block = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (len(entries)+block-1)/block) {
		wg.Go(func() {
			for {
				start := int(next.Add(block)) - block
				if start >= len(entries) {
					return
				}
				for i := start; i < min(start+block, len(entries)); i++ {
					ves[i], errs[i] = verifyEntry(entries[i], tr)
				}
			}
		})
	}
	wg.Wait()
	return ves, errs
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
		ve.Checks = append(ve.Checks, fmt.Sprintf("signed by trusted key %s, valid at %s", key.KeyID[:16], st.Predicate.Time.Format(time.RFC3339)))
		if st.Predicate.Receipt != nil {
			if err := st.Predicate.Receipt.Verify(); err != nil {
				return ve, failf("the partner's receipt does not verify: %v", err)
			}
			ve.Checks = append(ve.Checks, "carries the partner's receipt, signed with its client certificate key")
		}
		return ve, nil
	}
	return ve, failf("no trusted signature (seq %d, %s): %v", st.Predicate.Seq, st.Predicate.Action, errors.Join(errs...))
}

type verifiedCheckpoint struct {
	index, size uint64
	root        []byte
	note        []byte
	// witnessed says which witness requirements the checkpoint met ("" if none).
	witnessed string
}

// checkpointCache keeps, within one Verify, the outcome of the checks of each distinct
// checkpoint text: a bundle proves all its events under one checkpoint (or a few), and
// checking its signatures again for every event would cost more than the event's own
// signature.
type checkpointCache map[string]checkedCheckpoint

type checkedCheckpoint struct {
	cp        *log.Checkpoint
	witnessed string
	err       error
}

// check returns the checkpoint of text once it is signed by the trusted log key and
// cosigned as the trust root's witnesses and policy (if not nil) require.
func (c checkpointCache) check(text []byte, tr *TrustRoot, policy *WitnessPolicy) (*log.Checkpoint, string, error) {
	if got, ok := c[string(text)]; ok {
		return got.cp, got.witnessed, got.err
	}
	cp, witnessed, err := checkCheckpoint(text, tr, policy)
	c[string(text)] = checkedCheckpoint{cp, witnessed, err}
	return cp, witnessed, err
}

func checkCheckpoint(text []byte, tr *TrustRoot, policy *WitnessPolicy) (*log.Checkpoint, string, error) {
	cp, _, n, err := log.ParseCheckpoint(text, tr.Log.Origin, tr.Log.verifier, tr.Witnesses.verifiers...)
	if err != nil {
		return nil, "", failf("checkpoint not signed by the trusted log key: %v", err)
	}
	if got := tr.witnessCount(n); got < tr.Witnesses.Quorum {
		return nil, "", failf("checkpoint of size %d is cosigned by %d trusted witnesses, the trust root requires %d", cp.Size, got, tr.Witnesses.Quorum)
	}
	if p := tr.Witnesses.policy; p != nil && !p.Satisfied(n.Sigs) {
		return nil, "", failf("checkpoint of size %d does not meet the trust root's witness policy (cosigned by %s)", cp.Size, p.cosigners(n.Sigs))
	}
	var met []string
	if tr.Witnesses.Quorum > 0 {
		met = append(met, fmt.Sprintf("cosigned by at least %d of the trust root's %d witnesses", tr.Witnesses.Quorum, len(tr.Witnesses.Keys)))
	}
	if policy != nil {
		if err := policy.CheckCheckpoint(text); err != nil {
			return nil, "", fmt.Errorf("checkpoint of size %d: %w", cp.Size, err)
		}
		if policy.RequiresWitnesses() {
			met = append(met, "meets the verifier's own witness policy")
		}
	}
	return cp, strings.Join(met, "; "), nil
}

// verifyInclusion checks a C2SP tlog-proof for leaf against the trusted log key, the
// trust root's witnesses and the verifier's own witness policy (if not nil), through
// the checkpoints already checked.
func verifyInclusion(text string, tr *TrustRoot, policy *WitnessPolicy, checked checkpointCache, leaf []byte) (verifiedCheckpoint, error) {
	var vc verifiedCheckpoint
	var p tproof.TLogProof
	if err := p.Unmarshal([]byte(text)); err != nil {
		return vc, failf("malformed tlog-proof: %v", err)
	}
	cp, witnessed, err := checked.check(p.Checkpoint, tr, policy)
	if err != nil {
		return vc, err
	}
	vc.witnessed = witnessed
	hashes := make([][]byte, len(p.Hashes))
	for i := range p.Hashes {
		hashes[i] = p.Hashes[i][:]
	}
	leafHash := rfc6962.DefaultHasher.HashLeaf(leaf)
	if err := VerifyInclusion(p.Index, cp.Size, leafHash, hashes, cp.Hash); err != nil {
		return vc, failf("leaf %d is not included in the checkpoint of size %d: %v", p.Index, cp.Size, err)
	}
	vc.index, vc.size, vc.root, vc.note = p.Index, cp.Size, cp.Hash, p.Checkpoint
	return vc, nil
}

// witnessCount counts the distinct trusted witnesses whose cosignatures verified on n
// (note.Open keeps in n.Sigs only signatures by known keys that verified).
func (tr *TrustRoot) witnessCount(n *note.Note) int {
	seen := map[string]bool{}
	for _, sig := range n.Sigs {
		for _, w := range tr.Witnesses.verifiers {
			if sig.Name == w.Name() && sig.Hash == w.KeyHash() {
				seen[w.Name()+"+"+fmt.Sprint(w.KeyHash())] = true
			}
		}
	}
	return len(seen)
}

// checkpointRoot returns the root hash of an already verified checkpoint note.
func checkpointRoot(n []byte) []byte {
	var c log.Checkpoint
	if _, err := c.Unmarshal(n); err != nil {
		return nil
	}
	return c.Hash
}
