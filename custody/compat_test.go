package custody_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
)

// The bundles in testdata/bundles-v1 were written by the first release of the gateway
// (see its README). Courts keep such files for years: every release must keep
// verifying them, complete, and must keep rejecting them when any byte of an event, a
// proof or a checkpoint is changed.

func readV1(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bundles-v1", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func v1TrustRoot(t *testing.T) *custody.TrustRoot {
	t.Helper()
	tr, err := custody.ParseTrustRoot(readV1(t, "trust-root.json"))
	if err != nil {
		t.Fatalf("the first release's trust root no longer parses: %v", err)
	}
	return tr
}

func TestFirstReleaseBundleVerifies(t *testing.T) {
	tr := v1TrustRoot(t)
	b, err := custody.ParseBundle(readV1(t, "bundle.json"))
	if err != nil {
		t.Fatalf("the first release's bundle no longer parses: %v", err)
	}
	r, err := custody.Verify(b, tr, custody.VerifyOptions{Content: bytes.NewReader(readV1(t, "evidence.txt"))})
	if err != nil {
		t.Fatalf("the first release's bundle no longer verifies: %v", err)
	}
	if !r.ContentChecked || len(r.Events) != 9 {
		t.Fatalf("got %d events, content checked %v; want 9 events and the content checked", len(r.Events), r.ContentChecked)
	}
	snap, err := custody.ParseLogSnapshot(readV1(t, "log-snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := custody.CheckCompleteness(r, snap, tr)
	if err != nil {
		t.Fatalf("the first release's bundle is no longer complete against its log snapshot: %v", err)
	}
	if c.LaterEvents != 0 {
		t.Errorf("completeness found %d later events, want 0", c.LaterEvents)
	}
}

// mutation changes one byte of one part of a bundle.
type mutation struct {
	name  string
	apply func(b *custody.Bundle, i, k int) bool // false if position k does not exist
}

// flipBase64 decodes s, flips bit 0 of byte k and encodes it again.
func flipBase64(s string, k int) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || k >= len(raw) {
		return s, false
	}
	raw[k] ^= 1
	return base64.StdEncoding.EncodeToString(raw), true
}

// flipText changes byte k of s to another printable byte.
func flipText(s string, k int) (string, bool) {
	if k >= len(s) || s[k] == '\n' {
		return s, false
	}
	b := []byte(s)
	if b[k] == 'A' {
		b[k] = 'B'
	} else {
		b[k] = 'A'
	}
	return string(b), true
}

var mutations = []mutation{
	{"payload", func(b *custody.Bundle, i, k int) (ok bool) {
		b.Events[i].Envelope.Payload, ok = flipBase64(b.Events[i].Envelope.Payload, k)
		return ok
	}},
	{"signature", func(b *custody.Bundle, i, k int) (ok bool) {
		b.Events[i].Envelope.Signatures[0].Sig, ok = flipBase64(b.Events[i].Envelope.Signatures[0].Sig, k)
		return ok
	}},
	{"proof", func(b *custody.Bundle, i, k int) (ok bool) {
		body, _, _ := strings.Cut(b.Events[i].Proof, "\n\n")
		if k >= len(body) {
			return false
		}
		b.Events[i].Proof, ok = flipText(b.Events[i].Proof, k)
		return ok
	}},
	{"checkpoint", func(b *custody.Bundle, i, k int) (ok bool) {
		head, cp, found := strings.Cut(b.Events[i].Proof, "\n\n")
		if !found {
			return false
		}
		cp, ok = flipText(cp, k)
		b.Events[i].Proof = head + "\n\n" + cp
		return ok
	}},
}

// TestFirstReleaseBundleTampered changes, one at a time, bytes spread over every part of
// every event of the first release's bundle: each change must fail verification.
func TestFirstReleaseBundleTampered(t *testing.T) {
	tr := v1TrustRoot(t)
	raw := readV1(t, "bundle.json")
	orig, err := custody.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for i := range orig.Events {
		for _, m := range mutations {
			for _, k := range []int{0, 1, 7, 20, 33, 64, 100, 150, 222, 300, 401, 555} {
				b, _ := custody.ParseBundle(raw)
				if !m.apply(b, i, k) {
					continue
				}
				tried++
				if _, err := custody.Verify(b, tr, custody.VerifyOptions{}); !errors.Is(err, custody.ErrVerification) {
					t.Errorf("event %d, %s byte %d changed: Verify = %v, want a verification failure", i, m.name, k, err)
				}
			}
		}
	}
	if tried < 200 {
		t.Fatalf("only %d mutations applied", tried)
	}
	t.Logf("%d one-byte changes, all rejected", tried)
}

// TestFirstReleaseEvidenceAndSnapshotTampered: other content, or a changed leaf of the
// log snapshot, fails.
func TestFirstReleaseEvidenceAndSnapshotTampered(t *testing.T) {
	tr := v1TrustRoot(t)
	b, _ := custody.ParseBundle(readV1(t, "bundle.json"))
	content := readV1(t, "evidence.txt")
	content[len(content)/2] ^= 1
	if _, err := custody.Verify(b, tr, custody.VerifyOptions{Content: bytes.NewReader(content)}); !errors.Is(err, custody.ErrVerification) {
		t.Errorf("Verify with changed evidence = %v, want a verification failure", err)
	}
	r, err := custody.Verify(b, tr, custody.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		snap, _ := custody.ParseLogSnapshot(readV1(t, "log-snapshot.json"))
		snap.Leaves[i][len(snap.Leaves[i])-3] ^= 1
		if _, err := custody.CheckCompleteness(r, snap, tr); err == nil {
			t.Errorf("leaf %d of the snapshot changed: completeness passed", i)
		}
	}
}
