package custody

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// consistencyProof is PROOF(m, D[n]) of RFC 6962 section 2.1.2 over the leaf hashes of a
// tree of size n.
func consistencyProof(m int, leafHashes [][]byte) [][]byte {
	return subproof(m, leafHashes, true)
}

// subproof is SUBPROOF(m, D[n], b) of RFC 6962 section 2.1.2.
func subproof(m int, leafHashes [][]byte, complete bool) [][]byte {
	n := len(leafHashes)
	if m == n {
		if complete {
			return nil
		}
		return [][]byte{treeHash(leafHashes)}
	}
	k := splitPoint(n)
	if m <= k {
		return append(subproof(m, leafHashes[:k], complete), treeHash(leafHashes[k:]))
	}
	return append(subproof(m-k, leafHashes[k:], false), treeHash(leafHashes[:k]))
}

// fork returns the same log, signed by the same key, with leaf i replaced: from size
// i+1 on, its checkpoints are another branch of a fork.
func (l *testLog) fork(i int) *testLog {
	f := *l
	f.leaves = slices.Clone(l.leaves)
	f.hashes = slices.Clone(l.hashes)
	f.leaves[i] = []byte("forked leaf\n")
	f.hashes[i] = leafHashes(f.leaves[i : i+1])[0]
	return &f
}

func (l *testLog) consistency(from, to int) [][]byte {
	return consistencyProof(from, l.hashes[:to])
}

func TestConsistencyProofHelper(t *testing.T) {
	l := newTestLog(t, 8)
	for to := 1; to <= 8; to++ {
		for from := 1; from <= to; from++ {
			if err := VerifyConsistency(uint64(from), uint64(to), l.consistency(from, to), treeHash(l.hashes[:from]), treeHash(l.hashes[:to])); err != nil {
				t.Errorf("consistency proof from %d to %d: %v", from, to, err)
			}
		}
	}
}

func TestCheckConsistency(t *testing.T) {
	l := newTestLog(t, 8)
	forked := l.fork(2)
	impostor := newNoteKey(t, "impostor", testOrigin)
	cp := func(l *testLog, size int) string { return l.checkpoint(t, size, l.key) }
	altered := l.consistency(3, 5)
	altered[0] = make([]byte, 32)

	tests := []struct {
		name         string
		older, newer string
		proof        [][]byte
		// wantReason is the InconsistencyError's reason, or its prefix when it ends in
		// ": "; "" = consistent.
		wantReason string
		// wantErr is the error of a checkpoint that cannot be read; it is not an
		// inconsistency.
		wantErr string
	}{
		{name: "the same checkpoint", older: cp(l, 5), newer: cp(l, 5)},
		{name: "a larger tree that extends it", older: cp(l, 3), newer: cp(l, 5), proof: l.consistency(3, 5)},
		{name: "from the empty tree", older: cp(l, 0), newer: cp(l, 5)},
		{name: "rollback", older: cp(l, 5), newer: cp(l, 3), proof: l.consistency(3, 5),
			wantReason: "rollback: a checkpoint of size 3 after one of size 5"},
		{name: "two roots for one size", older: cp(l, 5), newer: cp(forked, 5),
			wantReason: "fork: two different roots for tree size 5"},
		{name: "a proof with a hash altered", older: cp(l, 3), newer: cp(l, 5), proof: altered,
			wantReason: "the consistency proof from size 3 to 5 does not verify: "},
		{name: "no proof", older: cp(l, 3), newer: cp(l, 5),
			wantReason: "the consistency proof from size 3 to 5 does not verify: "},
		{name: "a correct proof within the other branch of a fork", older: cp(l, 3), newer: cp(forked, 5), proof: forked.consistency(3, 5),
			wantReason: "the consistency proof from size 3 to 5 does not verify: "},
		{name: "older checkpoint not signed by the log key", older: l.checkpoint(t, 3, impostor), newer: cp(l, 5), proof: l.consistency(3, 5),
			wantErr: "older checkpoint: custody verification failed: checkpoint not signed by the trusted log key: "},
		{name: "newer checkpoint not signed by the log key", older: cp(l, 3), newer: l.checkpoint(t, 5, impostor), proof: l.consistency(3, 5),
			wantErr: "newer checkpoint: custody verification failed: checkpoint not signed by the trusted log key: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckConsistency(l.tr, []byte(tt.older), []byte(tt.newer), tt.proof)
			var incons *InconsistencyError
			switch {
			case tt.wantErr != "":
				if !errors.Is(err, ErrVerification) || errors.As(err, &incons) || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want a verification failure (not an inconsistency) starting %q", err, tt.wantErr)
				}
			case tt.wantReason == "":
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
			case !errors.As(err, &incons) || !errors.Is(err, ErrVerification):
				t.Errorf("got %v, want an *InconsistencyError wrapping ErrVerification", err)
			default:
				checkInconsistency(t, incons, tt.wantReason, tt.older, tt.newer, tt.proof)
			}
		})
	}
}

// checkInconsistency checks that an inconsistency names its reason and carries both
// checkpoints and the proof, in its error and in its evidence document.
func checkInconsistency(t *testing.T, e *InconsistencyError, wantReason, older, newer string, proof [][]byte) {
	t.Helper()
	if e.Reason != wantReason && !(strings.HasSuffix(wantReason, ": ") && strings.HasPrefix(e.Reason, wantReason)) {
		t.Errorf("reason: got %q, want %q", e.Reason, wantReason)
	}
	if got, want := e.Error(), "SECURITY: the custody log is inconsistent: "+e.Reason; got != want {
		t.Errorf("error: got %q, want %q", got, want)
	}
	doc, err := e.Evidence()
	if err != nil {
		t.Fatalf("Evidence: %v", err)
	}
	var got struct {
		Reason string   `json:"reason"`
		Older  string   `json:"older_checkpoint"`
		Newer  string   `json:"newer_checkpoint"`
		Proof  [][]byte `json:"consistency_proof"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("evidence document: %v\n%s", err, doc)
	}
	if diff := cmp.Diff(struct {
		Reason, Older, Newer string
		Proof                [][]byte
	}{e.Reason, older, newer, proof}, struct {
		Reason, Older, Newer string
		Proof                [][]byte
	}{got.Reason, got.Older, got.Newer, got.Proof}); diff != "" {
		t.Errorf("evidence document (-want +got):\n%s", diff)
	}
}

func TestCrossCheck(t *testing.T) {
	l := newTestLog(t, 8)
	forked := l.fork(2)
	cp := func(l *testLog, size int) []byte { return []byte(l.checkpoint(t, size, l.key)) }
	report := func(cps map[uint64][]byte, proofs ...ConsistencyEntry) *Report {
		return &Report{Checkpoints: cps, Consistency: proofs}
	}
	proof := func(l *testLog, from, to int) ConsistencyEntry {
		return ConsistencyEntry{FromSize: uint64(from), ToSize: uint64(to), Hashes: l.consistency(from, to)}
	}
	altered := proof(l, 3, 5)
	altered.Hashes[1] = make([]byte, 32)

	tests := []struct {
		name         string
		reports      []*Report
		wantSizes    []uint64
		wantUnjoined []uint64
		// wantReason is the InconsistencyError's reason, or its prefix when it ends in
		// ": "; "" = consistent. wantOlder and wantNewer are its checkpoints, wantProof
		// its proof.
		wantReason           string
		wantOlder, wantNewer []byte
		wantProof            [][]byte
	}{
		{name: "no bundles"},
		{name: "one bundle", reports: []*Report{report(map[uint64][]byte{5: cp(l, 5)})},
			wantSizes: []uint64{5}},
		{name: "two bundles of one checkpoint", reports: []*Report{report(map[uint64][]byte{5: cp(l, 5)}), report(map[uint64][]byte{5: cp(l, 5)})},
			wantSizes: []uint64{5}},
		{name: "two sizes without a proof", reports: []*Report{report(map[uint64][]byte{3: cp(l, 3)}), report(map[uint64][]byte{5: cp(l, 5)})},
			wantSizes: []uint64{3, 5}, wantUnjoined: []uint64{3}},
		{name: "two sizes joined by a proof", reports: []*Report{report(map[uint64][]byte{3: cp(l, 3)}), report(map[uint64][]byte{5: cp(l, 5)}, proof(l, 3, 5))},
			wantSizes: []uint64{3, 5}},
		{name: "three sizes joined through the middle one", reports: []*Report{
			report(map[uint64][]byte{2: cp(l, 2)}),
			report(map[uint64][]byte{3: cp(l, 3)}, proof(l, 2, 3)),
			report(map[uint64][]byte{7: cp(l, 7)}, proof(l, 3, 7))},
			wantSizes: []uint64{2, 3, 7}},
		{name: "a proof from a size no bundle holds", reports: []*Report{
			report(map[uint64][]byte{2: cp(l, 2)}),
			report(map[uint64][]byte{7: cp(l, 7)}, proof(l, 3, 7))},
			wantSizes: []uint64{2, 7}, wantUnjoined: []uint64{2}},
		{name: "only the largest size is joined", reports: []*Report{
			report(map[uint64][]byte{2: cp(l, 2), 3: cp(l, 3)}),
			report(map[uint64][]byte{7: cp(l, 7)}, proof(l, 3, 7))},
			wantSizes: []uint64{2, 3, 7}, wantUnjoined: []uint64{2}},

		{name: "two roots for one size in two bundles", reports: []*Report{report(map[uint64][]byte{5: cp(l, 5)}), report(map[uint64][]byte{5: cp(forked, 5)})},
			wantReason: "fork: two bundles hold different roots for tree size 5", wantOlder: cp(l, 5), wantNewer: cp(forked, 5)},
		{name: "a proof with a hash altered", reports: []*Report{report(map[uint64][]byte{3: cp(l, 3)}), report(map[uint64][]byte{5: cp(l, 5)}, altered)},
			wantReason: "the consistency proof from size 3 to 5 does not verify: ", wantOlder: cp(l, 3), wantNewer: cp(l, 5), wantProof: altered.Hashes},
		{name: "a correct proof within the other branch of a fork", reports: []*Report{report(map[uint64][]byte{3: cp(l, 3)}), report(map[uint64][]byte{5: cp(forked, 5)}, proof(forked, 3, 5))},
			wantReason: "the consistency proof from size 3 to 5 does not verify: ", wantOlder: cp(l, 3), wantNewer: cp(forked, 5), wantProof: proof(forked, 3, 5).Hashes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sizes, unjoined, err := CrossCheck(tt.reports)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if !slices.Equal(sizes, tt.wantSizes) || !slices.Equal(unjoined, tt.wantUnjoined) {
					t.Errorf("got sizes %v, unjoined %v; want %v, %v", sizes, unjoined, tt.wantSizes, tt.wantUnjoined)
				}
				return
			}
			var incons *InconsistencyError
			if !errors.As(err, &incons) || !errors.Is(err, ErrVerification) {
				t.Fatalf("got %v, want an *InconsistencyError wrapping ErrVerification", err)
			}
			if sizes != nil || unjoined != nil {
				t.Errorf("got sizes %v, unjoined %v with an inconsistency, want none", sizes, unjoined)
			}
			checkInconsistency(t, incons, tt.wantReason, string(tt.wantOlder), string(tt.wantNewer), tt.wantProof)
		})
	}
}
