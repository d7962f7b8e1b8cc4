package custody

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

func TestParseWitnessPolicy(t *testing.T) {
	w1, w2, w3 := newWitness(t, "w1"), newWitness(t, "w2"), newWitness(t, "w3")
	tests := []struct {
		name, policy string
		wantErr      string // "" = accepted
		wantMin      int
	}{
		{"flat 2 of 3", fmt.Sprintf("witness a %s http://127.0.0.1:1\nwitness b %s\nwitness c %s https://w.example/\ngroup g 2 a b c\nquorum g\n", w1.cosigKey, w2.cosigKey, w3.cosigKey), "", 2},
		{"single witness as quorum, comments, log line", fmt.Sprintf("# court of NL\nlog %s\nwitness a %s # ours\nquorum a\n", w1.vkey, w1.vkey), "", 1},
		{"nested groups", fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup eu any a b\ngroup all-of all eu c\nquorum all-of\n", w1.cosigKey, w2.cosigKey, w3.cosigKey), "", 2},
		{"quorum none", "quorum none\n", "", 0},

		{"no quorum", fmt.Sprintf("witness a %s\n", w1.cosigKey), "no quorum line", 0},
		{"two quorums", fmt.Sprintf("witness a %s\nquorum a\nquorum a\n", w1.cosigKey), "line 3: want one line", 0},
		{"unknown keyword", "witnesses a b\nquorum none\n", `line 1: unknown keyword "witnesses"`, 0},
		{"quorum undefined", "quorum g\n", `quorum "g" is not a witness or group`, 0},
		{"member undefined", fmt.Sprintf("witness a %s\ngroup g 1 a b\nquorum g\n", w1.cosigKey), `member "b" is undefined`, 0},
		{"member repeated", fmt.Sprintf("witness a %s\ngroup g 2 a a\nquorum g\n", w1.cosigKey), `member "a" is undefined or repeated`, 0},
		{"threshold above members", fmt.Sprintf("witness a %s\ngroup g 2 a\nquorum g\n", w1.cosigKey), `threshold "2" is not 1 to 1`, 0},
		{"threshold zero", fmt.Sprintf("witness a %s\ngroup g 0 a\nquorum g\n", w1.cosigKey), `threshold "0"`, 0},
		{"name is a keyword", fmt.Sprintf("witness all %s\nquorum none\n", w1.cosigKey), `name "all" is a keyword`, 0},
		{"name twice", fmt.Sprintf("witness a %s\nwitness a %s\nquorum none\n", w1.cosigKey, w2.cosigKey), `name "a" defined twice`, 0},
		{"one key twice", fmt.Sprintf("witness a %s\nwitness b %s\ngroup g 2 a b\nquorum g\n", w1.cosigKey, w1.vkey), "witnesses a and b have the same key", 0},
		{"bad key", "witness a example.com/w+01234567+AAAA\nquorum a\n", "malformed witness verifier key", 0},
		{"key hash wrong", fmt.Sprintf("witness a %s\nquorum a\n", withHash(w1.cosigKey, "00000000")), "key hash 00000000 does not match the key", 0},
		{"note key hash wrong", fmt.Sprintf("witness a %s\nquorum a\n", withHash(w1.vkey, "00000000")), "malformed witness verifier key", 0},
		{"URL not http", fmt.Sprintf("witness a %s ftp://x\nquorum a\n", w1.cosigKey), "is not an http(s) URL", 0},
		{"too large", strings.Repeat("#", MaxWitnessPolicySize+1), "exceeds", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseWitnessPolicy([]byte(tt.policy))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if got := p.minWitnesses(); got != tt.wantMin {
				t.Errorf("least witnesses: got %d, want %d", got, tt.wantMin)
			}
		})
	}
}

// TestWitnessPolicySatisfied checks the quorum of nested groups over real cosignatures.
func TestWitnessPolicySatisfied(t *testing.T) {
	w1, w2, w3 := newWitness(t, "w1"), newWitness(t, "w2"), newWitness(t, "w3")
	logKey := newNoteKey(t, "log", testOrigin)
	// (w1 or w2) and w3
	p, err := ParseWitnessPolicy([]byte(fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup eu any a b\ngroup q all eu c\nquorum q\n", w1.cosigKey, w2.cosigKey, w3.cosigKey)))
	if err != nil {
		t.Fatal(err)
	}
	body := string(log.Checkpoint{Origin: testOrigin, Size: 3, Hash: make([]byte, 32)}.Marshal())
	tests := []struct {
		name    string
		signers []note.Signer
		want    bool
	}{
		{"none", nil, false},
		{"w1 only", []note.Signer{w1.signer}, false},
		{"w1 and w2", []note.Signer{w1.signer, w2.signer}, false},
		{"w3 only", []note.Signer{w3.signer}, false},
		{"w2 and w3", []note.Signer{w2.signer, w3.signer}, true},
		{"all", []note.Signer{w1.signer, w2.signer, w3.signer}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := note.Sign(&note.Note{Text: body}, append([]note.Signer{logKey.signer}, tt.signers...)...)
			if err != nil {
				t.Fatal(err)
			}
			err = p.CheckCheckpoint(cp)
			if got := err == nil; got != tt.want {
				t.Errorf("got %v, want satisfied=%v", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrVerification) {
				t.Errorf("got %v, want an error wrapping ErrVerification", err)
			}
		})
	}
}

// TestWitnessPolicySharedGroups: a group may be a member of several later groups. A
// chain of 60 groups, each of the two before it, has 2^60 paths from its quorum to a
// witness: the policy must still be read and evaluated at once (one visit per member),
// and its least number of witnesses is never more than there are.
func TestWitnessPolicySharedGroups(t *testing.T) {
	w1, w2 := newWitness(t, "w1"), newWitness(t, "w2")
	logKey := newNoteKey(t, "log", testOrigin)
	var b strings.Builder
	fmt.Fprintf(&b, "witness a %s\nwitness b %s\ngroup g0 any a b\ngroup g1 all a b\n", w1.cosigKey, w2.cosigKey)
	for i := 2; i < 60; i++ {
		fmt.Fprintf(&b, "group g%d all g%d g%d\n", i, i-1, i-2)
	}
	b.WriteString("quorum g59\n")
	p, err := ParseWitnessPolicy([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if w := WitnessesFromPolicy(p); w.Quorum != 2 || len(w.Keys) != 2 {
		t.Errorf("got quorum %d of %d keys, want 2 of 2", w.Quorum, len(w.Keys))
	}
	body := string(log.Checkpoint{Origin: testOrigin, Size: 3, Hash: make([]byte, 32)}.Marshal())
	for _, tt := range []struct {
		signers []note.Signer
		want    bool
	}{{[]note.Signer{w1.signer}, false}, {[]note.Signer{w1.signer, w2.signer}, true}} {
		cp, err := note.Sign(&note.Note{Text: body}, append([]note.Signer{logKey.signer}, tt.signers...)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.CheckCheckpoint(cp); (err == nil) != tt.want {
			t.Errorf("%d cosignatures: got %v, want satisfied=%v", len(tt.signers), err, tt.want)
		}
	}
}

// TestVerifyCourtWitnessPolicy: a court's own policy is checked on every checkpoint,
// whatever the trust root requires.
func TestVerifyCourtWitnessPolicy(t *testing.T) {
	x := newSignedExhibit(t, nil)
	w1, w2, w3, stranger := newWitness(t, "w1"), newWitness(t, "w2"), newWitness(t, "w3"), newWitness(t, "stranger")
	leaves := x.logLeaves(otherLeaf(1))
	body := string(log.Checkpoint{Origin: testOrigin, Size: uint64(len(leaves)), Hash: treeHash(leafHashes(leaves))}.Marshal())
	cp, err := note.Sign(&note.Note{Text: body}, x.logKey.signer, w1.signer, w2.signer)
	if err != nil {
		t.Fatal(err)
	}
	b := x.bundle(t, leaves)
	for i := range b.Events {
		b.Events[i].Proof = proofUnder(leaves, i, cp)
	}
	policy := func(text string) *WitnessPolicy {
		t.Helper()
		p, err := ParseWitnessPolicy([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		tr      *TrustRoot
		policy  *WitnessPolicy
		wantErr string
	}{
		{"no court policy", x.tr, nil, ""},
		{"2 of 3, cosigned by 2", x.tr, policy(fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup g 2 a b c\nquorum g\n", w1.cosigKey, w2.cosigKey, w3.cosigKey)), ""},
		{"quorum none", x.tr, policy("quorum none\n"), ""},
		{"all 3, cosigned by 2", x.tr, policy(fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup g all a b c\nquorum g\n", w1.cosigKey, w2.cosigKey, w3.cosigKey)),
			"do not meet the witness policy"},
		{"a key no witness holds", x.tr, policy(fmt.Sprintf("witness s %s\nquorum s\n", stranger.cosigKey)),
			"carries no cosignature of a witness of the policy"},
		{"trust root satisfied, court policy not", withWitnesses(t, x, 2, w1.cosigKey, w2.cosigKey), policy(fmt.Sprintf("witness c %s\nquorum c\n", w3.cosigKey)),
			"carries no cosignature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(b, tt.tr, VerifyOptions{WitnessPolicy: tt.policy})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if !errors.Is(err, ErrVerification) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want a verification failure mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestTrustRootWitnessPolicy: a trust root may carry the gateway's policy; its keys and
// quorum must describe it, and its checkpoints must satisfy it.
func TestTrustRootWitnessPolicy(t *testing.T) {
	x := newSignedExhibit(t, nil)
	w1, w2, w3 := newWitness(t, "w1"), newWitness(t, "w2"), newWitness(t, "w3")
	p, err := ParseWitnessPolicy([]byte(fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup eu any a b\ngroup q all eu c\nquorum q\n", w1.cosigKey, w2.cosigKey, w3.cosigKey)))
	if err != nil {
		t.Fatal(err)
	}
	load := func(w Witnesses) (*TrustRoot, error) {
		tr := *x.tr
		tr.Witnesses = w
		raw, err := tr.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return ParseTrustRoot(raw)
	}
	w := WitnessesFromPolicy(p)
	if w.Quorum != 2 || len(w.Keys) != 3 {
		t.Fatalf("got quorum %d of %d keys, want 2 of 3", w.Quorum, len(w.Keys))
	}
	tr, err := load(w)
	if err != nil {
		t.Fatal(err)
	}
	bad := w
	bad.Quorum = 1
	if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "do not match the witness policy") {
		t.Errorf("quorum that does not describe the policy: got %v", err)
	}
	bad = w
	bad.Keys = bad.Keys[:2]
	if _, err := load(bad); err == nil {
		t.Errorf("keys that do not describe the policy: got no error")
	}
	// Two cosignatures meet the quorum count but not the policy: w1 and w2 are one
	// group of the policy.
	leaves := x.logLeaves()
	body := string(log.Checkpoint{Origin: testOrigin, Size: uint64(len(leaves)), Hash: treeHash(leafHashes(leaves))}.Marshal())
	for _, c := range []struct {
		signers []note.Signer
		ok      bool
	}{{[]note.Signer{w1.signer, w2.signer}, false}, {[]note.Signer{w2.signer, w3.signer}, true}} {
		cp, err := note.Sign(&note.Note{Text: body}, append([]note.Signer{x.logKey.signer}, c.signers...)...)
		if err != nil {
			t.Fatal(err)
		}
		b := x.bundle(t, leaves)
		for i := range b.Events {
			b.Events[i].Proof = proofUnder(leaves, i, cp)
		}
		_, err = Verify(b, tr, VerifyOptions{})
		if (err == nil) != c.ok {
			t.Errorf("cosigned by %d witnesses: got %v, want ok=%v", len(c.signers), err, c.ok)
		}
	}
}

// withHash returns vkey with its key hash replaced.
func withHash(vkey, hash string) string {
	f := strings.SplitN(vkey, "+", 3)
	return f[0] + "+" + hash + "+" + f[2]
}
