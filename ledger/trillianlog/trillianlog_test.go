package trillianlog_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/trillian"
	"github.com/google/trillian/types"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/trillianlog"
)

func logRootSize(t testing.TB, slr *trillian.SignedLogRoot) uint64 {
	t.Helper()
	var lr types.LogRootV1
	if err := lr.UnmarshalBinary(slr.GetLogRoot()); err != nil {
		t.Fatalf("parsing log root: %v", err)
	}
	return lr.TreeSize
}

func randomLeaf(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 64)
	rand.Read(b)
	return b
}

// checkAppended verifies an Append result: a checkpoint signed by v covering index,
// and an inclusion proof of leaf at index against it. It returns the checkpoint.
func checkAppended(t testing.TB, l *trillianlog.Log, v note.Verifier, leaf []byte, index uint64, cpNote []byte) *log.Checkpoint {
	t.Helper()
	if _, err := note.Open(cpNote, note.VerifierList(v)); err != nil {
		t.Fatalf("note.Open(checkpoint of leaf %d) = %v", index, err)
	}
	cp, _, _, err := log.ParseCheckpoint(cpNote, v.Name(), v)
	if err != nil {
		t.Fatalf("log.ParseCheckpoint(checkpoint of leaf %d) = %v", index, err)
	}
	if cp.Size <= index {
		t.Fatalf("checkpoint of leaf %d has size %d, want > index", index, cp.Size)
	}
	hashes, err := l.InclusionProof(t.Context(), index, cp.Size)
	if err != nil {
		t.Fatalf("InclusionProof(%d, %d) = %v", index, cp.Size, err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, cp.Hash); err != nil {
		t.Fatalf("VerifyInclusion(leaf %d, size %d) = %v", index, cp.Size, err)
	}
	return cp
}

// appendAll appends leaves with the given concurrency and returns their indexes.
func appendAll(t testing.TB, l *trillianlog.Log, v note.Verifier, leaves [][]byte, workers int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	idx := make([]uint64, len(leaves))
	errs := make([]error, len(leaves))
	cps := make([]ledger.Checkpoint, len(leaves))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				idx[i], cps[i], errs[i] = l.Append(ctx, leaves[i])
			}
		})
	}
	for i := range leaves {
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range leaves {
		if errs[i] != nil {
			t.Fatalf("Append(leaf %d) = %v", i, errs[i])
		}
		checkAppended(t, l, v, leaves[i], idx[i], cps[i].Note)
	}
	return idx
}

func checkDistinct(t testing.TB, idx []uint64) {
	t.Helper()
	seen := make(map[uint64]int)
	for i, x := range idx {
		if j, ok := seen[x]; ok {
			t.Fatalf("leaves %d and %d both got index %d", j, i, x)
		}
		seen[x] = i
	}
}

func TestAppendConcurrent(t *testing.T) {
	env := newEnv(t)
	before := env.size(t)
	l, v, st := env.newLog(t)
	const n = 300
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = randomLeaf(t)
	}
	idx := appendAll(t, l, v, leaves, 32)
	checkDistinct(t, idx)
	if env.fresh {
		if got := env.size(t); got != n {
			t.Errorf("tree size after %d appends = %d, want %d", n, got, n)
		}
	} else if got := env.size(t); got < before+n {
		t.Errorf("tree size after %d appends = %d, want at least %d", n, got, before+n)
	}
	sizes := st.Sizes()
	if len(sizes) == 0 {
		t.Fatal("no checkpoint was stored")
	}
	t.Logf("%d appends were covered by %d signed checkpoints", n, len(sizes))
}

func TestAppendDuplicate(t *testing.T) {
	env := newEnv(t)
	l, v, _ := env.newLog(t)
	leaf := randomLeaf(t)
	i1, cp1, err := l.Append(t.Context(), leaf)
	if err != nil {
		t.Fatalf("Append = %v", err)
	}
	checkAppended(t, l, v, leaf, i1, cp1.Note)
	i2, cp2, err := l.Append(t.Context(), leaf)
	if err != nil {
		t.Fatalf("second Append = %v", err)
	}
	checkAppended(t, l, v, leaf, i2, cp2.Note)
	if i1 != i2 {
		t.Errorf("identical leaf appended twice: indexes %d and %d, want one", i1, i2)
	}

	// The same new leaf appended concurrently, while it is still queued.
	leaf = randomLeaf(t)
	leaves := [][]byte{leaf, leaf, leaf, leaf}
	idx := appendAll(t, l, v, leaves, len(leaves))
	for _, x := range idx[1:] {
		if x != idx[0] {
			t.Errorf("identical leaf appended concurrently: indexes %v, want one", idx)
			break
		}
	}
	if env.fresh {
		if got := env.size(t); got != 2 {
			t.Errorf("tree size = %d, want 2 (two distinct leaves)", got)
		}
	}
}

func TestCheckpointConsistency(t *testing.T) {
	env := newEnv(t)
	l, v, st := env.newLog(t)
	appendAll(t, l, v, [][]byte{randomLeaf(t), randomLeaf(t), randomLeaf(t)}, 3)
	cp1 := parse(t, v, checkpoint(t, l))
	appendAll(t, l, v, [][]byte{randomLeaf(t), randomLeaf(t), randomLeaf(t), randomLeaf(t), randomLeaf(t)}, 5)
	raw2 := checkpoint(t, l)
	cp2 := parse(t, v, raw2)
	if cp2.Size < cp1.Size+5 {
		t.Fatalf("checkpoint sizes %d then %d, want the second at least 5 more", cp1.Size, cp2.Size)
	}
	hashes, err := l.ConsistencyProof(t.Context(), cp1.Size, cp2.Size)
	if err != nil {
		t.Fatalf("ConsistencyProof(%d, %d) = %v", cp1.Size, cp2.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cp1.Size, cp2.Size, hashes, cp1.Hash, cp2.Hash); err != nil {
		t.Errorf("VerifyConsistency(%d, %d) = %v", cp1.Size, cp2.Size, err)
	}
	if p, err := l.ConsistencyProof(t.Context(), cp2.Size, cp2.Size); err != nil || len(p) != 0 {
		t.Errorf("ConsistencyProof(n, n) = %d hashes, %v; want empty", len(p), err)
	}

	// The latest checkpoint is the highest stored one, and a new Log on the same store
	// starts from it.
	stored, err := st.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, v, stored); got.Size != cp2.Size {
		t.Errorf("highest stored checkpoint has size %d, want %d", got.Size, cp2.Size)
	}
	if !bytes.Equal(stored, raw2) {
		t.Errorf("stored checkpoint of size %d differs from Checkpoint()", cp2.Size)
	}
}

func TestReopenUsesStoredCheckpoint(t *testing.T) {
	env := newEnv(t)
	s, v := keys(t, "evidencegw.test/reopen")
	st := ledgertest.NewMemCheckpoints()
	l1 := env.open(t, s, v, st)
	appendAll(t, l1, v, [][]byte{randomLeaf(t), randomLeaf(t)}, 2)
	raw1 := checkpoint(t, l1)
	if err := l1.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A second replica (or a restart) with the same store signs nothing new for the
	// same root: it returns the stored checkpoint.
	l2 := env.open(t, s, v, st)
	if got := checkpoint(t, l2); !bytes.Equal(got, raw1) {
		t.Errorf("checkpoint after reopening:\n%s\nwant the stored one:\n%s", got, raw1)
	}
	leaf := randomLeaf(t)
	appendAll(t, l2, v, [][]byte{leaf}, 1)
}

// TestConflictingCheckpoint stores a checkpoint for the next tree size over another
// root, as a misbehaving replica (or a forked Trillian seen by another replica) would.
func TestConflictingCheckpoint(t *testing.T) {
	env := newEnv(t)
	s, v := keys(t, "evidencegw.test/conflict")
	st := ledgertest.NewMemCheckpoints()
	l := env.open(t, s, v, st)
	size := env.size(t)
	bogus := signCheckpoint(t, s, size+1, bytes.Repeat([]byte{0xee}, 32))
	if err := st.Put(t.Context(), size+1, bogus); err != nil {
		t.Fatal(err)
	}
	_, _, err := l.Append(t.Context(), randomLeaf(t))
	if !errors.Is(err, trillianlog.ErrSecurity) {
		t.Fatalf("Append over a conflicting stored checkpoint = %v, want ErrSecurity", err)
	}
	var ce *trillianlog.ConflictingCheckpointError
	if !errors.As(err, &ce) {
		t.Fatalf("Append error %T %v, want *ConflictingCheckpointError", err, err)
	}
	if ce.Size != size+1 || !bytes.Equal(ce.Stored, bogus) {
		t.Errorf("error carries size %d and stored checkpoint\n%s\nwant size %d and\n%s", ce.Size, ce.Stored, size+1, bogus)
	}
	var proposed log.Checkpoint
	if _, err := proposed.Unmarshal(ce.Proposed); err != nil || proposed.Size != size+1 || bytes.Equal(proposed.Hash, bytes.Repeat([]byte{0xee}, 32)) {
		t.Errorf("proposed checkpoint %q (%v), want Trillian's root of size %d", ce.Proposed, err, size+1)
	}
	// The log may have signed the smaller trees, but nothing beyond the conflict.
	if sizes := st.Sizes(); sizes[len(sizes)-1] != size+1 {
		t.Errorf("stored checkpoints of sizes %v, want none above the planted one", sizes)
	}
	if _, err := l.Checkpoint(t.Context()); !errors.Is(err, trillianlog.ErrSecurity) {
		t.Errorf("Checkpoint = %v, want ErrSecurity", err)
	}
}

// TestInconsistentRoot starts a Log whose last signed checkpoint commits to another
// tree than Trillian's: the next root fails the consistency check and nothing is signed.
func TestInconsistentRoot(t *testing.T) {
	env := newEnv(t)
	l0, v0, _ := env.newLog(t)
	appendAll(t, l0, v0, [][]byte{randomLeaf(t), randomLeaf(t), randomLeaf(t)}, 3)
	size := env.size(t)

	s, v := keys(t, "evidencegw.test/inconsistent")
	st := ledgertest.NewMemCheckpoints()
	bogus := signCheckpoint(t, s, size-1, bytes.Repeat([]byte{0xee}, 32))
	if err := st.Put(t.Context(), size-1, bogus); err != nil {
		t.Fatal(err)
	}
	l := env.open(t, s, v, st)
	_, err := l.Checkpoint(t.Context())
	var ie *trillianlog.InconsistentRootError
	if !errors.Is(err, trillianlog.ErrSecurity) || !errors.As(err, &ie) {
		t.Fatalf("Checkpoint = %v, want *InconsistentRootError matching ErrSecurity", err)
	}
	if !bytes.Equal(ie.Signed, bogus) || ie.OldSize != size-1 || ie.NewSize < size || len(ie.Proof) == 0 {
		t.Errorf("error carries old %d, new %d, %d proof hashes, signed\n%s\nwant old %d, new >= %d, a proof and the stored checkpoint",
			ie.OldSize, ie.NewSize, len(ie.Proof), ie.Signed, size-1, size)
	}
	if _, _, err := l.Append(t.Context(), randomLeaf(t)); !errors.Is(err, trillianlog.ErrSecurity) {
		t.Errorf("Append = %v, want ErrSecurity", err)
	}
	if sizes := st.Sizes(); len(sizes) != 1 {
		t.Errorf("stored checkpoints of sizes %v, want only the planted one", sizes)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	s, v := keys(t, "evidencegw.test/a")
	_, other := keys(t, "evidencegw.test/a")
	st := ledgertest.NewMemCheckpoints()
	for _, tc := range []struct {
		name string
		cfg  trillianlog.Config
		want string
	}{
		{"no address", trillianlog.Config{TreeID: 1, Signer: s, Verifier: v, Checkpoints: st}, "address"},
		{"no tree", trillianlog.Config{Address: "127.0.0.1:1", Signer: s, Verifier: v, Checkpoints: st}, "tree id"},
		{"no signer", trillianlog.Config{Address: "127.0.0.1:1", TreeID: 1, Checkpoints: st}, "signer"},
		{"no store", trillianlog.Config{Address: "127.0.0.1:1", TreeID: 1, Signer: s, Verifier: v}, "store"},
		{"other key", trillianlog.Config{Address: "127.0.0.1:1", TreeID: 1, Signer: s, Verifier: other, Checkpoints: st}, "not the signer's key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trillianlog.New(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func checkpoint(t testing.TB, l *trillianlog.Log) []byte {
	t.Helper()
	cp, err := l.Checkpoint(t.Context())
	if err != nil {
		t.Fatalf("Checkpoint = %v", err)
	}
	return cp.Note
}

func parse(t testing.TB, v note.Verifier, raw []byte) *log.Checkpoint {
	t.Helper()
	cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
	if err != nil {
		t.Fatalf("ParseCheckpoint = %v", err)
	}
	return cp
}

func signCheckpoint(t testing.TB, s note.Signer, size uint64, hash []byte) []byte {
	t.Helper()
	body := log.Checkpoint{Origin: s.Name(), Size: size, Hash: hash}.Marshal()
	b, err := note.Sign(&note.Note{Text: string(body)}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
