package tesseralog_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
	"github.com/evidencegw/evidencegw/ledger/witness/witnesstest"
)

// witnessTimeout is the witnessing timeout of these tests: short, so that a quorum
// that cannot be met fails an append quickly.
const witnessTimeout = 2 * time.Second

type witnessedLog struct {
	origin, vkey string
	signer       note.Signer
	verifier     note.Verifier
}

func newWitnessedLog(t *testing.T, name string) witnessedLog {
	t.Helper()
	origin := fmt.Sprintf("test.example/%s-%d", name, time.Now().UnixNano())
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return witnessedLog{origin: origin, vkey: vkey, signer: s, verifier: v}
}

func (w witnessedLog) open(t *testing.T, dir string, cps ledger.CheckpointStore, policy []byte) (*tesseralog.Log, error) {
	t.Helper()
	cfg := tesseralog.Config{Dir: dir, Signer: w.signer, Verifier: w.verifier, Checkpoints: cps, WitnessTimeout: witnessTimeout}
	if policy != nil {
		g := witnesstest.Group(t, policy)
		cfg.Witnesses = &g
	}
	quietKlog()
	l, err := tesseralog.New(t.Context(), cfg)
	if err == nil {
		t.Cleanup(func() {
			// A log whose entries the witnesses refuse cannot publish them: do not
			// wait for Tessera's whole shutdown timeout.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			l.Close(ctx)
		})
	}
	return l, err
}

func courtPolicy(t *testing.T, policy []byte) *custody.WitnessPolicy {
	t.Helper()
	p, err := custody.ParseWitnessPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appendLeaf(t *testing.T, l ledger.Log, leaf string) (ledger.Checkpoint, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, cp, err := l.Append(ctx, []byte(leaf))
	return cp, err
}

// TestWitnessQuorum runs the embedded log with three real witnesses, quorum 2 of 3:
// checkpoints carry the quorum's cosignatures; with one witness down the quorum holds;
// with two down appends fail with ErrWitnessQuorum, fast; a restarted witness resumes
// from its database; a witness answering with a key the policy does not name counts
// for nothing.
func TestWitnessQuorum(t *testing.T) {
	w1, w2, w3 := witnesstest.Start(t, "test.example/w1"), witnesstest.Start(t, "test.example/w2"), witnesstest.Start(t, "test.example/w3")
	lg := newWitnessedLog(t, "quorum")
	for _, w := range []*witnesstest.Witness{w1, w2, w3} {
		w.AddLog(lg.origin, lg.vkey)
	}
	policy := witnesstest.Policy(2, w1, w2, w3)
	court := courtPolicy(t, policy)
	dir, cps := t.TempDir(), ledgertest.NewMemCheckpoints()
	l, err := lg.open(t, dir, cps, policy)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := func(step string) {
		t.Helper()
		cp, err := appendLeaf(t, l, step)
		if err != nil {
			t.Fatalf("%s: append: %v", step, err)
		}
		if err := court.CheckCheckpoint(cp.Note); err != nil {
			t.Fatalf("%s: the checkpoint of size %d: %v\n%s", step, cp.Size, err, cp.Note)
		}
		stored, err := cps.Latest(t.Context())
		if err != nil || court.CheckCheckpoint(stored) != nil {
			t.Fatalf("%s: the stored checkpoint is not cosigned: %v\n%s", step, err, stored)
		}
	}
	refused := func(step string) {
		t.Helper()
		start := time.Now()
		_, err := appendLeaf(t, l, step)
		var qerr *ledger.WitnessQuorumError
		if !errors.Is(err, ledger.ErrWitnessQuorum) || !errors.As(err, &qerr) {
			t.Fatalf("%s: got %v, want an error matching ErrWitnessQuorum", step, err)
		}
		// It fails once its wait is over, not at the caller's deadline.
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: failed after %s", step, d)
		}
	}

	cosigned("all three up")
	w3.Stop()
	cosigned("w3 down: 2 of 3 remain")
	w2.Stop()
	refused("w2 and w3 down")
	w2.Restart()
	cosigned("w2 restarted on its database")
	w3.Restart()
	cosigned("w3 back, two checkpoints behind")

	// A policy that names, at w3's address, a key w3 does not hold: w3's
	// cosignatures do not verify under it and count for nothing.
	stranger := witnesstest.Start(t, "test.example/stranger")
	stranger.Stop()
	bad := []byte(fmt.Sprintf("%s\n%s\nwitness w3 %s %s\ngroup g 2 w1 w2 w3\nquorum g\n", w1.Line("w1"), w2.Line("w2"), stranger.VKey, w3.URL))
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l, err = lg.open(t, dir, cps, bad); err != nil {
		t.Fatal(err)
	}
	w2.Stop()
	refused("w2 down, w3 cosigning with a key the policy does not name")
}

// TestWitnessesRefuseFork plays a dishonest operator who keeps a second log under the
// same key and origin, with other entries: the witnesses refuse to cosign it (409 or
// 422), its appends fail with ErrWitnessQuorum, and a court's own witness policy
// rejects the checkpoints it signed without them.
func TestWitnessesRefuseFork(t *testing.T) {
	w1, w2, w3 := witnesstest.Start(t, "test.example/w1"), witnesstest.Start(t, "test.example/w2"), witnesstest.Start(t, "test.example/w3")
	lg := newWitnessedLog(t, "fork")
	for _, w := range []*witnesstest.Witness{w1, w2, w3} {
		w.AddLog(lg.origin, lg.vkey)
	}
	policy := witnesstest.Policy(2, w1, w2, w3)
	court := courtPolicy(t, policy)

	honest, err := lg.open(t, t.TempDir(), ledgertest.NewMemCheckpoints(), policy)
	if err != nil {
		t.Fatal(err)
	}
	var honestCP ledger.Checkpoint
	for i := range 3 {
		if honestCP, err = appendLeaf(t, honest, fmt.Sprintf("honest %d", i)); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name   string
		leaves int // how many entries the fork holds before it asks the witnesses
	}{
		{"fork of the same size", int(honestCP.Size) - 1}, // + the appended one below
		{"fork that grows past the honest log", int(honestCP.Size) + 2},
		{"rollback to a smaller tree", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The fork is built without witnesses, as a dishonest operator would.
			dir, cps := t.TempDir(), ledgertest.NewMemCheckpoints()
			fork, err := lg.open(t, dir, cps, nil)
			if err != nil {
				t.Fatal(err)
			}
			var forkCP ledger.Checkpoint
			for i := range tt.leaves {
				if forkCP, err = appendLeaf(t, fork, fmt.Sprintf("forged %d", i)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.leaves > 0 {
				if err := court.CheckCheckpoint(forkCP.Note); err == nil {
					t.Fatalf("the court's policy accepts the fork's checkpoint of size %d:\n%s", forkCP.Size, forkCP.Note)
				}
			}
			if err := fork.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Logf("the fork signed size %d, the honest log %d", forkCP.Size, honestCP.Size)
			// Now it asks the witnesses to cosign the forked history.
			fork, err = lg.open(t, dir, cps, policy)
			if err == nil {
				_, err = appendLeaf(t, fork, "forged last")
			}
			var qerr *ledger.WitnessQuorumError
			if !errors.Is(err, ledger.ErrWitnessQuorum) || !errors.As(err, &qerr) {
				t.Fatalf("got %v, want the witnesses to refuse (ErrWitnessQuorum)", err)
			}
			statuses := fmt.Sprint(qerr.Refusals)
			if tt.leaves > 0 && !qerr.Refused() {
				t.Errorf("no witness answered 409 or 422: %s", statuses)
			}
			if tt.leaves == 0 && !strings.Contains(statuses, "409") {
				t.Errorf("no witness answered 409 to the rollback: %s", statuses)
			}
		})
	}
	// The honest log goes on being cosigned.
	if cp, err := appendLeaf(t, honest, "honest after the fork"); err != nil || court.CheckCheckpoint(cp.Note) != nil {
		t.Fatalf("honest log after the fork attempts: %v", err)
	}
}

// quietKlog keeps Tessera's log lines (every witness refusal) out of the test output.
func quietKlog() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
}
