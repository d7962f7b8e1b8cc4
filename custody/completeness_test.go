package custody

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCheckCompleteness proves each check of CheckCompleteness with a log snapshot
// signed by the log key that differs from an honest one in the one way that check
// catches. The bundle holds the five events of a signed exhibit.
func TestCheckCompleteness(t *testing.T) {
	x := newSignedExhibit(t, nil)
	impostor := newNoteKey(t, "impostor", testOrigin)
	// A second, different event 2, signed and logged: the chain forked.
	ev2, err := ParseStatement(x.statements[2])
	if err != nil {
		t.Fatal(err)
	}
	ev2.Predicate.Detail = "a second event 2"
	forked, err := ev2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	forkedLeaf := string(Leaf(forked, x.tagKey, signedEvidenceID, 2))

	// firstN proves the first n events of the exhibit in the tree of the leaves.
	firstN := func(n int, leaves [][]byte) *Bundle {
		b := x.bundle(t, leaves)
		b.Events = b.Events[:n]
		for i := range b.Events {
			b.Events[i].Proof = x.proof(t, leaves, i)
		}
		return b
	}
	snapshot := func(leaves [][]byte) *LogSnapshot {
		return &LogSnapshot{MediaType: LogSnapshotMediaType, Checkpoint: string(x.checkpoint(t, leaves)), Leaves: leaves}
	}
	log6 := x.logLeaves(otherLeaf(1))
	log8 := x.logLeaves(otherLeaf(1), otherLeaf(2), otherLeaf(3))
	tampered := slices.Clone(log8)
	tampered[7] = []byte("changed after signing\n")

	tests := []struct {
		name   string
		bundle *Bundle
		snap   *LogSnapshot
		want   Completeness
		// wantReason is the failure after "custody verification failed: "; "" passes.
		wantReason string
	}{
		{name: "complete, at the bundle's checkpoint", bundle: x.bundle(t, log6), snap: snapshot(log6),
			want: Completeness{LogSize: 6, BundleSize: 6}},
		{name: "complete, with later leaves of other exhibits", bundle: x.bundle(t, log6), snap: snapshot(log8),
			want: Completeness{LogSize: 8, BundleSize: 6}},
		{name: "events logged after the bundle's checkpoint", bundle: firstN(3, x.leaves[:3]), snap: snapshot(log8),
			want: Completeness{LogSize: 8, BundleSize: 3, LaterEvents: 2}},
		{name: "an event logged twice, the same bytes", bundle: x.bundle(t, log6), snap: snapshot(x.logLeaves(otherLeaf(1), string(x.leaves[2]))),
			want: Completeness{LogSize: 7, BundleSize: 6, Republished: 1}},

		{name: "an event left out", bundle: firstN(3, x.leaves[:4]), snap: snapshot(log8),
			wantReason: "log leaf 3 is event 3 of " + signedEvidenceID + ", logged before the bundle's checkpoint but absent from the bundle: the bundle is incomplete"},
		{name: "a second event with a bundled sequence number", bundle: x.bundle(t, log6), snap: snapshot(x.logLeaves(otherLeaf(1), forkedLeaf)),
			wantReason: "log leaf 6 is a second, different event 2 of " + signedEvidenceID + ", absent from the bundle: the exhibit's chain forked"},
		{name: "the bundle's checkpoint is another branch, same size", bundle: x.bundle(t, log6), snap: snapshot(x.logLeaves(otherLeaf(2))),
			wantReason: "the log's first 6 leaves do not hash to the bundle's checkpoint of that size: the log forked"},
		{name: "the bundle's checkpoint is another branch, smaller", bundle: x.bundle(t, log6), snap: snapshot(x.logLeaves(otherLeaf(2), otherLeaf(3))),
			wantReason: "the log's first 6 leaves do not hash to the bundle's checkpoint of that size: the log forked"},
		{name: "a leaf changed after the bundle's checkpoint", bundle: x.bundle(t, log6),
			snap:       &LogSnapshot{MediaType: LogSnapshotMediaType, Checkpoint: string(x.checkpoint(t, log8)), Leaves: tampered},
			wantReason: "the log snapshot's leaves do not hash to its checkpoint's root"},
		{name: "a snapshot older than the bundle", bundle: x.bundle(t, log6), snap: snapshot(x.leaves[:3]),
			wantReason: "log snapshot (size 3) is older than the bundle's checkpoint (size 6)"},
		{name: "a leaf missing from the snapshot", bundle: x.bundle(t, log6),
			snap:       &LogSnapshot{MediaType: LogSnapshotMediaType, Checkpoint: string(x.checkpoint(t, log8)), Leaves: log8[:7]},
			wantReason: "log snapshot holds 7 leaves for a checkpoint of size 8"},
		{name: "a snapshot checkpoint not signed by the log key", bundle: x.bundle(t, log6),
			snap:       &LogSnapshot{MediaType: LogSnapshotMediaType, Checkpoint: string(checkpointBy(t, log8, impostor)), Leaves: log8},
			wantReason: "log snapshot checkpoint not signed by the trusted log key: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Verify(tt.bundle, x.tr, VerifyOptions{})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			c, err := CheckCompleteness(r, tt.snap, x.tr)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if *c != tt.want {
					t.Errorf("got %+v, want %+v", *c, tt.want)
				}
				return
			}
			want := ErrVerification.Error() + ": " + tt.wantReason
			if !errors.Is(err, ErrVerification) || !(err.Error() == want || strings.HasSuffix(want, ": ") && strings.HasPrefix(err.Error(), want)) {
				t.Errorf("got %v, want %s (wrapping ErrVerification)", err, want)
			}
		})
	}
	if _, err := CheckCompleteness(&Report{}, snapshot(log6), x.tr); !errors.Is(err, ErrVerification) {
		t.Errorf("a report of no events: got %v, want a verification failure", err)
	}
}
