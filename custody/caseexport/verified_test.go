package caseexport_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/custody/caseexport"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
)

// TestExportOfVerifiedBundle records a chain with the real ledger, signer and log,
// verifies its bundle, and checks that every action of the export names the digest and
// log index that custody.Verify established for its event.
func TestExportOfVerifiedBundle(t *testing.T) {
	const origin = "test.evidencegw.local/custody"
	km, err := keys.OpenLocal(t.TempDir(), origin)
	if err != nil {
		t.Fatal(err)
	}
	tlog := ledgertest.NewMemLog(km.CheckpointSigner())
	tk, err := custody.NewTrustedKey(km.EventPublicKey(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	trJSON, err := (&custody.TrustRoot{EventKeys: []custody.TrustedKey{tk}, Log: custody.TrustedLog{Origin: origin, VerifierKey: km.CheckpointVerifierKey()}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := custody.ParseTrustRoot(trJSON)
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.New(ledger.Config{Records: ledgertest.NewMemRecords(), Log: tlog, Signer: ledger.Signer{SignerVerifier: km.EventSigner(), KeyID: tk.KeyID},
		TrustRoot: func(context.Context) (*custody.TrustRoot, error) { return tr, nil }})
	if err != nil {
		t.Fatal(err)
	}

	const id = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	sum := custody.Digest([]byte("disk image"))
	owner := custody.Party{Agency: "agency-nl", Jurisdiction: "NL", Person: "alice", Role: "investigator"}
	partner := custody.Party{Agency: "agency-de", Jurisdiction: "DE", Person: "dora"}
	grant := custody.Grant{ID: "gr-cccccccccccccccc", To: "agency-de", LegalBasis: "EIO 2026/3", Expires: time.Now().Add(24 * time.Hour).UTC()}
	events := []custody.Event{
		{Action: custody.ActionRegister, Actor: owner,
			Exhibit: &custody.Exhibit{SHA256: sum, Size: 10, TagKey: hex.EncodeToString(make([]byte, 32))},
			Storage: &custody.StorageFacts{Location: "mem://x", CiphertextSHA256: sum, CiphertextSize: 60, KeyRef: "local:kek-v1", Cipher: "age-v1"}},
		{Action: custody.ActionShare, Actor: owner, Counterparty: &custody.Party{Agency: "agency-de", Jurisdiction: "DE"}, LegalBasis: grant.LegalBasis, Grant: &grant},
		{Action: custody.ActionDownload, Actor: partner, Counterparty: &custody.Party{Agency: "agency-nl", Jurisdiction: "NL"}, LegalBasis: grant.LegalBasis, Grant: &grant},
	}
	var chain *ledger.Chain
	for _, ev := range events {
		ev.EvidenceID, ev.CaseID = id, "CASE-1"
		subject, tip := sum, (*ledger.Tip)(nil)
		if chain != nil {
			subject, tip = "", chain.Tip()
		}
		if _, err := led.Append(t.Context(), tip, subject, ev); err != nil {
			t.Fatalf("appending %s: %v", ev.Action, err)
		}
		if chain, err = led.Load(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	b, err := led.Bundle(t.Context(), chain)
	if err != nil {
		t.Fatal(err)
	}
	report, err := custody.Verify(b, tr, custody.VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}

	doc, err := caseexport.FromBundle(b)
	if err != nil {
		t.Fatalf("FromBundle: %v", err)
	}
	out, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatal("output is not valid JSON")
	}
	var actions []caseexport.Node
	for _, n := range doc.Graph {
		if n.Type() == "case-investigation:InvestigativeAction" {
			actions = append(actions, n)
		}
	}
	if len(actions) != len(report.Events) {
		t.Fatalf("got %d actions, want %d", len(actions), len(report.Events))
	}
	for i, ve := range report.Events {
		var ids []string
		for _, r := range actions[i]["uco-core:externalReference"].([]any) {
			ids = append(ids, r.(caseexport.Node)["uco-core:externalIdentifier"].(string))
		}
		want := []string{ve.Digest, strconv.FormatUint(ve.LogIndex, 10)}
		if len(ids) != 2 || ids[0] != want[0] || ids[1] != want[1] {
			t.Errorf("action %d: external identifiers %v, want the verified digest and log index %v", i, ids, want)
		}
	}
}
