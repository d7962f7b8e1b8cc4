package custody

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// chainFixture is a gateway's trust roots v1..v3 and the log that holds their changes.
type chainFixture struct {
	x        *signedExhibit
	versions [][]byte // encoded trust roots, versions[0] = v1
	entries  []TrustRootChainEntry
	leaves   [][]byte // the log: other leaves and the change leaves
	w1       witness
}

// newChainFixture: v1 is the signed exhibit's trust root (unversioned); v2 adds witness
// w1 (quorum 1); v3 rotates the event key (the old one retired, a new one added). Each
// change is signed by an event key of its version and logged; v3's change, logged after
// v2 requires w1, is under a checkpoint w1 cosigned.
func newChainFixture(t *testing.T) *chainFixture {
	t.Helper()
	x := newSignedExhibit(t, nil)
	f := &chainFixture{x: x, w1: newWitness(t, "w1")}
	v1, err := x.tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f.versions = [][]byte{v1}
	f.leaves = x.logLeaves(otherLeaf(1))

	at := signedStart.Add(24 * time.Hour)
	v2 := *x.tr
	v2.Witnesses = Witnesses{Quorum: 1, Keys: []string{f.w1.cosigKey}}
	f.add(t, &v2, at, x.sign, nil)

	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewTrustedKey(&newKey.PublicKey, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v3 := v2
	retired := v3.EventKeys[0]
	until := at.Add(time.Hour)
	retired.ValidUntil = &until
	v3.EventKeys = []TrustedKey{retired, tk}
	signNew := func(t testing.TB, st []byte) Envelope {
		y := *x
		y.eventKey, y.tr = newKey, &TrustRoot{EventKeys: []TrustedKey{tk}}
		return y.sign(t, st)
	}
	f.add(t, &v3, at.Add(2*time.Hour), signNew, []note.Signer{f.w1.signer})
	return f
}

// add makes the next version of tr, signs its change with sign, logs its leaf and
// proves it under a checkpoint cosigned by the cosigners.
func (f *chainFixture) add(t *testing.T, tr *TrustRoot, at time.Time, sign func(testing.TB, []byte) Envelope, cosigners []note.Signer) {
	t.Helper()
	tr.Version = uint64(len(f.versions) + 1)
	tr.Previous = TrustRootDigest(f.versions[len(f.versions)-1])
	b, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewTrustRootChangeStatement(b, tr.Version, tr.Previous, at)
	if err != nil {
		t.Fatal(err)
	}
	f.leaves = append(f.leaves, TrustRootLeaf(st), []byte(otherLeaf(len(f.leaves))))
	cp := []byte(signNote(t, string(f.x.checkpoint(t, f.leaves)[:0])+checkpointText(f.leaves), f.x.logKey))
	if len(cosigners) > 0 {
		n, err := note.Open(cp, note.VerifierList(f.x.logKey.verifier))
		if err != nil {
			t.Fatal(err)
		}
		if cp, err = note.Sign(n, append([]note.Signer{f.x.logKey.signer}, cosigners...)...); err != nil {
			t.Fatal(err)
		}
	}
	f.versions = append(f.versions, b)
	f.entries = append(f.entries, TrustRootChainEntry{TrustRoot: base64.StdEncoding.EncodeToString(b),
		Envelope: sign(t, st), Proof: proofUnder(f.leaves, len(f.leaves)-2, cp)})
}

func checkpointText(leaves [][]byte) string {
	return fmt.Sprintf("%s\n%d\n%s\n", testOrigin, len(leaves), base64.StdEncoding.EncodeToString(treeHash(leafHashes(leaves))))
}

func (f *chainFixture) chain(entries ...TrustRootChainEntry) *TrustRootChain {
	c := &TrustRootChain{Changes: entries}
	b, err := c.Marshal()
	if err != nil {
		panic(err)
	}
	parsed, err := ParseTrustRootChain(b)
	if err != nil {
		panic(err)
	}
	return parsed
}

func TestFollowTrustRootChain(t *testing.T) {
	f := newChainFixture(t)
	for pinned := range f.versions {
		got, gotBytes, err := FollowTrustRootChain(f.versions[pinned], f.chain(f.entries...), nil)
		if err != nil {
			t.Fatalf("pinned v%d: %v", pinned+1, err)
		}
		if got.TrustRootVersion() != 3 || string(gotBytes) != string(f.versions[2]) {
			t.Errorf("pinned v%d: reached v%d, want v3 and its bytes", pinned+1, got.TrustRootVersion())
		}
	}
	// v1 loads as the first release wrote it: no version, no previous.
	if strings.Contains(string(f.versions[0]), `"version"`) {
		t.Errorf("version 1 is encoded with a version field:\n%s", f.versions[0])
	}
}

func TestFollowTrustRootChainRefuses(t *testing.T) {
	f := newChainFixture(t)
	stranger := newWitness(t, "stranger")
	court, err := ParseWitnessPolicy([]byte(fmt.Sprintf("witness s %s\nquorum s\n", stranger.cosigKey)))
	if err != nil {
		t.Fatal(err)
	}
	courtW1, err := ParseWitnessPolicy([]byte(fmt.Sprintf("witness w %s\nquorum w\n", f.w1.cosigKey)))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(i int, change func(e *TrustRootChainEntry)) []TrustRootChainEntry {
		es := append([]TrustRootChainEntry(nil), f.entries...)
		es[i].Envelope.Signatures = append([]Signature(nil), es[i].Envelope.Signatures...)
		change(&es[i])
		return es
	}
	otherBytes := func(i int) func(e *TrustRootChainEntry) {
		return func(e *TrustRootChainEntry) {
			b := strings.Replace(string(f.versions[i+1]), `"quorum": 1`, `"quorum": 0`, 1)
			e.TrustRoot = base64.StdEncoding.EncodeToString([]byte(b))
		}
	}
	tests := []struct {
		name    string
		pinned  int
		entries []TrustRootChainEntry
		policy  *WitnessPolicy
		want    string
	}{
		{"a change left out", 0, f.entries[1:], nil, "version 3 follows version 1: a change is missing"},
		{"another gateway's version 2", 0, newChainFixture(t).entries, nil, "names previous"},
		{"other bytes than signed and logged", 0, edit(0, otherBytes(0)), nil, "not about this trust root's bytes"},
		{"a forged previous", 1, edit(1, func(e *TrustRootChainEntry) { e.Proof = f.entries[0].Proof; e.TrustRoot = f.entries[0].TrustRoot }), nil, ""},
		{"signed by a key the new version lacks", 0, edit(0, func(e *TrustRootChainEntry) {
			e.Envelope.Signatures[0].KeyID = strings.Repeat("0", 64)
		}), nil, "not signed by an event key of the new version"},
		{"not in the log", 0, edit(0, func(e *TrustRootChainEntry) { e.Proof = f.entries[1].Proof }), nil, "is not in the log of version 1"},
		{"v3's change without the cosignature v2 requires", 1, edit(1, func(e *TrustRootChainEntry) {
			head, rest, _ := strings.Cut(e.Proof, "\n\n")
			text, _, _ := strings.Cut(rest, "\n\n")
			e.Proof = head + "\n\n" + text + "\n\n" + strings.SplitAfter(signNote(t, text+"\n", f.x.logKey), "\n\n")[1]
		}), nil, "cosigned by 0 trusted witnesses"},
		{"the court's own witness policy", 0, f.entries, court, "no cosignature of a witness of the policy"},
		{"the court's policy met where the log was cosigned only", 1, f.entries, courtW1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := FollowTrustRootChain(f.versions[tt.pinned], f.chain(tt.entries...), tt.policy)
			if tt.want == "" {
				if tt.name == "a forged previous" {
					// Both entries are v2: the second is skipped, v2 is reached.
					if err != nil || got.TrustRootVersion() != 2 {
						t.Fatalf("got v%d, %v; want v2", got.TrustRootVersion(), err)
					}
					return
				}
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if !errors.Is(err, ErrVerification) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a verification failure mentioning %q", err, tt.want)
			}
			if got.TrustRootVersion() > uint64(tt.pinned+1) && tt.name != "v3's change without the cosignature v2 requires" {
				t.Errorf("reached v%d past a refused change", got.TrustRootVersion())
			}
		})
	}
}

func TestParseTrustRootVersion(t *testing.T) {
	x := newSignedExhibit(t, nil)
	for _, c := range []struct {
		version  uint64
		previous string
		ok       bool
	}{
		{0, "", true}, {1, "", true}, {2, strings.Repeat("ab", 32), true},
		{2, "", false}, {3, "xyz", false}, {1, strings.Repeat("ab", 32), false},
	} {
		tr := *x.tr
		tr.Version, tr.Previous = c.version, c.previous
		b, _ := tr.Marshal()
		if _, err := ParseTrustRoot(b); (err == nil) != c.ok {
			t.Errorf("version %d previous %q: got %v, want ok=%v", c.version, c.previous, err, c.ok)
		}
	}
}
