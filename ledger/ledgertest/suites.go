package ledgertest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/evidencegw/evidencegw/ledger"
)

// RunRecords checks r against the contract of ledger.Records. r must be empty.
func RunRecords(t *testing.T, r ledger.Records) {
	ctx := t.Context()
	const id = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	env := func(seq uint64) []byte { return fmt.Appendf(nil, `{"event":%d}`, seq) }

	if got, err := r.Events(ctx, id, 0); err != nil || len(got) != 0 {
		t.Fatalf("Events of an unknown exhibit = %v, %v; want none, nil", got, err)
	}
	for seq := range uint64(3) {
		if err := r.PutEvent(ctx, id, seq, env(seq)); err != nil {
			t.Fatalf("PutEvent %d: %v", seq, err)
		}
	}
	if err := r.PutEvent(ctx, id, 1, env(1)); err != nil {
		t.Errorf("PutEvent of the same bytes again = %v, want nil (retry-safe)", err)
	}
	if err := r.PutEvent(ctx, id, 1, []byte(`{"other":1}`)); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("PutEvent of other bytes = %v, want ErrConflict", err)
	}
	if err := r.PutIndex(ctx, id, 0, 7); err != nil {
		t.Fatalf("PutIndex: %v", err)
	}
	if err := r.PutIndex(ctx, id, 0, 7); err != nil {
		t.Errorf("PutIndex of the same index again = %v, want nil", err)
	}
	if err := r.PutIndex(ctx, id, 0, 8); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("PutIndex of another index = %v, want ErrConflict", err)
	}
	got, err := r.Events(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Events = %d events, want 3", len(got))
	}
	for i, e := range got {
		if e.Seq != uint64(i) || !bytes.Equal(e.Envelope, env(uint64(i))) {
			t.Errorf("event %d = seq %d %q, want seq %d %q", i, e.Seq, e.Envelope, i, env(uint64(i)))
		}
		if wantIdx := i == 0; e.HasIndex != wantIdx || (wantIdx && e.Index != 7) {
			t.Errorf("event %d index = %d (has %v), want index only on event 0 (7)", i, e.Index, e.HasIndex)
		}
	}
	if got, err := r.Events(ctx, id, 2); err != nil || len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("Events from 2 = %+v, %v; want event 2 only", got, err)
	}
	if got, err := r.Events(ctx, id, 3); err != nil || len(got) != 0 {
		t.Errorf("Events from 3 = %+v, %v; want none", got, err)
	}
	if got, err := r.Next(ctx, id, 1); err != nil || len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 ||
		!bytes.Equal(got[1].Envelope, env(2)) || got[0].HasIndex {
		t.Errorf("Next from 1 = %+v, %v; want events 1 and 2, without index", got, err)
	}
	if got, err := r.Next(ctx, id, 0); err != nil || len(got) != 3 || !got[0].HasIndex || got[0].Index != 7 {
		t.Errorf("Next from 0 = %+v, %v; want 3 events, the first with index 7", got, err)
	}
	for _, from := range []uint64{3, 9} {
		if got, err := r.Next(ctx, id, from); err != nil || len(got) != 0 {
			t.Errorf("Next from %d = %+v, %v; want none", from, got, err)
		}
	}
	if got, err := r.Next(ctx, "ev-cccccccccccccccccccccccccc", 0); err != nil || len(got) != 0 {
		t.Errorf("Next of an unknown exhibit = %+v, %v; want none", got, err)
	}

	t.Run("ConcurrentWriters", func(t *testing.T) {
		const other = "ev-bbbbbbbbbbbbbbbbbbbbbbbbbb"
		if err := r.PutEvent(ctx, other, 0, env(0)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for w := range 8 {
			wg.Go(func() {
				if r.PutEvent(ctx, other, 1, fmt.Appendf(nil, `{"writer":%d}`, w)) == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d of 8 concurrent writers of one event succeeded, want exactly 1", wins)
		}
	})
}

// RunCheckpoints checks s against the contract of ledger.CheckpointStore. s must be
// empty.
func RunCheckpoints(t *testing.T, s ledger.CheckpointStore) {
	ctx := t.Context()
	if _, err := s.Latest(ctx); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Latest of an empty store = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, 1); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Get of a missing size = %v, want ErrNotFound", err)
	}
	for _, size := range []uint64{9, 10, 2} {
		if err := s.Put(ctx, size, fmt.Appendf(nil, "checkpoint %d\n", size)); err != nil {
			t.Fatalf("Put %d: %v", size, err)
		}
	}
	if err := s.Put(ctx, 10, []byte("checkpoint 10\n")); err != nil {
		t.Errorf("Put of the same bytes again = %v, want nil", err)
	}
	if err := s.Put(ctx, 10, []byte("another root\n")); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("Put of other bytes = %v, want ErrConflict", err)
	}
	if b, err := s.Get(ctx, 9); err != nil || string(b) != "checkpoint 9\n" {
		t.Errorf("Get 9 = %q, %v", b, err)
	}
	if b, err := s.Latest(ctx); err != nil || string(b) != "checkpoint 10\n" {
		t.Errorf("Latest = %q, %v; want the checkpoint of size 10 (numeric order, not bytewise)", b, err)
	}
}
