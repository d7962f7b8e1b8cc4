package exhibit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// The operator's check of custody (evidencegw log fsck, docs/log.md): every stored
// chain verified in full, and the log checked against the stored events, so that no
// leaf of the log is left unexplained. Fsck writes nothing to the store and appends
// nothing to the log: no event is re-published, no integrity failure recorded.

// ProgressFunc receives the progress of a long operation: done of total items of the
// phase it names. It is called from the goroutine that runs the operation.
type ProgressFunc func(phase string, done, total int64)

// Phases of Fsck and ReadStoredLeaves.
const (
	PhaseExhibits = "exhibits" // items: exhibits
	PhaseLeaves   = "leaves"   // items: log leaves
)

const (
	// fsckLeafPage is how many leaves Fsck reads from the log at a time.
	fsckLeafPage = 1024
	// maxUnexplainedListed bounds FsckReport.UnexplainedIndexes (Unexplained counts
	// them all).
	maxUnexplainedListed = 100
)

// FsckReport is what Fsck found.
type FsckReport struct {
	// Exhibits and Events count the exhibits and stored events checked.
	Exhibits, Events int
	// Damaged lists the chains whose verification failed, in evidence id order: each
	// at its first failing event.
	Damaged []ChainDamage
	// Pending lists events stored after the last one with a log index and having none:
	// the gateway stopped between storing and logging them, and appends them when it
	// next loads the exhibit. They are not damage.
	Pending []EventRef

	// LogChecked is set when the log's leaves were read (a log that is not a
	// ledger.LeafReader is not); LogSize and LogRoot are then its checkpoint's, verified
	// with the trust root's log key.
	LogChecked bool
	LogSize    uint64
	LogRoot    []byte
	// LogDamage says why the log's checkpoint or leaves failed verification; "" if
	// they did not.
	LogDamage string
	// Explained counts the leaves that are a stored event's, at the index stored for
	// it. Repeats counts a stored event's leaf at another index: the gateway stopped
	// after appending it and before storing its index, and appended it again when it
	// next loaded the exhibit (or, for a pending event, has yet to).
	Explained, Repeats uint64
	// Unexplained counts the leaves no stored event explains; UnexplainedIndexes lists
	// the first of them.
	Unexplained        uint64
	UnexplainedIndexes []uint64
}

// Intact reports whether Fsck found nothing wrong.
func (r *FsckReport) Intact() bool {
	return len(r.Damaged) == 0 && r.LogDamage == "" && r.Unexplained == 0
}

// ChainDamage is a custody chain whose stored event Seq failed verification.
type ChainDamage struct {
	EvidenceID string
	Seq        uint64
	// Digest is the hex SHA-256 of the event's statement (or of its stored bytes); ""
	// when Fsck found the damage without reading the event.
	Digest string
	Reason string
}

// EventRef names a stored event.
type EventRef struct {
	EvidenceID string
	Seq        uint64
}

// Fsck verifies every stored custody chain in full (each event's signature, its place
// in the chain and its inclusion in the log at its stored index, as every use case
// does) and then reads every leaf of the log up to its latest checkpoint verified with
// the trust root's log key: the leaves must hash to that checkpoint's root, and each
// must be a stored event's leaf (see FsckReport). It lists the exhibits under
// evidence/ in the store; progress, if not nil, hears of each exhibit and leaf page.
//
// Unlike the use cases, Fsck changes nothing: an event stored without a log index is
// reported as pending, not appended, and a damaged chain gets no integrity-failure
// event. It fails only when the store, the trust root or the log cannot be read;
// everything it finds is in the report.
//
// Memory: Fsck keeps a map from leaf hash to stored event, about 150 bytes per event
// (and the store's listing of evidence/ while it reads it): fine up to a few million
// events. The log's leaves are read a page at a time.
func (s *Service) Fsck(ctx context.Context, progress ProgressFunc) (FsckReport, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	held := &heldRecords{Records: NewRecords(s.cfg.Store)}
	led, err := ledger.New(ledger.Config{Records: held, Log: noAppend{s.cfg.Log}, Signer: s.cfg.Signer,
		TrustRoot: s.cfg.TrustRoot, Logger: s.cfg.Logger, Now: s.cfg.Now})
	if err != nil {
		return FsckReport{}, err
	}
	leaves := newStoredLeaves(s.cfg.Store)
	var rep FsckReport
	err = walkEvents(ctx, s.cfg.Store, progress, func(id string, events []ledger.StoredEvent) error {
		leaves.add(id, events)
		return fsckChain(ctx, led, held, id, events, &rep)
	})
	if err != nil {
		return FsckReport{}, err
	}
	if err := s.fsckLeaves(ctx, leaves, &rep, progress); err != nil {
		return FsckReport{}, err
	}
	return rep, nil
}

// fsckChain verifies the stored events of one exhibit through led, which reads them
// from held, and adds what it finds to rep.
func fsckChain(ctx context.Context, led *ledger.Ledger, held *heldRecords, id string, events []ledger.StoredEvent, rep *FsckReport) error {
	rep.Exhibits++
	rep.Events += len(events)
	if len(events) == 0 {
		rep.Damaged = append(rep.Damaged, ChainDamage{EvidenceID: id, Reason: "objects are stored under its name, but no custody event"})
		return nil
	}
	logged := len(events)
	for logged > 0 && !events[logged-1].HasIndex {
		logged--
	}
	for _, e := range events[logged:] {
		rep.Pending = append(rep.Pending, EventRef{EvidenceID: id, Seq: e.Seq})
	}
	if logged == 0 {
		return nil
	}
	held.id, held.events = id, events[:logged]
	defer func() { held.id, held.events = "", nil }()
	chain, err := led.Load(ctx, id)
	switch {
	case errors.Is(err, errNoAppend):
		// Load verified an event that has no log index and wanted to append it: the
		// index of an event followed by logged ones was removed.
		for _, e := range events[:logged] {
			if !e.HasIndex {
				rep.Damaged = append(rep.Damaged, ChainDamage{EvidenceID: id, Seq: e.Seq,
					Reason: "no log index is stored for it, but one is for a later event: its index record was removed"})
				break
			}
		}
		return nil
	case err != nil:
		return fmt.Errorf("checking the custody chain of %s: %w", id, err)
	case chain.Damage != nil:
		d := chain.Damage
		rep.Damaged = append(rep.Damaged, ChainDamage{EvidenceID: id, Seq: d.Seq, Digest: d.Digest, Reason: d.Reason})
	}
	return nil
}

// fsckLeaves reads every leaf of the log up to its latest checkpoint, checks that they
// hash to its root, and classifies each against the stored events.
func (s *Service) fsckLeaves(ctx context.Context, leaves *StoredLeaves, rep *FsckReport, progress ProgressFunc) error {
	lr, ok := s.cfg.Log.(ledger.LeafReader)
	if !ok {
		return nil
	}
	cp, err := s.cfg.Log.Checkpoint(ctx)
	if errors.Is(err, ledger.ErrNotFound) {
		rep.LogChecked = true // a log that has not started: no leaf
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the log's checkpoint: %w", err)
	}
	tr, err := s.cfg.TrustRoot(ctx)
	if err != nil {
		return fmt.Errorf("loading the trust root: %w", err)
	}
	opened, err := tr.ParseCheckpoint(cp.Note)
	if err != nil {
		rep.LogDamage = "the log's checkpoint does not verify with the trust root's log key: " + err.Error()
		return nil
	}
	rep.LogChecked, rep.LogSize, rep.LogRoot = true, opened.Size, opened.Hash
	rng := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for start := uint64(0); start < opened.Size; {
		page, err := lr.Leaves(ctx, start, min(fsckLeafPage, opened.Size-start), opened.Size)
		if errors.Is(err, ledger.ErrSecurity) {
			rep.LogDamage = err.Error()
			return nil
		}
		if err == nil && len(page) == 0 {
			err = errors.New("no leaf returned")
		}
		if err != nil {
			return fmt.Errorf("reading the log's leaves from %d: %w", start, err)
		}
		for _, leaf := range page {
			h := rfc6962.DefaultHasher.HashLeaf(leaf)
			if err := rng.Append(h, nil); err != nil {
				return err
			}
			leaves.classify(start, h, rep)
			start++
		}
		progress(PhaseLeaves, int64(start), int64(opened.Size))
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if opened.Size > 0 {
		if root, err = rng.GetRootHash(nil); err != nil {
			return err
		}
	}
	if !bytes.Equal(root, opened.Hash) {
		rep.LogDamage = fmt.Sprintf("the log's leaves do not hash to the root of its checkpoint of size %d", opened.Size)
	}
	return nil
}

// StoredLeaves finds the stored custody events by the hash of their log leaf, the leaf
// ledger appends for each: custody.Leaf of its statement, with its exhibit's tag key
// (from the register event) and its own evidence id and sequence number.
//
// It keeps a map entry per stored event, about 150 bytes each, not the leaves
// themselves: fine up to a few million events. Leaf reads the event back.
type StoredLeaves struct {
	store   storage.Store
	byHash  map[[sha256.Size]byte]storedLeaf
	tagKeys map[string][]byte // by evidence id
}

// storedLeaf is where a leaf's event is stored, and the log index stored for it.
type storedLeaf struct {
	id       string
	seq      uint64
	index    uint64
	hasIndex bool
}

func newStoredLeaves(store storage.Store) *StoredLeaves {
	return &StoredLeaves{store: store, byHash: map[[sha256.Size]byte]storedLeaf{}, tagKeys: map[string][]byte{}}
}

// ReadStoredLeaves reads every stored custody event of store (unverified: a leaf is
// proven only by a log root) and returns them found by leaf hash. progress, if not nil,
// hears of each exhibit.
func ReadStoredLeaves(ctx context.Context, store storage.Store, progress ProgressFunc) (*StoredLeaves, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	s := newStoredLeaves(store)
	err := walkEvents(ctx, store, progress, func(id string, events []ledger.StoredEvent) error {
		s.add(id, events)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Len returns how many stored events have a leaf.
func (s *StoredLeaves) Len() int { return len(s.byHash) }

// Leaf returns the leaf whose RFC 6962 leaf hash is hash, read back from its stored
// event; an error matching ledger.ErrNotFound if no stored event has it. It is a
// tesseralog.LeafSource.
func (s *StoredLeaves) Leaf(ctx context.Context, hash []byte) ([]byte, error) {
	if len(hash) != sha256.Size {
		return nil, fmt.Errorf("a leaf hash of %d bytes: %w", len(hash), ledger.ErrNotFound)
	}
	ref, ok := s.byHash[hashKey(hash)]
	if !ok {
		return nil, fmt.Errorf("no stored custody event has the leaf hash %x: %w", hash, ledger.ErrNotFound)
	}
	env, err := readSmall(ctx, s.store, eventName(ref.id, ref.seq), custody.MaxEnvelopeSize)
	if err != nil {
		return nil, err
	}
	leaf, ok := eventLeaf(env, s.tagKeys[ref.id])
	if !ok || !bytes.Equal(rfc6962.DefaultHasher.HashLeaf(leaf), hash) {
		return nil, fmt.Errorf("event %d of %s changed since it was read: %w", ref.seq, ref.id, ledger.ErrNotFound)
	}
	return leaf, nil
}

// add indexes the leaves of the stored events of exhibit id: those that parse, if its
// register event does (it holds the tag key).
func (s *StoredLeaves) add(id string, events []ledger.StoredEvent) {
	if len(events) == 0 || events[0].Seq != 0 {
		return
	}
	reg, err := parseStored(events[0].Envelope)
	if err != nil || reg.event.Action != custody.ActionRegister {
		return
	}
	tagKey, err := reg.event.TagKey()
	if err != nil {
		return
	}
	s.tagKeys[id] = tagKey
	for _, e := range events {
		if leaf, ok := eventLeaf(e.Envelope, tagKey); ok {
			s.byHash[hashKey(rfc6962.DefaultHasher.HashLeaf(leaf))] = storedLeaf{id: id, seq: e.Seq, index: e.Index, hasIndex: e.HasIndex}
		}
	}
}

// classify counts the leaf of hash h at log index idx in rep.
func (s *StoredLeaves) classify(idx uint64, h []byte, rep *FsckReport) {
	ref, ok := s.byHash[hashKey(h)]
	switch {
	case !ok:
		if rep.Unexplained++; len(rep.UnexplainedIndexes) < maxUnexplainedListed {
			rep.UnexplainedIndexes = append(rep.UnexplainedIndexes, idx)
		}
	case ref.hasIndex && ref.index == idx:
		rep.Explained++
	default:
		rep.Repeats++
	}
}

// storedStatement is a stored envelope's statement, parsed.
type storedStatement struct {
	statement []byte
	event     custody.Event
}

func parseStored(envelope []byte) (storedStatement, error) {
	env, err := custody.ParseEnvelope(envelope)
	if err != nil {
		return storedStatement{}, err
	}
	payload, err := env.PayloadBytes()
	if err != nil {
		return storedStatement{}, err
	}
	st, err := custody.ParseStatement(payload)
	if err != nil {
		return storedStatement{}, err
	}
	return storedStatement{statement: payload, event: st.Predicate}, nil
}

// eventLeaf is the log leaf of a stored event, as the ledger appends it.
func eventLeaf(envelope, tagKey []byte) ([]byte, bool) {
	st, err := parseStored(envelope)
	if err != nil || tagKey == nil {
		return nil, false
	}
	return custody.Leaf(st.statement, tagKey, st.event.EvidenceID, st.event.Seq), true
}

// hashKey is a hash as a map key.
func hashKey(h []byte) [sha256.Size]byte { return [sha256.Size]byte(h) }

// walkEvents calls f with the stored events of every exhibit under evidence/, in
// evidence id order, and reports each exhibit to progress.
func walkEvents(ctx context.Context, store storage.Store, progress ProgressFunc, f func(id string, events []ledger.StoredEvent) error) error {
	ids, err := exhibitIDs(ctx, store)
	if err != nil {
		return err
	}
	recs := NewRecords(store)
	for i, id := range ids {
		events, err := recs.Events(ctx, id, 0)
		if err != nil {
			return err
		}
		if err := f(id, events); err != nil {
			return err
		}
		progress(PhaseExhibits, int64(i+1), int64(len(ids)))
	}
	return nil
}

// exhibitIDs lists the evidence ids that have objects under evidence/, in order.
func exhibitIDs(ctx context.Context, store storage.Store) ([]string, error) {
	names, err := store.List(ctx, evidencePrefix)
	if err != nil {
		return nil, fmt.Errorf("listing the stored custody events: %w", err)
	}
	var ids []string
	for _, name := range names {
		if id, ok := parseEvidenceID(name); ok && (len(ids) == 0 || ids[len(ids)-1] != id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// heldRecords serves Fsck's ledger the events Fsck already read for the exhibit it
// checks, so that each is read once. It is not safe for concurrent use: Fsck checks
// one exhibit at a time.
type heldRecords struct {
	ledger.Records
	id     string
	events []ledger.StoredEvent
}

func (h *heldRecords) Events(ctx context.Context, id string, from uint64) ([]ledger.StoredEvent, error) {
	if id == h.id && from == 0 {
		return h.events, nil
	}
	return h.Records.Events(ctx, id, from)
}

// errNoAppend is the error of noAppend.Append.
var errNoAppend = errors.New("fsck does not append to the log")

// noAppend is the log as Fsck's ledger sees it: Fsck adds nothing to the log, so the
// ledger's re-publishing of an event without a log index fails.
type noAppend struct{ ledger.Log }

func (noAppend) Append(context.Context, []byte) (uint64, ledger.Checkpoint, error) {
	return 0, ledger.Checkpoint{}, errNoAppend
}
