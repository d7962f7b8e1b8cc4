package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
)

func snapshot(t *testing.T, f fixture) *custody.LogSnapshot {
	t.Helper()
	cp, err := f.tlog.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := f.tlog.Leaves(t.Context(), 0, cp.Size, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	return &custody.LogSnapshot{MediaType: custody.LogSnapshotMediaType, Checkpoint: string(cp.Note), Leaves: leaves}
}

func verifyBundle(t *testing.T, f fixture, b *custody.Bundle) *custody.Report {
	t.Helper()
	enc, _ := b.Marshal()
	parsed, err := custody.ParseBundle(enc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := custody.Verify(parsed, f.tr, custody.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompleteness(t *testing.T) {
	f := newFixture(t)
	chain := register(t, f)
	early, err := f.led.Bundle(t.Context(), chain)
	if err != nil {
		t.Fatal(err)
	}
	// A later event (after the early bundle's checkpoint).
	_, err = f.led.Append(t.Context(), chain.Tip(), "", custody.Event{EvidenceID: evID, CaseID: "CASE-1", Action: custody.ActionDownload,
		Actor: custody.Party{Agency: "agency-us", Jurisdiction: "US"}})
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, f)

	c, err := custody.CheckCompleteness(verifyBundle(t, f, early), snap, f.tr)
	if err != nil {
		t.Fatalf("complete early bundle: %v", err)
	}
	if c.LaterEvents != 1 {
		t.Errorf("got %d later events, want 1", c.LaterEvents)
	}

	// A bundle made after the download, with the download left out, must fail.
	chain, err = f.led.Load(t.Context(), evID)
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.led.Bundle(t.Context(), chain)
	if err != nil {
		t.Fatal(err)
	}
	full.Events = full.Events[:len(full.Events)-1]
	_, err = custody.CheckCompleteness(verifyBundle(t, f, full), snap, f.tr)
	if !errors.Is(err, custody.ErrVerification) || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("bundle omitting an event: got %v, want an incompleteness error", err)
	}

	// A snapshot whose leaves were altered is not the log.
	bad := *snap
	bad.Leaves = append([][]byte{}, snap.Leaves...)
	bad.Leaves[0] = []byte("forged")
	if _, err := custody.CheckCompleteness(verifyBundle(t, f, early), &bad, f.tr); !errors.Is(err, custody.ErrVerification) {
		t.Errorf("altered snapshot: got %v, want ErrVerification", err)
	}
}
