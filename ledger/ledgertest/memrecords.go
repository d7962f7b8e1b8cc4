package ledgertest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/evidencegw/evidencegw/ledger"
)

// MemRecords is an in-memory ledger.Records with fault hooks, for fast tests. Safe for
// concurrent use.
type MemRecords struct {
	mu     sync.Mutex
	events map[string][]ledger.StoredEvent // by exhibit, index = seq

	// FailPut, if set, is called before each PutEvent and PutIndex (index is -1 for a
	// PutEvent); a non-nil error fails the call and stores nothing.
	FailPut func(id string, seq uint64, index int64) error
}

var _ ledger.Records = (*MemRecords)(nil)

// NewMemRecords returns empty records.
func NewMemRecords() *MemRecords { return &MemRecords{events: map[string][]ledger.StoredEvent{}} }

// PutEvent implements ledger.Records.
func (m *MemRecords) PutEvent(ctx context.Context, id string, seq uint64, envelope []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailPut != nil {
		if err := m.FailPut(id, seq, -1); err != nil {
			return err
		}
	}
	evs := m.events[id]
	switch {
	case seq < uint64(len(evs)):
		if !bytes.Equal(evs[seq].Envelope, envelope) {
			return fmt.Errorf("event %d of %s: %w", seq, id, ledger.ErrConflict)
		}
		return nil
	case seq > uint64(len(evs)):
		return fmt.Errorf("event %d of %s: %d events stored before it", seq, id, len(evs))
	}
	m.events[id] = append(evs, ledger.StoredEvent{Seq: seq, Envelope: slices.Clone(envelope)})
	return nil
}

// PutIndex implements ledger.Records.
func (m *MemRecords) PutIndex(ctx context.Context, id string, seq, index uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailPut != nil {
		if err := m.FailPut(id, seq, int64(index)); err != nil {
			return err
		}
	}
	evs := m.events[id]
	if seq >= uint64(len(evs)) {
		return fmt.Errorf("index of event %d of %s: no such event", seq, id)
	}
	e := &evs[seq]
	if e.HasIndex && e.Index != index {
		return fmt.Errorf("index of event %d of %s: %w", seq, id, ledger.ErrConflict)
	}
	e.Index, e.HasIndex = index, true
	return nil
}

// Events implements ledger.Records.
func (m *MemRecords) Events(ctx context.Context, id string, from uint64) ([]ledger.StoredEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	evs := m.events[id]
	if from >= uint64(len(evs)) {
		return nil, nil
	}
	out := slices.Clone(evs[from:])
	for i := range out {
		out[i].Envelope = slices.Clone(out[i].Envelope)
	}
	return out, nil
}

// Next implements ledger.Records. MemRecords stores no event after a gap, so it
// returns what Events returns.
func (m *MemRecords) Next(ctx context.Context, id string, from uint64) ([]ledger.StoredEvent, error) {
	return m.Events(ctx, id, from)
}

// Tamper replaces the stored envelope of event seq of id, as an attacker with access to
// the store would.
func (m *MemRecords) Tamper(id string, seq uint64, envelope []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events[id][seq].Envelope = slices.Clone(envelope)
}

// MemCheckpoints is an in-memory ledger.CheckpointStore. Safe for concurrent use.
type MemCheckpoints struct {
	mu  sync.Mutex
	cps map[uint64][]byte
}

var _ ledger.CheckpointStore = (*MemCheckpoints)(nil)

// NewMemCheckpoints returns an empty store.
func NewMemCheckpoints() *MemCheckpoints { return &MemCheckpoints{cps: map[uint64][]byte{}} }

// Put implements ledger.CheckpointStore.
func (m *MemCheckpoints) Put(_ context.Context, size uint64, note []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.cps[size]; ok {
		if !bytes.Equal(old, note) {
			return fmt.Errorf("checkpoint %d: %w", size, ledger.ErrConflict)
		}
		return nil
	}
	m.cps[size] = slices.Clone(note)
	return nil
}

// Get implements ledger.CheckpointStore.
func (m *MemCheckpoints) Get(_ context.Context, size uint64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.cps[size]
	if !ok {
		return nil, fmt.Errorf("checkpoint %d: %w", size, ledger.ErrNotFound)
	}
	return slices.Clone(b), nil
}

// Latest implements ledger.CheckpointStore.
func (m *MemCheckpoints) Latest(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var top uint64
	var found bool
	for s := range m.cps {
		if !found || s > top {
			top, found = s, true
		}
	}
	if !found {
		return nil, fmt.Errorf("latest checkpoint: %w", ledger.ErrNotFound)
	}
	return slices.Clone(m.cps[top]), nil
}

// Sizes returns the tree sizes of the stored checkpoints, in increasing order.
func (m *MemCheckpoints) Sizes() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	sizes := make([]uint64, 0, len(m.cps))
	for s := range m.cps {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	return sizes
}
