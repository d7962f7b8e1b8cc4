// Package ledgertest holds the conformance suites of the ledger's ports (Log, Records,
// CheckpointStore), which every implementation runs, and in-memory fakes of them with
// fault hooks for fast tests of the layers above. It imports ledger, custody and the
// transparency-dev packages; it is for tests only.
package ledgertest

import (
	"crypto/rand"
	"sync"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
)

// RunLog checks l against the contract of ledger.Log (and ledger.LeafReader if it is
// one). l must be a log used by nothing else during the run; v verifies its checkpoints.
func RunLog(t *testing.T, l ledger.Log, v note.Verifier) {
	open := func(t *testing.T, cp ledger.Checkpoint) *log.Checkpoint {
		t.Helper()
		c, _, _, err := log.ParseCheckpoint(cp.Note, v.Name(), v)
		if err != nil {
			t.Fatalf("checkpoint does not verify: %v\n%s", err, cp.Note)
		}
		if c.Size != cp.Size || string(c.Hash) != string(cp.Hash) || c.Origin != cp.Origin {
			t.Fatalf("parsed checkpoint %d/%x/%s differs from its note (%d/%x/%s)", cp.Size, cp.Hash, cp.Origin, c.Size, c.Hash, c.Origin)
		}
		return c
	}
	leaf := func() []byte {
		b := make([]byte, 48)
		rand.Read(b)
		return b
	}

	const n = 24
	leaves := make([][]byte, n)
	idx := make([]uint64, n)
	cps := make([]ledger.Checkpoint, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		leaves[i] = leaf()
		wg.Go(func() { idx[i], cps[i], errs[i] = l.Append(t.Context(), leaves[i]) })
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Append: %v", errs[i])
		}
		if seen[idx[i]] {
			t.Fatalf("two appends got index %d", idx[i])
		}
		seen[idx[i]] = true
		c := open(t, cps[i])
		if c.Size <= idx[i] {
			t.Fatalf("Append returned index %d with a checkpoint of size %d that does not cover it", idx[i], c.Size)
		}
		p, err := l.InclusionProof(t.Context(), idx[i], c.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := custody.VerifyInclusion(idx[i], c.Size, hashLeaf(leaves[i]), p, c.Hash); err != nil {
			t.Errorf("inclusion proof of leaf %d in tree %d: %v", idx[i], c.Size, err)
		}
	}

	t.Run("Consistency", func(t *testing.T) {
		first, err := l.Checkpoint(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		a := open(t, first)
		if _, _, err := l.Append(t.Context(), leaf()); err != nil {
			t.Fatal(err)
		}
		second, err := l.Checkpoint(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b := open(t, second)
		if b.Size <= a.Size {
			t.Fatalf("the checkpoint did not grow: %d then %d", a.Size, b.Size)
		}
		p, err := l.ConsistencyProof(t.Context(), a.Size, b.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := custody.VerifyConsistency(a.Size, b.Size, p, a.Hash, b.Hash); err != nil {
			t.Errorf("consistency %d -> %d: %v", a.Size, b.Size, err)
		}
	})

	t.Run("Leaves", func(t *testing.T) {
		lr, ok := l.(ledger.LeafReader)
		if !ok {
			t.Skip("not a LeafReader")
		}
		c := open(t, cps[0])
		for i := range n {
			if idx[i] >= c.Size {
				continue
			}
			got, err := lr.Leaves(t.Context(), idx[i], 1, c.Size)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || string(got[0]) != string(leaves[i]) {
				t.Errorf("leaf %d: got %x, want %x", idx[i], got, leaves[i])
			}
		}
	})
}

func hashLeaf(b []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(b) }
