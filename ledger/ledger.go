// Package ledger records custody events: it builds the next event of an exhibit's hash
// chain, signs it into a DSSE envelope through a sigstore signer, stores it write-once,
// appends its leaf to the transparency log and returns the proof. It also reads an
// exhibit's chain back and assembles court bundles.
//
// The ledger keeps no state of its own: the object store holds the envelopes and their
// log indexes, the log holds the tree. Several gateways may share one store and log;
// a concurrent append to the same chain is detected by the write-once store (ErrConflict).
package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	tproof "github.com/transparency-dev/formats/proof"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/storage"
)

// ErrConflict is returned when another writer appended to the chain first; reload the
// chain and decide again.
var ErrConflict = errors.New("custody chain changed concurrently")

// ErrBadSize is returned for a tree size the log does not have.
var ErrBadSize = errors.New("no such tree size")

// ErrNotFound is returned for an exhibit that has no custody events.
var ErrNotFound = errors.New("no custody record")

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
	Store  storage.Store
	Log    Log
	Signer Signer
	Logger *slog.Logger
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
	if cfg.Store == nil || cfg.Log == nil || cfg.Signer.SignerVerifier == nil {
		return nil, errors.New("ledger: store, log and signer are required")
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

func eventName(id string, seq uint64, suffix string) string {
	return fmt.Sprintf("evidence/%s/events/%08d.%s", id, seq, suffix)
}

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
	if _, err := l.cfg.Store.Create(ctx, eventName(ev.EvidenceID, ev.Seq, "dsse"), bytes.NewReader(envJSON)); err != nil {
		if errors.Is(err, storage.ErrExists) {
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
	if _, err := l.cfg.Store.Create(ctx, eventName(ev.EvidenceID, ev.Seq, "index"),
		strings.NewReader(strconv.FormatUint(idx, 10))); err != nil && !errors.Is(err, storage.ErrExists) {
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
func (l *Ledger) proof(ctx context.Context, index uint64, checkpoint []byte) (string, error) {
	size, err := checkpointSize(checkpoint)
	if err != nil {
		return "", err
	}
	hashes, err := l.cfg.Log.InclusionProof(ctx, index, size)
	if err != nil {
		return "", fmt.Errorf("inclusion proof of leaf %d in tree %d: %w", index, size, err)
	}
	p := tproof.TLogProof{Index: index, Checkpoint: checkpoint, Hashes: make([][sha256.Size]byte, len(hashes))}
	for i, h := range hashes {
		if len(h) != sha256.Size {
			return "", fmt.Errorf("inclusion proof of leaf %d: hash of %d bytes", index, len(h))
		}
		copy(p.Hashes[i][:], h)
	}
	return string(p.Marshal()), nil
}

// checkpointSize reads the tree size, the second line of a checkpoint body.
func checkpointSize(cp []byte) (uint64, error) {
	lines := strings.SplitN(string(cp), "\n", 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("malformed checkpoint")
	}
	n, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed checkpoint size: %w", err)
	}
	return n, nil
}

// Load reads an exhibit's chain from the store, in order. It re-publishes to the log
// any event that was stored but whose log append did not complete (a crash between
// the two), so nothing stored is ever missing from the log. ErrNotFound if no event.
func (l *Ledger) Load(ctx context.Context, evidenceID string) (*Chain, error) {
	names, err := l.cfg.Store.List(ctx, "evidence/"+evidenceID+"/events/")
	if err != nil {
		return nil, fmt.Errorf("listing events of %s: %w", evidenceID, err)
	}
	chain := &Chain{}
	for seq := uint64(0); ; seq++ {
		rec, found, err := l.loadRecord(ctx, evidenceID, seq, names)
		if err != nil {
			return nil, err
		}
		if !found {
			break
		}
		if seq == 0 {
			if chain.tagKey, err = rec.Event.TagKey(); err != nil {
				return nil, err
			}
			chain.Subject = rec.Event.Exhibit.SHA256
		} else if rec.Event.Prev != chain.Records[seq-1].Digest {
			return nil, fmt.Errorf("stored event %d of %s breaks the chain", seq, evidenceID)
		}
		if rec.LogIndex == noIndex {
			l.cfg.Logger.WarnContext(ctx, "re-publishing custody event missing from the log", "evidence_id", evidenceID, "seq", seq)
			if err := l.publish(ctx, &rec, chain.tagKey); err != nil {
				return nil, err
			}
		}
		chain.Records = append(chain.Records, rec)
	}
	if len(chain.Records) == 0 {
		return nil, ErrNotFound
	}
	return chain, nil
}

const noIndex = ^uint64(0)

func (l *Ledger) loadRecord(ctx context.Context, id string, seq uint64, names []string) (Record, bool, error) {
	envName := eventName(id, seq, "dsse")
	if !contains(names, envName) {
		return Record{}, false, nil
	}
	envJSON, err := l.readSmall(ctx, envName)
	if err != nil {
		return Record{}, false, err
	}
	rec, err := parseRecord(envJSON)
	if err != nil {
		return Record{}, false, fmt.Errorf("stored event %d of %s: %w", seq, id, err)
	}
	if rec.Event.Seq != seq || rec.Event.EvidenceID != id {
		return Record{}, false, fmt.Errorf("stored event %d of %s names %s event %d", seq, id, rec.Event.EvidenceID, rec.Event.Seq)
	}
	rec.LogIndex = noIndex
	if idxName := eventName(id, seq, "index"); contains(names, idxName) {
		b, err := l.readSmall(ctx, idxName)
		if err != nil {
			return Record{}, false, err
		}
		if rec.LogIndex, err = strconv.ParseUint(string(b), 10, 64); err != nil {
			return Record{}, false, fmt.Errorf("stored log index of event %d of %s: %w", seq, id, err)
		}
	}
	return rec, true, nil
}

func contains(names []string, n string) bool {
	for _, m := range names {
		if m == n {
			return true
		}
	}
	return false
}

func (l *Ledger) readSmall(ctx context.Context, name string) ([]byte, error) {
	rc, _, err := l.cfg.Store.Open(ctx, name, "")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, custody.MaxEnvelopeSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > custody.MaxEnvelopeSize {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", name, custody.MaxEnvelopeSize)
	}
	return b, nil
}

// Bundle assembles the court bundle of a chain: every event with an inclusion proof
// against the log's latest checkpoint, and a consistency proof to that checkpoint from
// each tree size in consistencyFrom (sizes of checkpoints the court already holds).
func (l *Ledger) Bundle(ctx context.Context, chain *Chain, consistencyFrom ...uint64) (*custody.Bundle, error) {
	cp, err := l.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading log checkpoint: %w", err)
	}
	size, err := checkpointSize(cp)
	if err != nil {
		return nil, err
	}
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
