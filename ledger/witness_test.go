package ledger_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	tproof "github.com/transparency-dev/formats/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
)

// cosign adds a witness cosignature to every checkpoint of the bundle.
func cosign(t *testing.T, b *custody.Bundle, logKey string, w note.Signer) {
	t.Helper()
	lv, err := note.NewVerifier(logKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Events {
		var p tproof.TLogProof
		if err := p.Unmarshal([]byte(b.Events[i].Proof)); err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(p.Checkpoint, note.VerifierList(lv))
		if err != nil {
			t.Fatal(err)
		}
		if p.Checkpoint, err = note.Sign(n, w); err != nil {
			t.Fatal(err)
		}
		b.Events[i].Proof = string(p.Marshal())
	}
}

func TestWitnessQuorum(t *testing.T) {
	f := newFixture(t)
	b, err := f.led.Bundle(t.Context(), register(t, f))
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	tr := *f.tr
	tr.Witnesses = custody.Witnesses{Quorum: 1, Keys: []string{vkey}}
	raw, _ := tr.Marshal()
	withWitness, err := custody.ParseTrustRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custody.Verify(b, withWitness, custody.VerifyOptions{}); !errors.Is(err, custody.ErrVerification) || !strings.Contains(err.Error(), "witnesses") {
		t.Errorf("uncosigned bundle under a witness quorum: got %v, want a quorum failure", err)
	}
	cosign(t, b, f.tr.Log.VerifierKey, w)
	if _, err := custody.Verify(b, withWitness, custody.VerifyOptions{}); err != nil {
		t.Errorf("cosigned bundle: %v", err)
	}
	if _, err := custody.Verify(b, f.tr, custody.VerifyOptions{}); err != nil {
		t.Errorf("cosigned bundle under a trust root without witnesses: %v", err)
	}
}

func TestRetiredKey(t *testing.T) {
	f := newFixture(t)
	b, err := f.led.Bundle(t.Context(), register(t, f))
	if err != nil {
		t.Fatal(err)
	}
	// The same key, retired before the events were signed: its signatures no longer count.
	tr := *f.tr
	keys := append([]custody.TrustedKey{}, tr.EventKeys...)
	retired := time.Now().Add(-time.Minute)
	keys[0].ValidUntil = &retired
	tr.EventKeys = keys
	raw, _ := tr.Marshal()
	rt, err := custody.ParseTrustRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custody.Verify(b, rt, custody.VerifyOptions{}); !errors.Is(err, custody.ErrVerification) || !strings.Contains(err.Error(), "not valid at") {
		t.Errorf("events signed after the key's retirement: got %v, want a validity failure", err)
	}
	// Retired after the events: they still verify.
	later := time.Now().Add(time.Hour)
	keys[0].ValidUntil = &later
	raw, _ = tr.Marshal()
	if rt, err = custody.ParseTrustRoot(raw); err != nil {
		t.Fatal(err)
	}
	if _, err := custody.Verify(b, rt, custody.VerifyOptions{}); err != nil {
		t.Errorf("events signed inside the key's validity: %v", err)
	}
}
