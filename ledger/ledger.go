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
	Logger  *slog.Logger
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
}

// Ledger records and reads custody chains. It is safe for concurrent use.
type Ledger struct {
	cfg Config

	mu     sync.Mutex
	signer Signer // the current signer, replaced by Refresh
}

// New returns a Ledger.
func New(cfg Config) (*Ledger, error) {
	if cfg.Records == nil || cfg.Log == nil || cfg.Signer.SignerVerifier == nil {
		return nil, errors.New("ledger: records, log and signer are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ledger{cfg: cfg, signer: cfg.Signer}, nil
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
}

// Chain is the custody chain of one exhibit as stored.
type Chain struct {
	Records []Record
	Subject string // exhibit SHA-256
	tagKey  []byte
}

// Head returns the last record.
func (c *Chain) Head() Record { return c.Records[len(c.Records)-1] }

// Append records ev as the next event of chain (nil for a register event). It fills
// Seq, Prev and Time, signs, stores, appends to the log and returns the record with
// its inclusion proof and checkpoint. ErrConflict if the chain moved meanwhile.
func (l *Ledger) Append(ctx context.Context, chain *Chain, subject string, ev custody.Event) (Record, error) {
	ev.Time = l.cfg.Now().UTC()
	if chain != nil {
		head := chain.Head()
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
	if err := l.publish(ctx, &rec, tagKey); err != nil {
		return Record{}, err
	}
	l.cfg.Logger.InfoContext(ctx, "custody event recorded", "evidence_id", ev.EvidenceID, "seq", ev.Seq,
		"action", string(ev.Action), "log_index", rec.LogIndex)
	return rec, nil
}

// publish appends the record's leaf to the log, stores the index and sets the proof.
func (l *Ledger) publish(ctx context.Context, rec *Record, tagKey []byte) error {
	ev := rec.Event
	leaf := custody.Leaf(rec.Statement, tagKey, ev.EvidenceID, ev.Seq)
	idx, cp, err := l.cfg.Log.Append(ctx, leaf)
	if err != nil {
		return fmt.Errorf("appending event %d of %s to the log: %w", ev.Seq, ev.EvidenceID, err)
	}
	rec.LogIndex = idx
	if err := l.cfg.Records.PutIndex(ctx, ev.EvidenceID, ev.Seq, idx); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("storing log index of event %d of %s: %w", ev.Seq, ev.EvidenceID, err)
	}
	rec.Proof, err = l.proof(ctx, idx, cp)
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
	size := cp.Size
	hashes, err := l.cfg.Log.InclusionProof(ctx, index, size)
	if err != nil {
		return "", fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", index, size, err)
	}
	p := tproof.TLogProof{Index: index, Checkpoint: cp.Note, Hashes: make([][sha256.Size]byte, len(hashes))}
	for i, h := range hashes {
		if len(h) != sha256.Size {
			return "", fmt.Errorf("inclusion proof of leaf %d: hash of %d bytes", index, len(h))
		}
		copy(p.Hashes[i][:], h)
	}
	return string(p.Marshal()), nil
}

// Load reads an exhibit's chain from the store, in order, and checks that each stored
// event parses, is about this exhibit and chains to the one before. It re-publishes to
// the log any event that was stored but whose log append did not complete (a crash
// between the two), so nothing stored is ever missing from the log. ErrNotFound if the
// exhibit has no event.
func (l *Ledger) Load(ctx context.Context, evidenceID string) (*Chain, error) {
	stored, err := l.cfg.Records.Events(ctx, evidenceID, 0)
	if err != nil {
		return nil, fmt.Errorf("reading events of %s: %w", evidenceID, err)
	}
	if len(stored) == 0 {
		return nil, ErrNotFound
	}
	chain := &Chain{}
	for i, se := range stored {
		seq := uint64(i)
		rec, err := parseStored(evidenceID, seq, se)
		if err != nil {
			return nil, err
		}
		if seq == 0 {
			if chain.tagKey, err = rec.Event.TagKey(); err != nil {
				return nil, err
			}
			chain.Subject = rec.Event.Exhibit.SHA256
		} else if rec.Event.Prev != chain.Records[seq-1].Digest {
			return nil, fmt.Errorf("stored event %d of %s breaks the chain", seq, evidenceID)
		}
		if !se.HasIndex {
			l.cfg.Logger.WarnContext(ctx, "re-publishing custody event missing from the log", "evidence_id", evidenceID, "seq", seq)
			if err := l.publish(ctx, &rec, chain.tagKey); err != nil {
				return nil, err
			}
		}
		chain.Records = append(chain.Records, rec)
	}
	return chain, nil
}

// parseStored parses a stored event and checks that it is event seq of id.
func parseStored(id string, seq uint64, se StoredEvent) (Record, error) {
	if se.Seq != seq {
		return Record{}, fmt.Errorf("stored events of %s: event %d where %d was expected", id, se.Seq, seq)
	}
	rec, err := parseRecord(se.Envelope)
	if err != nil {
		return Record{}, fmt.Errorf("stored event %d of %s: %w", seq, id, err)
	}
	if rec.Event.Seq != seq || rec.Event.EvidenceID != id {
		return Record{}, fmt.Errorf("stored event %d of %s names %s event %d", seq, id, rec.Event.EvidenceID, rec.Event.Seq)
	}
	rec.LogIndex = se.Index
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
		p, err := l.proof(ctx, rec.LogIndex, cp)
		if err != nil {
			return nil, err
		}
		b.Events = append(b.Events, custody.BundleEntry{Envelope: rec.Envelope, Proof: p})
	}
	return b, nil
}
