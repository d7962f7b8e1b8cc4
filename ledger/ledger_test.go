package ledger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
)

const origin = "test.evidencegw.local/custody"

type fixture struct {
	tlog    *ledgertest.MemLog
	led     *ledger.Ledger
	tr      *custody.TrustRoot
	records *ledgertest.MemRecords
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	km, err := keys.OpenLocal(t.TempDir(), origin)
	if err != nil {
		t.Fatal(err)
	}
	tlog := ledgertest.NewMemLog(km.CheckpointSigner())
	tk, err := custody.NewTrustedKey(km.EventPublicKey(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tr := &custody.TrustRoot{EventKeys: []custody.TrustedKey{tk}, Log: custody.TrustedLog{Origin: origin, VerifierKey: km.CheckpointVerifierKey()}}
	b, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = custody.ParseTrustRoot(b); err != nil {
		t.Fatal(err)
	}
	records := ledgertest.NewMemRecords()
	led, err := ledger.New(ledger.Config{Records: records, Log: tlog, Signer: ledger.Signer{SignerVerifier: km.EventSigner(), KeyID: tk.KeyID},
		TrustRoot: func(context.Context) (*custody.TrustRoot, error) { return tr, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{tlog: tlog, led: led, tr: tr, records: records}
}

const evID = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"

var content = []byte("disk image bytes")

func register(t *testing.T, f fixture) *ledger.Chain {
	t.Helper()
	tagKey := make([]byte, 32)
	rand.Read(tagKey)
	sum := custody.Digest(content)
	actor := custody.Party{Agency: "agency-nl", Jurisdiction: "NL", Person: "alice", Role: "investigator"}
	_, err := f.led.Append(t.Context(), nil, sum, custody.Event{EvidenceID: evID, CaseID: "CASE-1", Action: custody.ActionRegister,
		Actor: actor, Exhibit: &custody.Exhibit{SHA256: sum, Size: int64(len(content)), TagKey: hex.EncodeToString(tagKey)},
		Storage: &custody.StorageFacts{Location: "mem://x", CiphertextSHA256: sum, KeyRef: "local:kek-v1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []custody.Action{custody.ActionShare, custody.ActionAccept, custody.ActionDownload} {
		chain, err := f.led.Load(t.Context(), evID)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := f.led.Append(t.Context(), chain.Tip(), "", custody.Event{EvidenceID: evID, CaseID: "CASE-1", Action: a, Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Proof == "" || !strings.HasPrefix(rec.Proof, "c2sp.org/tlog-proof@v1\n") {
			t.Fatalf("append of %s: got proof %q, want a C2SP tlog-proof", a, rec.Proof)
		}
	}
	chain, err := f.led.Load(t.Context(), evID)
	if err != nil {
		t.Fatal(err)
	}
	return chain
}

func TestBundleVerifies(t *testing.T) {
	f := newFixture(t)
	chain := register(t, f)
	if got, want := len(chain.Records), 4; got != want {
		t.Fatalf("got %d records, want %d", got, want)
	}
	b, err := f.led.Bundle(t.Context(), chain)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := custody.ParseBundle(enc)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := custody.Verify(parsed, f.tr, custody.VerifyOptions{Content: bytes.NewReader(content)})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.ContentChecked || len(rep.Events) != 4 || rep.EvidenceID != evID {
		t.Errorf("got report %+v, want 4 events of %s with content checked", rep, evID)
	}
	if _, err := custody.Verify(parsed, f.tr, custody.VerifyOptions{Content: strings.NewReader("other bytes")}); !errors.Is(err, custody.ErrVerification) {
		t.Errorf("Verify with other content: got %v, want ErrVerification", err)
	}
}

func TestConflictingAppend(t *testing.T) {
	f := newFixture(t)
	chain := register(t, f)
	ev := custody.Event{EvidenceID: evID, CaseID: "CASE-1", Action: custody.ActionBundleExport, Actor: custody.Party{Agency: "agency-nl", Jurisdiction: "NL"}}
	if _, err := f.led.Append(t.Context(), chain.Tip(), "", ev); err != nil {
		t.Fatal(err)
	}
	// A second writer working from the same, now stale, chain must not fork it.
	if _, err := f.led.Append(t.Context(), chain.Tip(), "", ev); !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("append on a stale chain: got %v, want ErrConflict", err)
	}
}

func TestTamperedBundlesFail(t *testing.T) {
	f := newFixture(t)
	b, err := f.led.Bundle(t.Context(), register(t, f))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(b *custody.Bundle)
		want   string
	}{
		{"removed event", func(b *custody.Bundle) { b.Events = append(b.Events[:1], b.Events[2:]...) }, "missing or out of order"},
		{"reordered events", func(b *custody.Bundle) { b.Events[1], b.Events[2] = b.Events[2], b.Events[1] }, "missing or out of order"},
		{"edited event", func(b *custody.Bundle) {
			p, _ := b.Events[2].Envelope.PayloadBytes()
			p = bytes.Replace(p, []byte("agency-nl"), []byte("agency-xx"), 1)
			b.Events[2].Envelope.Payload = encodeB64(p)
		}, "no trusted signature"},
		{"swapped proof", func(b *custody.Bundle) { b.Events[1].Proof = b.Events[2].Proof }, "not included"},
		{"truncated bundle", func(b *custody.Bundle) { b.Events = b.Events[1:] }, "missing or out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, _ := b.Marshal()
			c, err := custody.ParseBundle(enc)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(c)
			_, err = custody.Verify(c, f.tr, custody.VerifyOptions{})
			if !errors.Is(err, custody.ErrVerification) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrVerification mentioning %q", err, tt.want)
			}
		})
	}
}
