package custody

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestVerifyChecks proves each check of Verify by a bundle that is correctly signed and
// logged but wrong in the one way that check catches: with that check removed, the
// bundle would verify. Each failure must wrap ErrVerification and name its reason.
func TestVerifyChecks(t *testing.T) {
	d := func(x *signedExhibit, i int) string { return Digest(x.statements[i]) }
	tests := []struct {
		name string
		// edit changes event i before it is signed (see newSignedExhibit).
		edit func(x *signedExhibit, i int, ev *Event)
		// bundle builds the bundle; nil: every event proved in a log of the events and
		// one leaf of another exhibit.
		bundle func(t *testing.T, x *signedExhibit) *Bundle
		// content is given to Verify when not nil.
		content []byte
		// wantEvent is the event the failure names, -1 for none.
		wantEvent int
		// wantReason is the failure after "custody verification failed: "; "" verifies.
		wantReason func(x *signedExhibit) string
	}{
		{name: "valid"},
		{name: "valid, with the content", content: signedContent},
		{
			name: "an event at the same time as the previous one",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if i == 3 {
					ev.Time = signedStart.Add(2 * time.Hour)
				}
			},
		},
		{
			name: "checkpoints of two sizes",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Events[1].Proof = x.proof(t, x.leaves[:3], 1)
				return b
			},
		},

		// checkChain: the chain.
		{
			name: "an event missing",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Events = slices.Delete(b.Events, 2, 3)
				return b
			},
			wantEvent: 2,
			wantReason: func(*signedExhibit) string {
				return "has sequence number 3 at position 2: events are missing or out of order"
			},
		},
		{
			// A validly signed and logged event whose Prev names event 1, as if it had
			// been made before event 2 was inserted: only the Prev check catches it.
			name: "previous digest of an earlier event",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if i == 3 {
					ev.Prev = d(x, 1)
				}
			},
			wantEvent: 3,
			wantReason: func(x *signedExhibit) string {
				return fmt.Sprintf("previous digest %s does not match event 2 (%s): the chain is broken", d(x, 1), d(x, 2))
			},
		},
		{
			name: "an event about another exhibit",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if i == 3 {
					ev.EvidenceID = otherEvidenceID
				}
			},
			wantEvent: 3,
			wantReason: func(*signedExhibit) string {
				return "is about " + otherEvidenceID + " (case CASE-2026-001), not " + signedEvidenceID + " (case CASE-2026-001)"
			},
		},
		{
			name: "an event about another case",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if i == 3 {
					ev.CaseID = "CASE-2026-002"
				}
			},
			wantEvent: 3,
			wantReason: func(*signedExhibit) string {
				return "is about " + signedEvidenceID + " (case CASE-2026-002), not " + signedEvidenceID + " (case CASE-2026-001)"
			},
		},
		{
			name: "an event before the previous one",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if i == 3 {
					ev.Time = signedStart.Add(2*time.Hour - time.Second)
				}
			},
			wantEvent:  3,
			wantReason: func(*signedExhibit) string { return "time 2026-03-01T10:59:59Z precedes event 2" },
		},
		{
			name: "a registration without a valid tag key",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if i == 0 {
					ev.Exhibit.TagKey = "00"
				}
			},
			wantEvent:  0,
			wantReason: func(*signedExhibit) string { return "invalid tag key in event 0" },
		},

		// verifyEntry: the partner's receipt, inside an event the gateway signed.
		{
			name: "a receipt whose signature is over other bytes",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if ev.Receipt != nil {
					ev.Receipt.Statement = []byte("accepted gr-zzzzzzzzzzzzzzzz")
				}
			},
			wantEvent: 2,
			wantReason: func(*signedExhibit) string {
				return "the partner's receipt does not verify: receipt of CN=b.smith,O=fbi-us: signature does not verify"
			},
		},
		{
			name: "a receipt without a certificate",
			edit: func(x *signedExhibit, i int, ev *Event) {
				if ev.Receipt != nil {
					ev.Receipt.Certificate = []byte("not a certificate")
				}
			},
			wantEvent: 2,
			wantReason: func(*signedExhibit) string {
				return "the partner's receipt does not verify: receipt certificate: x509: malformed certificate"
			},
		},

		// The log: two checkpoints of one size with different roots, both signed by
		// the log key, each including the event it proves.
		{
			name: "two roots for one tree size",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Events[3].Proof = x.proof(t, x.logLeaves(otherLeaf(2)), 3)
				return b
			},
			wantEvent:  3,
			wantReason: func(*signedExhibit) string { return "two different log roots for tree size 6: the log forked" },
		},

		// The consistency proofs a bundle carries must end at one of its checkpoints.
		{
			name: "consistency proof to a checkpoint of the bundle",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Consistency = []ConsistencyEntry{{FromSize: 3, ToSize: 6}, {FromSize: 6, ToSize: 6}}
				return b
			},
		},
		{
			name: "consistency proof to another size",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Consistency = []ConsistencyEntry{{FromSize: 3, ToSize: 7}}
				return b
			},
			wantEvent: -1,
			wantReason: func(*signedExhibit) string {
				return "consistency proof from size 3 to 7 does not end at a checkpoint of this bundle"
			},
		},
		{
			name: "consistency proof from size 0",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Consistency = []ConsistencyEntry{{FromSize: 0, ToSize: 6}}
				return b
			},
			wantEvent: -1,
			wantReason: func(*signedExhibit) string {
				return "consistency proof from size 0 to 6 does not end at a checkpoint of this bundle"
			},
		},
		{
			name: "consistency proof from a larger size",
			bundle: func(t *testing.T, x *signedExhibit) *Bundle {
				b := x.bundle(t, x.logLeaves(otherLeaf(1)))
				b.Consistency = []ConsistencyEntry{{FromSize: 7, ToSize: 6}}
				return b
			},
			wantEvent: -1,
			wantReason: func(*signedExhibit) string {
				return "consistency proof from size 7 to 6 does not end at a checkpoint of this bundle"
			},
		},

		// The content.
		{
			name:      "other content",
			content:   []byte("other bytes\n"),
			wantEvent: -1,
			wantReason: func(x *signedExhibit) string {
				return "evidence content has SHA-256 " + Digest([]byte("other bytes\n")) + ", the registered exhibit has " + x.sha256
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newSignedExhibit(t, tt.edit)
			var b *Bundle
			if tt.bundle != nil {
				b = tt.bundle(t, x)
			} else {
				b = x.bundle(t, x.logLeaves(otherLeaf(1)))
			}
			var opts VerifyOptions
			if tt.content != nil {
				opts.Content = bytes.NewReader(tt.content)
			}
			r, err := Verify(b, x.tr, opts)
			if tt.wantReason == nil {
				if err != nil {
					t.Fatalf("Verify: got %v, want no error", err)
				}
				if r.ContentChecked != (tt.content != nil) {
					t.Errorf("ContentChecked: got %v, want %v", r.ContentChecked, tt.content != nil)
				}
				return
			}
			reason := ErrVerification.Error() + ": " + tt.wantReason(x)
			want := reason
			if tt.wantEvent >= 0 {
				want = fmt.Sprintf("event %d: %s", tt.wantEvent, reason)
			}
			if !errors.Is(err, ErrVerification) || err.Error() != want {
				t.Fatalf("Verify:\ngot  %v\nwant %s (wrapping ErrVerification)", err, want)
			}
			if tt.wantEvent < 0 {
				return
			}
			for i, ve := range r.Events[:tt.wantEvent] {
				if !ve.Verified() {
					t.Errorf("event %d failed %q, want only event %d to fail", i, ve.Failure, tt.wantEvent)
				}
			}
			if got := r.Events[tt.wantEvent].Failure; got != reason {
				t.Errorf("event %d: got failure %q, want %q", tt.wantEvent, got, reason)
			}
		})
	}
}

// TestVerifyReport checks what a verified bundle's report says about each event.
func TestVerifyReport(t *testing.T) {
	x := newSignedExhibit(t, nil)
	r, err := Verify(x.bundle(t, x.logLeaves(otherLeaf(1))), x.tr, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.EvidenceID != signedEvidenceID || r.CaseID != signedCaseID || r.SHA256 != x.sha256 || r.Size != int64(len(signedContent)) || r.Origin != testOrigin {
		t.Errorf("got exhibit %s, case %s, SHA-256 %s, size %d, origin %s; want %s, %s, %s, %d, %s",
			r.EvidenceID, r.CaseID, r.SHA256, r.Size, r.Origin, signedEvidenceID, signedCaseID, x.sha256, len(signedContent), testOrigin)
	}
	if len(r.Checkpoints) != 1 || r.Checkpoints[6] == nil {
		t.Errorf("got checkpoints of sizes %v, want one of size 6", slices.Collect(func(yield func(uint64) bool) {
			for s := range r.Checkpoints {
				yield(s)
			}
		}))
	}
	keyID := x.tr.EventKeys[0].KeyID
	for i, ve := range r.Events {
		want := []string{fmt.Sprintf("signed by trusted key %s, valid at %s", keyID[:16], signedStart.Add(time.Duration(i)*time.Hour).Format(time.RFC3339))}
		if i == 2 {
			want = append(want, "carries the partner's receipt, signed with its client certificate key")
		}
		if i == 0 {
			want = append(want, "registers the exhibit: first event of the chain")
		} else {
			want = append(want, fmt.Sprintf("chained to event %d by its digest", i-1))
		}
		if i == 2 {
			want = append(want, "the receipt names this evidence, grant and digest; the trust root lists no agency CA, so the receipt's certificate was not checked")
		}
		want = append(want, fmt.Sprintf("included in log %s at index %d, under a checkpoint of size 6 signed by the log key", testOrigin, i))
		if !slices.Equal(ve.Checks, want) {
			t.Errorf("event %d checks:\ngot  %q\nwant %q", i, ve.Checks, want)
		}
		if ve.Digest != Digest(x.statements[i]) || ve.KeyID != keyID || ve.LogIndex != uint64(i) || ve.TreeSize != 6 {
			t.Errorf("event %d: got digest %s, key %s, index %d, size %d", i, ve.Digest, ve.KeyID, ve.LogIndex, ve.TreeSize)
		}
	}
}

// TestVerifyAfterUnreadableEvent: an event that cannot be read fails, and so does the
// next, which cannot be chained to it; the first failure is the one returned.
func TestVerifyAfterUnreadableEvent(t *testing.T) {
	x := newSignedExhibit(t, nil)
	b := x.bundle(t, x.logLeaves(otherLeaf(1)))
	b.Events[1].Envelope.Payload = "not base64!"
	r, err := Verify(b, x.tr, VerifyOptions{})
	if !errors.Is(err, ErrVerification) || !strings.HasPrefix(err.Error(), "event 1: ") {
		t.Fatalf("Verify: got %v, want a verification failure of event 1", err)
	}
	if want := ErrVerification.Error() + ": cannot be chained: event 1 is unreadable"; r.Events[2].Failure != want {
		t.Errorf("event 2: got failure %q, want %q", r.Events[2].Failure, want)
	}
	if !r.Events[0].Verified() || !r.Events[3].Verified() {
		t.Errorf("events 0 and 3: got failures %q and %q, want them verified", r.Events[0].Failure, r.Events[3].Failure)
	}
}

func TestReceiptVerify(t *testing.T) {
	good := newReceipt(t, []byte("accepted"))
	if err := good.Verify(); err != nil {
		t.Fatalf("a partner's own receipt: got %v, want no error", err)
	}
	forged := *good
	forged.Certificate = newReceipt(t, []byte("accepted")).Certificate // another partner's key
	if err := forged.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a receipt signed with another key: got %v, want ErrBadSignature", err)
	}
}

// TestVerifyEd25519EventKey: events signed with an Ed25519 event key (pure Ed25519 over
// the PAE) verify, and a trust root declaring another algorithm for it is refused.
func TestVerifyEd25519EventKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x := newSignedExhibitBy(t, priv, nil)
	if got := x.tr.EventKeys[0].Algorithm; got != AlgEd25519 {
		t.Errorf("algorithm: got %q, want %q", got, AlgEd25519)
	}
	if _, err := Verify(x.bundle(t, x.logLeaves(otherLeaf(1))), x.tr, VerifyOptions{}); err != nil {
		t.Errorf("Verify: got %v, want no error", err)
	}
}

// TestParseTrustRootEventKeys: an event key must be what its algorithm says, on the
// curve the format allows, under its own key id.
func TestParseTrustRootEventKeys(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	key := func(pub any, alg string) TrustedKey {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := KeyID(pub)
		return TrustedKey{KeyID: id, Algorithm: alg, ValidFrom: signedStart,
			PublicKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	}
	x := newSignedExhibit(t, nil)
	tests := []struct {
		name    string
		key     TrustedKey
		wantErr string // "" = accepted
	}{
		{"P-256, algorithm given", key(&p256.PublicKey, AlgECDSAP256), ""},
		{"P-256, algorithm left out", key(&p256.PublicKey, ""), ""},
		{"Ed25519, algorithm given", key(edPub, AlgEd25519), ""},
		{"Ed25519, algorithm left out", key(edPub, ""), ""},
		{"P-256 declared Ed25519", key(&p256.PublicKey, AlgEd25519), `algorithm "ed25519" does not match an ECDSA P-256 key`},
		{"Ed25519 declared P-256", key(edPub, AlgECDSAP256), `algorithm "ecdsa-p256-sha256" does not match an Ed25519 key`},
		{"P-384", key(&p384.PublicKey, ""), "unsupported curve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := *x.tr
			tr.EventKeys = []TrustedKey{tt.key}
			b, err := tr.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseTrustRoot(b)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}
