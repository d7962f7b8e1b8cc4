package exhibit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// maxCheckpointSize bounds a checkpoint read back from the store.
const maxCheckpointSize = 16 << 10

// records keeps custody events in the object store under the names of names.go.
type records struct{ store storage.Store }

// NewRecords returns the ledger's Records over a write-once object store.
func NewRecords(store storage.Store) ledger.Records { return records{store} }

var _ ledger.Records = records{}

// PutEvent implements ledger.Records.
func (r records) PutEvent(ctx context.Context, id string, seq uint64, envelope []byte) error {
	_, err := r.store.Create(ctx, eventName(id, seq), bytes.NewReader(envelope))
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("event %d of %s: %w", seq, id, ledger.ErrConflict)
	}
	return err
}

// PutIndex implements ledger.Records.
func (r records) PutIndex(ctx context.Context, id string, seq, index uint64) error {
	_, err := r.store.Create(ctx, indexName(id, seq), strings.NewReader(strconv.FormatUint(index, 10)))
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("log index of event %d of %s: %w", seq, id, ledger.ErrConflict)
	}
	return err
}

// Events implements ledger.Records. It returns every stored event from from on,
// including those after a missing one, so that the ledger sees the gap.
func (r records) Events(ctx context.Context, id string, from uint64) ([]ledger.StoredEvent, error) {
	names, err := r.store.List(ctx, eventsPrefix(id))
	if err != nil {
		return nil, fmt.Errorf("listing events of %s: %w", id, err)
	}
	var out []ledger.StoredEvent
	for _, name := range names {
		seq, ok := parseEventName(id, name)
		if !ok || seq < from {
			continue
		}
		env, err := readSmall(ctx, r.store, name, custody.MaxEnvelopeSize)
		if err != nil {
			return nil, err
		}
		e := ledger.StoredEvent{Seq: seq, Envelope: env}
		if _, found := slices.BinarySearch(names, indexName(id, seq)); found {
			b, err := readSmall(ctx, r.store, indexName(id, seq), 20)
			if err != nil {
				return nil, err
			}
			if e.Index, err = strconv.ParseUint(string(b), 10, 64); err != nil {
				return nil, fmt.Errorf("stored log index of event %d of %s: %w", seq, id, err)
			}
			e.HasIndex = true
		}
		out = append(out, e)
	}
	return out, nil
}

// Next implements ledger.Records. It reads event from, from+1, ... until one is not
// stored: no listing, so a gateway that has folded a chain up to event from-1 pays
// for the events it has not seen and one missed read (a GET answered 404 on S3).
func (r records) Next(ctx context.Context, id string, from uint64) ([]ledger.StoredEvent, error) {
	var out []ledger.StoredEvent
	for seq := from; ; seq++ {
		env, err := readSmall(ctx, r.store, eventName(id, seq), custody.MaxEnvelopeSize)
		if errors.Is(err, storage.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e := ledger.StoredEvent{Seq: seq, Envelope: env}
		b, err := readSmall(ctx, r.store, indexName(id, seq), 20)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			if e.Index, err = strconv.ParseUint(string(b), 10, 64); err != nil {
				return nil, fmt.Errorf("stored log index of event %d of %s: %w", seq, id, err)
			}
			e.HasIndex = true
		}
		out = append(out, e)
	}
}

// checkpoints keeps signed checkpoints in the object store, write-once by tree size.
type checkpoints struct{ store storage.Store }

// NewCheckpointStore returns the ledger's CheckpointStore over a write-once object
// store.
func NewCheckpointStore(store storage.Store) ledger.CheckpointStore { return checkpoints{store} }

var _ ledger.CheckpointStore = checkpoints{}

// Put implements ledger.CheckpointStore.
func (c checkpoints) Put(ctx context.Context, size uint64, note []byte) error {
	_, err := c.store.Create(ctx, checkpointName(size), bytes.NewReader(note))
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("checkpoint %d: %w", size, ledger.ErrConflict)
	}
	return err
}

// Get implements ledger.CheckpointStore.
func (c checkpoints) Get(ctx context.Context, size uint64) ([]byte, error) {
	b, err := readSmall(ctx, c.store, checkpointName(size), maxCheckpointSize)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("checkpoint %d: %w", size, ledger.ErrNotFound)
	}
	return b, err
}

// Latest implements ledger.CheckpointStore.
func (c checkpoints) Latest(ctx context.Context) ([]byte, error) {
	names, err := c.store.List(ctx, checkpointPrefix)
	if err != nil {
		return nil, fmt.Errorf("listing stored checkpoints: %w", err)
	}
	for i := len(names) - 1; i >= 0; i-- {
		digits := strings.TrimPrefix(names[i], checkpointPrefix)
		if len(digits) != 20 {
			continue
		}
		if size, err := strconv.ParseUint(digits, 10, 64); err == nil {
			return c.Get(ctx, size)
		}
	}
	return nil, fmt.Errorf("latest checkpoint: %w", ledger.ErrNotFound)
}

// readSmall reads a whole object of at most limit bytes.
func readSmall(ctx context.Context, store storage.Store, name string, limit int64) ([]byte, error) {
	rc, _, err := store.Open(ctx, name, "")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(storage.ContextReader(ctx, rc), limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", name, limit)
	}
	return b, nil
}
