package trillianlog_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/trillianlog"
	"github.com/evidencegw/evidencegw/ledger/witness"
	"github.com/evidencegw/evidencegw/ledger/witness/witnesstest"
)

// witnessTimeout bounds one round of cosigning in these tests.
const witnessTimeout = 2 * time.Second

// openWitnessed opens the env's tree with the given keys, store and witness policy.
func (e *trillianEnv) openWitnessed(t testing.TB, s note.Signer, v note.Verifier, st ledger.CheckpointStore, policy []byte) *trillianlog.Log {
	t.Helper()
	wc := witness.New(witness.Config{Policy: witnesstest.Group(t, policy), Timeout: witnessTimeout})
	l, err := trillianlog.New(t.Context(), trillianlog.Config{
		Address: e.addr, TreeID: e.tree, Signer: s, Verifier: v, Checkpoints: st, Witnesses: wc,
	})
	if err != nil {
		t.Fatalf("trillianlog.New = %v", err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

func witnessedKeys(t *testing.T, name string) (note.Signer, note.Verifier, string, string) {
	t.Helper()
	origin := fmt.Sprintf("evidencegw.test/%s-%d", name, time.Now().UnixNano())
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v, origin, vkey
}

func appendOne(t *testing.T, l ledger.Log, leaf string) (ledger.Checkpoint, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, cp, err := l.Append(ctx, []byte(leaf))
	return cp, err
}

// TestWitnessQuorum: the Trillian log's checkpoints are cosigned by 2 of 3 real
// witnesses before an append returns or a checkpoint is stored; two witnesses down
// fail appends with ErrWitnessQuorum and store nothing; a restarted witness resumes.
func TestWitnessQuorum(t *testing.T) {
	env := newEnv(t)
	if !env.fresh {
		t.Skip("needs a fresh tree")
	}
	w1, w2, w3 := witnesstest.Start(t, "test.example/w1"), witnesstest.Start(t, "test.example/w2"), witnesstest.Start(t, "test.example/w3")
	s, v, origin, vkey := witnessedKeys(t, "trillian-quorum")
	for _, w := range []*witnesstest.Witness{w1, w2, w3} {
		w.AddLog(origin, vkey)
	}
	policy := witnesstest.Policy(2, w1, w2, w3)
	court, err := custody.ParseWitnessPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	st := ledgertest.NewMemCheckpoints()
	l := env.openWitnessed(t, s, v, st, policy)
	cosigned := func(step string) {
		t.Helper()
		cp, err := appendOne(t, l, step)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if err := court.CheckCheckpoint(cp.Note); err != nil {
			t.Fatalf("%s: checkpoint of size %d: %v", step, cp.Size, err)
		}
		stored, err := st.Get(t.Context(), cp.Size)
		if err != nil || court.CheckCheckpoint(stored) != nil {
			t.Fatalf("%s: the stored checkpoint of size %d is not cosigned: %v", step, cp.Size, err)
		}
	}
	cosigned("all three up")
	w3.Stop()
	cosigned("w3 down")
	w2.Stop()
	before := st.Sizes()
	_, err = appendOne(t, l, "w2 and w3 down")
	if !errors.Is(err, ledger.ErrWitnessQuorum) {
		t.Fatalf("two witnesses down: got %v, want ErrWitnessQuorum", err)
	}
	if after := st.Sizes(); len(after) != len(before) {
		t.Errorf("a checkpoint was stored without the quorum: sizes %v, then %v", before, after)
	}
	w2.Restart()
	cosigned("w2 restarted")
	w3.Restart()
	cosigned("w3 restarted, behind")
}

// TestWitnessesRefuseFork: a second Trillian tree signed with the same key and origin
// (a dishonest operator's fork) is refused by the witnesses that cosigned the first.
func TestWitnessesRefuseFork(t *testing.T) {
	honestEnv, forkEnv := newEnv(t), newEnv(t)
	if !honestEnv.fresh || !forkEnv.fresh {
		t.Skip("needs fresh trees")
	}
	w1, w2, w3 := witnesstest.Start(t, "test.example/w1"), witnesstest.Start(t, "test.example/w2"), witnesstest.Start(t, "test.example/w3")
	s, v, origin, vkey := witnessedKeys(t, "trillian-fork")
	for _, w := range []*witnesstest.Witness{w1, w2, w3} {
		w.AddLog(origin, vkey)
	}
	policy := witnesstest.Policy(2, w1, w2, w3)
	court, err := custody.ParseWitnessPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	honest := honestEnv.openWitnessed(t, s, v, ledgertest.NewMemCheckpoints(), policy)
	for i := range 3 {
		if _, err := appendOne(t, honest, fmt.Sprintf("honest %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The fork, first without witnesses: its checkpoints fail a court's policy.
	forkStore := ledgertest.NewMemCheckpoints()
	alone := forkEnv.open(t, s, v, forkStore)
	var cp ledger.Checkpoint
	for i := range 2 {
		if cp, err = appendOne(t, alone, fmt.Sprintf("forged %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := court.CheckCheckpoint(cp.Note); err == nil {
		t.Fatalf("the court's policy accepts the fork's checkpoint:\n%s", cp.Note)
	}
	alone.Close(t.Context())
	// Then with them: the forked tree reaches the honest size with other leaves.
	fork := forkEnv.openWitnessed(t, s, v, forkStore, policy)
	_, err = appendOne(t, fork, "forged last")
	var qerr *ledger.WitnessQuorumError
	if !errors.As(err, &qerr) || !errors.Is(err, ledger.ErrWitnessQuorum) {
		t.Fatalf("got %v, want the witnesses to refuse the fork", err)
	}
	if !qerr.Refused() {
		t.Errorf("no witness answered 409 or 422: %v", qerr)
	}
	if _, err := appendOne(t, honest, "honest after the fork"); err != nil {
		t.Fatalf("honest log after the fork attempt: %v", err)
	}
}
