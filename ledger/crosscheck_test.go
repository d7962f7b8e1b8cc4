package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
)

func TestCrossCheckWithCarriedProofs(t *testing.T) {
	f := newFixture(t)
	chain := register(t, f)
	older, err := f.led.Bundle(t.Context(), chain)
	if err != nil {
		t.Fatal(err)
	}
	r1 := verifyBundle(t, f, older)
	var s1 uint64
	for s := range r1.Checkpoints {
		s1 = s
	}
	if _, err := f.led.Append(t.Context(), chain.Tip(), "", custody.Event{EvidenceID: evID, CaseID: "CASE-1",
		Action: custody.ActionBundleExport, Actor: custody.Party{Agency: "agency-nl", Jurisdiction: "NL"}}); err != nil {
		t.Fatal(err)
	}
	chain, _ = f.led.Load(t.Context(), evID)

	plain, err := f.led.Bundle(t.Context(), chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, unjoined, err := custody.CrossCheck([]*custody.Report{r1, verifyBundle(t, f, plain)}); err != nil || len(unjoined) != 1 || unjoined[0] != s1 {
		t.Errorf("without a carried proof: got unjoined %v, err %v; want [%d]", unjoined, err, s1)
	}

	joined, err := f.led.Bundle(t.Context(), chain, s1)
	if err != nil {
		t.Fatal(err)
	}
	r2 := verifyBundle(t, f, joined)
	if sizes, unjoined, err := custody.CrossCheck([]*custody.Report{r1, r2}); err != nil || len(unjoined) != 0 || len(sizes) != 2 {
		t.Errorf("with a carried proof: got sizes %v, unjoined %v, err %v; want two joined sizes", sizes, unjoined, err)
	}

	// A proof that does not hold is a security error with both checkpoints.
	bad := *joined
	bad.Consistency = []custody.ConsistencyEntry{joined.Consistency[0]}
	bad.Consistency[0].Hashes = append([][]byte{}, joined.Consistency[0].Hashes...)
	bad.Consistency[0].Hashes[0] = make([]byte, 32)
	_, _, err = custody.CrossCheck([]*custody.Report{r1, verifyBundle(t, f, &bad)})
	var incons *custody.InconsistencyError
	if !errors.As(err, &incons) || incons.Older == "" || incons.Newer == "" || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("forged consistency proof: got %v, want an InconsistencyError with both checkpoints", err)
	}
}
