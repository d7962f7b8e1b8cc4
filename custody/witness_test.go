package custody

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// witness is a C2SP tlog-cosignature witness: its cosignature/v1 signer and its verifier
// key in both encodings a trust root accepts.
type witness struct {
	signer note.Signer
	// vkey is the Ed25519 note key (0x01); cosigKey the cosignature/v1 key (0x04).
	vkey, cosigKey string
}

func newWitness(t *testing.T, name string) witness {
	t.Helper()
	skey, vkey, err := note.GenerateKey(fixedRand(name), "witness.example/"+name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	cosigKey, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return witness{signer: s, vkey: vkey, cosigKey: cosigKey}
}

// withWitnesses returns x's trust root with a witness quorum over the keys.
func withWitnesses(t *testing.T, x *signedExhibit, quorum int, keys ...string) *TrustRoot {
	t.Helper()
	tr := *x.tr
	tr.Witnesses = Witnesses{Quorum: quorum, Keys: keys}
	b, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseTrustRoot(b)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// TestVerifyWitnessQuorum: with a quorum q, every checkpoint must carry verifying
// cosignatures of q distinct witnesses of the trust root.
func TestVerifyWitnessQuorum(t *testing.T) {
	x := newSignedExhibit(t, nil)
	w1, w2, w3 := newWitness(t, "w1"), newWitness(t, "w2"), newWitness(t, "w3")
	leaves := x.logLeaves(otherLeaf(1))
	body := string(log.Checkpoint{Origin: testOrigin, Size: uint64(len(leaves)), Hash: treeHash(leafHashes(leaves))}.Marshal())
	// cosigned returns the bundle under one checkpoint signed by the log key and then
	// by the signers, in order.
	cosigned := func(signers ...note.Signer) *Bundle {
		cp, err := note.Sign(&note.Note{Text: body}, append([]note.Signer{x.logKey.signer}, signers...)...)
		if err != nil {
			t.Fatal(err)
		}
		b := x.bundle(t, leaves)
		for i := range b.Events {
			b.Events[i].Proof = proofUnder(leaves, i, cp)
		}
		return b
	}
	// A cosignature that does not verify: w1's signature line with one bit changed.
	badW1 := func() *Bundle {
		b := cosigned(w1.signer)
		for i := range b.Events {
			head, cp, _ := strings.Cut(b.Events[i].Proof, "\n\n")
			text, sigs, _ := strings.Cut(cp, "\n\n")
			lines := strings.SplitAfter(sigs, "\n")
			lines[1] = editSig(t, lines[1], func(s []byte) []byte { s[len(s)-1] ^= 1; return s })
			b.Events[i].Proof = head + "\n\n" + text + "\n\n" + strings.Join(lines, "")
		}
		return b
	}

	tests := []struct {
		name   string
		quorum int
		keys   []string
		bundle *Bundle
		// wantReason is event 0's failure after "custody verification failed: ", or its
		// start when it ends in ": "; "" verifies.
		wantReason string
	}{
		{"no quorum, no cosignature", 0, nil, cosigned(), ""},
		{"no quorum, cosigned", 0, []string{w1.cosigKey}, cosigned(w1.signer), ""},
		{"quorum 1, cosigned", 1, []string{w1.cosigKey}, cosigned(w1.signer), ""},
		{"quorum 1, witness listed by its note key", 1, []string{w1.vkey}, cosigned(w1.signer), ""},
		{"quorum 2 of 3", 2, []string{w1.cosigKey, w2.cosigKey, w3.cosigKey}, cosigned(w3.signer, w1.signer), ""},

		{"quorum 1, no cosignature", 1, []string{w1.cosigKey}, cosigned(),
			"checkpoint of size 6 is cosigned by 0 trusted witnesses, the trust root requires 1"},
		{"quorum 1, cosigned by a witness not listed", 1, []string{w1.cosigKey}, cosigned(w2.signer),
			"checkpoint of size 6 is cosigned by 0 trusted witnesses, the trust root requires 1"},
		{"quorum 2, one witness twice", 2, []string{w1.cosigKey, w2.cosigKey}, cosigned(w1.signer, w1.signer),
			"checkpoint of size 6 is cosigned by 1 trusted witnesses, the trust root requires 2"},
		{"quorum 1, a cosignature that does not verify", 1, []string{w1.cosigKey}, badW1(),
			fmt.Sprintf("checkpoint not signed by the trusted log key: failed to verify signatures on checkpoint: invalid signature for key witness.example/w1+%08x", w1.signer.KeyHash())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.bundle, withWitnesses(t, x, tt.quorum, tt.keys...), VerifyOptions{})
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if want := "event 0: " + ErrVerification.Error() + ": " + tt.wantReason; !errors.Is(err, ErrVerification) || err.Error() != want {
				t.Errorf("got %v\nwant %s (wrapping ErrVerification)", err, want)
			}
		})
	}
}

func TestParseTrustRootWitnesses(t *testing.T) {
	x := newSignedExhibit(t, nil)
	w := newWitness(t, "w1")
	name, rest, _ := strings.Cut(w.cosigKey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	tests := []struct {
		name    string
		quorum  int
		keys    []string
		wantErr string // "" = accepted
	}{
		{"cosignature/v1 key", 1, []string{w.cosigKey}, ""},
		{"Ed25519 note key", 1, []string{w.vkey}, ""},
		{"quorum above the keys", 2, []string{w.cosigKey}, "trust root: witness quorum 2 with 1 keys"},
		{"negative quorum", -1, nil, "trust root: witness quorum -1 with 0 keys"},
		{"no name", 0, []string{"+" + hash + "+" + key64}, "malformed witness verifier key"},
		{"key hash of 7 digits", 0, []string{name + "+" + hash[1:] + "+" + key64}, "malformed witness verifier key"},
		{"key hash not hex", 0, []string{name + "+zzzzzzzz+" + key64}, "malformed witness verifier key"},
		{"key not base64", 0, []string{name + "+" + hash + "+!" + key64[1:]}, "malformed witness verifier key"},
		{"key of 32 bytes", 0, []string{verifierKey(name, make([]byte, 32))}, "malformed witness verifier key"},
		{"unknown algorithm", 0, []string{verifierKey(name, append([]byte{0x02}, make([]byte, 32)...))}, "malformed witness verifier key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := *x.tr
			tr.Witnesses = Witnesses{Quorum: tt.quorum, Keys: tt.keys}
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
