// Package ledger records custody events: it builds the next event of an exhibit's hash
// chain, signs it into a DSSE envelope through a sigstore signer, stores it write-once,
// appends its leaf to the transparency log and returns the proof. It also reads an
// exhibit's chain back and assembles court bundles.
//
// The ledger keeps no state of its own and names no stored object: it reaches storage
// only through its ports, Records (the application layer implements it over the object
// store) and Log (ledger/tesseralog, ledger/trillianlog). Several gateways may share one
// store and log; a concurrent append to the same chain is detected by the write-once
// Records (ErrConflict).
//
// It may import custody, the sigstore signature interfaces and the transparency-dev
// formats; it must not import the object store, the key managers, the policy engine or
// anything HTTP.
package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	tproof "github.com/transparency-dev/formats/proof"

	"github.com/evidencegw/evidencegw/custody"
)

// Signer signs custody statements.
type Signer struct {
	// SignerVerifier signs with the current event key (sigstore signature interface).
	signature.SignerVerifier
	// KeyID is the trust-root key id of the key (custody.KeyID of its public key).
	KeyID string
	// Refresh, if set, loads the signer of the current key version. The ledger calls
	// it once when signing fails (the key may have been rotated), then retries.
	Refresh func(ctx context.Context) (signature.SignerVerifier, string, error)
}

// Config wires a Ledger.
type Config struct {
	Records Records
	Log     Log
	Signer  Signer
	// TrustRoot returns the trust root now. Every stored event the ledger reads back is
	// checked against its event keys, and the log's checkpoints against its log key.
	TrustRoot func(ctx context.Context) (*custody.TrustRoot, error)
	// Step, if set, is called with StepEventStored, StepLogged and StepIndexed as an
	// append passes them, for fault-injection tests; nil in production.
	Step   func(step string)
	Logger *slog.Logger
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
}

// Steps of an append, reported to Config.Step.
const (
	StepEventStored = "event-stored"
	StepLogged      = "logged"
	StepIndexed     = "indexed"
)

func (l *Ledger) step(name string) {
	if l.cfg.Step != nil {
		l.cfg.Step(name)
	}
}

// Ledger records and reads custody chains. It is safe for concurrent use.
type Ledger struct {
	cfg    Config
	verify *verifier

	mu     sync.Mutex
	signer Signer // the current signer, replaced by Refresh
}

// New returns a Ledger.
func New(cfg Config) (*Ledger, error) {
	if cfg.Records == nil || cfg.Log == nil || cfg.Signer.SignerVerifier == nil || cfg.TrustRoot == nil {
		return nil, errors.New("ledger: records, log, signer and trust root are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ledger{cfg: cfg, signer: cfg.Signer, verify: newVerifier(cfg.TrustRoot, cfg.Log)}, nil
}

// Record is one recorded custody event with its proof.
type Record struct {
	Event    custody.Event
	Envelope custody.Envelope
	// Statement is the signed payload; Digest its SHA-256.
	Statement []byte
	Digest    string
	LogIndex  uint64
	// Proof is a C2SP tlog-proof of the event's leaf (set by Append and Bundle).
	Proof string
	// Failure says why the stored event failed verification; "" if it verified. The
	// Event, Envelope and Statement of an event whose bytes do not parse are empty.
	Failure string
	// Signed is set when the event's signature verified with the trust root, even if
	// the event failed another check (or follows one that did).
	Signed bool
}

// Chain is the custody chain of one exhibit as stored.
type Chain struct {
	Records []Record
	Subject string // the subject digest: the exhibit's SHA-256, or the request digest
	tagKey  []byte
	// Damage is the first stored event that failed verification, nil if every one
	// verified. The records from it on are not to be trusted.
	Damage *Damage
}

// Head returns the last record.
func (c *Chain) Head() Record { return c.Records[len(c.Records)-1] }

// Tip returns the end of the chain: what appending to it and extending it need. The
// chain must have a verified register event.
func (c *Chain) Tip() *Tip {
	return &Tip{Register: c.Records[0].Event, Head: c.Head(), Subject: c.Subject, tagKey: c.tagKey}
}

// Tip is the end of a verified chain: its register event and its newest record, with
// what appending the next event and verifying the events stored after it need, without
// the chain's earlier records. A Tip is a value: Append and Extend do not change it.
type Tip struct {
	Register custody.Event
	Head     Record
	Subject  string
	tagKey   []byte
}

// Next returns the tip of the chain extended by rec, the event recorded after t.Head.
func (t *Tip) Next(rec Record) *Tip {
	n := *t
	n.Head = rec
	return &n
}

// Len returns the number of events in the chain up to the tip.
func (t *Tip) Len() int { return int(t.Head.Event.Seq) + 1 }

// link is what verifying the next stored event of a chain needs.
func (t *Tip) link() link {
	return link{first: t.Register, prev: &t.Head, seq: t.Head.Event.Seq + 1, tagKey: t.tagKey}
}

// Append records ev as the next event after tip (nil for a register event). It fills
// Seq, Prev and Time, signs, stores, appends to the log and returns the record with
// its inclusion proof and checkpoint. ErrConflict if the chain moved meanwhile.
func (l *Ledger) Append(ctx context.Context, tip *Tip, subject string, ev custody.Event) (Record, error) {
	ev.Time = l.cfg.Now().UTC()
	chain := tip
	if chain != nil {
		head := chain.Head
		ev.Seq, ev.Prev, subject = head.Event.Seq+1, head.Digest, chain.Subject
		if ev.Time.Before(head.Event.Time) {
			ev.Time = head.Event.Time
		}
	}
	st, err := custody.NewStatement(subject, ev).Marshal()
	if err != nil {
		return Record{}, err
	}
	envJSON, err := l.sign(ctx, st)
	if err != nil {
		return Record{}, fmt.Errorf("signing %s event %d of %s: %w", ev.Action, ev.Seq, ev.EvidenceID, err)
	}
	if err := l.cfg.Records.PutEvent(ctx, ev.EvidenceID, ev.Seq, envJSON); err != nil {
		if errors.Is(err, ErrConflict) {
			return Record{}, ErrConflict
		}
		return Record{}, fmt.Errorf("storing event %d of %s: %w", ev.Seq, ev.EvidenceID, err)
	}
	l.step(StepEventStored)
	var tagKey []byte
	if chain != nil {
		tagKey = chain.tagKey
	} else if tagKey, err = ev.TagKey(); err != nil {
		return Record{}, err
	}
	rec, err := parseRecord(envJSON)
	if err != nil {
		return Record{}, err
	}
	if err := l.publish(ctx, &rec, envJSON, tagKey); err != nil {
		return Record{}, err
	}
	l.cfg.Logger.InfoContext(ctx, "custody event recorded", "evidence_id", ev.EvidenceID, "seq", ev.Seq,
		"action", string(ev.Action), "log_index", rec.LogIndex)
	return rec, nil
}

// publish appends the record's leaf to the log, stores the index and sets the proof.
func (l *Ledger) publish(ctx context.Context, rec *Record, raw, tagKey []byte) error {
	ev := rec.Event
	leaf := custody.Leaf(rec.Statement, tagKey, ev.EvidenceID, ev.Seq)
	idx, cp, err := l.cfg.Log.Append(ctx, leaf)
	if err != nil {
		return fmt.Errorf("appending event %d of %s to the log: %w", ev.Seq, ev.EvidenceID, err)
	}
	rec.LogIndex = idx
	// The log adapters wait for their witnesses; this holds whatever the adapter: a
	// change is answered only under a checkpoint the trust root's witnesses cosigned.
	if err := l.verify.cosigned(ctx, cp); err != nil {
		return fmt.Errorf("appending event %d of %s: %w", ev.Seq, ev.EvidenceID, err)
	}
	l.step(StepLogged)
	if err := l.cfg.Records.PutIndex(ctx, ev.EvidenceID, ev.Seq, idx); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("storing log index of event %d of %s: %w", ev.Seq, ev.EvidenceID, err)
	}
	l.step(StepIndexed)
	hashes, err := l.cfg.Log.InclusionProof(ctx, idx, cp.Size)
	if err != nil {
		return fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", idx, cp.Size, err)
	}
	if err := l.verify.proven(ctx, *rec, raw, leaf, cp, hashes); err != nil {
		return fmt.Errorf("appending event %d of %s: %w", ev.Seq, ev.EvidenceID, err)
	}
	rec.Proof, err = tlogProof(idx, cp, hashes)
	return err
}

// sign wraps the statement in a DSSE envelope signed by the event key. If signing
// fails and the signer can be refreshed (a rotated key), it refreshes once and retries.
func (l *Ledger) sign(ctx context.Context, statement []byte) ([]byte, error) {
	l.mu.Lock()
	signer := l.signer
	l.mu.Unlock()
	raw, err := sigdsse.WrapSigner(signer, custody.PayloadType).SignMessage(bytes.NewReader(statement))
	if err != nil && signer.Refresh != nil {
		sv, keyID, rerr := signer.Refresh(ctx)
		if rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		signer.SignerVerifier, signer.KeyID = sv, keyID
		l.mu.Lock()
		l.signer = signer
		l.mu.Unlock()
		l.cfg.Logger.InfoContext(ctx, "custody event signer refreshed", "key_id", keyID)
		raw, err = sigdsse.WrapSigner(signer, custody.PayloadType).SignMessage(bytes.NewReader(statement))
	}
	if err != nil {
		return nil, err
	}
	var env custody.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decoding signed envelope: %w", err)
	}
	for i := range env.Signatures {
		env.Signatures[i].KeyID = signer.KeyID
	}
	return json.Marshal(env)
}

func parseRecord(envJSON []byte) (Record, error) {
	env, err := custody.ParseEnvelope(envJSON)
	if err != nil {
		return Record{}, err
	}
	payload, err := env.PayloadBytes()
	if err != nil {
		return Record{}, err
	}
	st, err := custody.ParseStatement(payload)
	if err != nil {
		return Record{}, err
	}
	return Record{Event: st.Predicate, Envelope: env, Statement: payload, Digest: custody.Digest(payload)}, nil
}

// proof builds a C2SP tlog-proof of index against a signed checkpoint.
func (l *Ledger) proof(ctx context.Context, index uint64, cp Checkpoint) (string, error) {
	hashes, err := l.cfg.Log.InclusionProof(ctx, index, cp.Size)
	if err != nil {
		return "", fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", index, cp.Size, err)
	}
	return tlogProof(index, cp, hashes)
}

// tlogProof encodes a C2SP tlog-proof.
func tlogProof(index uint64, cp Checkpoint, hashes [][]byte) (string, error) {
	p := tproof.TLogProof{Index: index, Checkpoint: cp.Note, Hashes: make([][sha256.Size]byte, len(hashes))}
	for i, h := range hashes {
		if len(h) != sha256.Size {
			return "", fmt.Errorf("inclusion proof of leaf %d: hash of %d bytes", index, len(h))
		}
		copy(p.Hashes[i][:], h)
	}
	return string(p.Marshal()), nil
}

// Load reads an exhibit's chain from the store, in order, and verifies every event: it
// parses, it is signed by an event key of the trust root valid at its time, it chains to
// the event before it (sequence, previous digest, exhibit, time) and its leaf is in the
// log at its stored index, under a checkpoint signed with the trust root's log key.
// Events verified before are not checked again (a bounded cache keyed by digest and
// index). The first event that fails is chain.Damage, and its Record and the later
// ones carry a Failure; Load itself fails only when the store or the log cannot be
// read. A stored event that verifies but never reached the log (the process stopped
// between the two) is appended to it again, so nothing stored is ever missing from the
// log. ErrNotFound if the exhibit has no event.
func (l *Ledger) Load(ctx context.Context, evidenceID string) (*Chain, error) {
	stored, err := l.cfg.Records.Events(ctx, evidenceID, 0)
	if err != nil {
		return nil, fmt.Errorf("reading events of %s: %w", evidenceID, err)
	}
	if len(stored) == 0 {
		return nil, ErrNotFound
	}
	chain := &Chain{}
	for _, se := range stored {
		rec, err := l.checkStored(ctx, chain.link(), chain.Damage, evidenceID, se)
		if err != nil {
			return nil, err
		}
		if chain.Damage == nil && rec.Failure != "" {
			chain.Damage = &Damage{Seq: uint64(len(chain.Records)), Digest: rec.Digest, Reason: rec.Failure}
			l.cfg.Logger.ErrorContext(ctx, "custody chain damaged: a stored event failed verification", "alert", true,
				"evidence_id", evidenceID, "seq", chain.Damage.Seq, "digest", rec.Digest, "reason", rec.Failure)
		}
		if len(chain.Records) == 0 && rec.Failure == "" {
			chain.tagKey, _ = rec.Event.TagKey()
			chain.Subject = rec.Event.SubjectDigest()
		}
		chain.Records = append(chain.Records, rec)
	}
	return chain, nil
}

// link is the place of the next event of a chain: its sequence number, the chain's
// register event and tag key (unset before the register event) and the event before it.
type link struct {
	first  custody.Event
	prev   *Record
	seq    uint64
	tagKey []byte
}

// link returns the place of the chain's next event.
func (c *Chain) link() link {
	lk := link{seq: uint64(len(c.Records)), tagKey: c.tagKey}
	if n := len(c.Records); n > 0 {
		lk.first, lk.prev = c.Records[0].Event, &c.Records[n-1]
	}
	return lk
}

// Extend reads the events stored after tip, in order, up to the first one not stored,
// and verifies each as Load does; events verified before are not checked again. It
// reads neither the chain's earlier events nor a listing of them (Records.Next), so
// its cost is that of the events it returns. It returns the verified records, none if
// the chain ends at the tip. If one fails verification it returns the records before
// it and the damage: the caller reloads the whole chain (Load), which sees every
// event after it too. A stored event that verifies but never reached the log is
// appended to it, as Load does.
func (l *Ledger) Extend(ctx context.Context, tip *Tip) ([]Record, *Damage, error) {
	id := tip.Register.EvidenceID
	stored, err := l.cfg.Records.Next(ctx, id, tip.Head.Event.Seq+1)
	if err != nil {
		return nil, nil, fmt.Errorf("reading events of %s: %w", id, err)
	}
	var recs []Record
	lk := tip.link()
	for _, se := range stored {
		rec, err := l.checkStored(ctx, lk, nil, id, se)
		if err != nil {
			return nil, nil, err
		}
		if rec.Failure != "" {
			return recs, &Damage{Seq: lk.seq, Digest: rec.Digest, Reason: rec.Failure}, nil
		}
		recs = append(recs, rec)
		lk.prev, lk.seq = &recs[len(recs)-1], lk.seq+1
	}
	return recs, nil, nil
}

// checkStored parses and verifies the stored event that belongs at lk, and publishes
// it if it verified but was never logged. An event after a damaged one (damage not
// nil) is not checked: it fails with the damage.
func (l *Ledger) checkStored(ctx context.Context, lk link, damage *Damage, id string, se StoredEvent) (Record, error) {
	seq := lk.seq
	rec, err := parseRecord(se.Envelope)
	if err != nil {
		return Record{Event: custody.Event{EvidenceID: id, Seq: se.Seq}, Digest: rawDigest(se.Envelope), LogIndex: se.Index,
			Failure: fmt.Sprintf("the stored event does not parse: %v", err)}, nil
	}
	rec.LogIndex = se.Index
	switch {
	case damage != nil:
		rec.Failure = fmt.Sprintf("follows damaged event %d", damage.Seq)
		rec.Signed, err = l.verify.signed(ctx, rec)
		return rec, err
	case se.Seq != seq:
		rec.Failure = fmt.Sprintf("event %d is missing: the next stored event is %d", seq, se.Seq)
		return rec, nil
	case rec.Event.EvidenceID != id:
		rec.Failure = fmt.Sprintf("the event is about %s, stored under %s", rec.Event.EvidenceID, id)
		return rec, nil
	}
	if rec.Failure, err = l.verify.check(ctx, lk, &rec, se.Envelope, se.HasIndex); err != nil || rec.Failure != "" {
		return rec, err
	}
	if !se.HasIndex {
		l.cfg.Logger.WarnContext(ctx, "re-publishing custody event missing from the log", "evidence_id", id, "seq", seq)
		tagKey := lk.tagKey
		if seq == 0 {
			tagKey, _ = rec.Event.TagKey()
		}
		if err := l.publish(ctx, &rec, se.Envelope, tagKey); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// Prove returns rec with a fresh C2SP tlog-proof against the log's latest checkpoint.
func (l *Ledger) Prove(ctx context.Context, rec Record) (Record, error) {
	cp, err := l.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("reading log checkpoint: %w", err)
	}
	if rec.Proof, err = l.proof(ctx, rec.LogIndex, cp); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Bundle assembles the court bundle of a chain: every event with an inclusion proof
// against the log's latest checkpoint, and a consistency proof to that checkpoint from
// each tree size in consistencyFrom (sizes of checkpoints the court already holds).
func (l *Ledger) Bundle(ctx context.Context, chain *Chain, consistencyFrom ...uint64) (*custody.Bundle, error) {
	cp, err := l.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading log checkpoint: %w", err)
	}
	size := cp.Size
	b := &custody.Bundle{MediaType: custody.BundleMediaType}
	for _, from := range consistencyFrom {
		if from == 0 || from > size {
			return nil, fmt.Errorf("consistency proof from size %d: want 1..%d: %w", from, size, ErrBadSize)
		}
		hashes := [][]byte{}
		if from < size {
			if hashes, err = l.cfg.Log.ConsistencyProof(ctx, from, size); err != nil {
				return nil, fmt.Errorf("consistency proof from %d to %d: %w", from, size, err)
			}
		}
		b.Consistency = append(b.Consistency, custody.ConsistencyEntry{FromSize: from, ToSize: size, Hashes: hashes})
	}
	for _, rec := range chain.Records {
		if rec.Envelope.Payload == "" {
			continue // stored bytes that are no envelope: nothing to export
		}
		p, err := l.proof(ctx, rec.LogIndex, cp)
		if err != nil && rec.Failure == "" {
			return nil, err
		}
		// A damaged event goes in as stored, with its proof if the log has one: the
		// court's verifier shows where the chain fails.
		b.Events = append(b.Events, custody.BundleEntry{Envelope: rec.Envelope, Proof: p})
	}
	return b, nil
}

// LogTrustRootChange signs the change that introduces a trust root version (encoded,
// its bytes; version and previous as it names them) with the event key, appends its
// leaf to the log and returns the chain entry with the proof (docs/bundle.md). Like
// Append it returns only under a checkpoint the witnesses cosigned. A retry after an
// error may log the change twice; the chain keeps the entry returned.
func (l *Ledger) LogTrustRootChange(ctx context.Context, encoded []byte, version uint64, previous string) (custody.TrustRootChainEntry, error) {
	statement, err := custody.NewTrustRootChangeStatement(encoded, version, previous, l.cfg.Now())
	if err != nil {
		return custody.TrustRootChainEntry{}, err
	}
	raw, err := l.sign(ctx, statement)
	if err != nil {
		return custody.TrustRootChainEntry{}, fmt.Errorf("signing trust root change %d: %w", version, err)
	}
	var env custody.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return custody.TrustRootChainEntry{}, fmt.Errorf("decoding signed envelope: %w", err)
	}
	idx, cp, err := l.cfg.Log.Append(ctx, custody.TrustRootLeaf(statement))
	if err != nil {
		return custody.TrustRootChainEntry{}, fmt.Errorf("appending trust root change %d to the log: %w", version, err)
	}
	if err := l.verify.cosigned(ctx, cp); err != nil {
		return custody.TrustRootChainEntry{}, fmt.Errorf("appending trust root change %d: %w", version, err)
	}
	proof, err := l.proof(ctx, idx, cp)
	if err != nil {
		return custody.TrustRootChainEntry{}, err
	}
	return custody.TrustRootChainEntry{TrustRoot: base64.StdEncoding.EncodeToString(encoded), Envelope: env, Proof: proof}, nil
}
