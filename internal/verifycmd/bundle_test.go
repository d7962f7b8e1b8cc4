package verifycmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
)

// testOrigin is the log origin of test bundles.
const testOrigin = "example.test/evidencegw-log"

// testExhibit is what a test bundle is about.
type testExhibit struct {
	dir           string
	bundlePath    string
	trustRootPath string
	evidencePath  string
	content       []byte
	bundle        *custody.Bundle
}

// newTestExhibit builds, with fresh keys, a three-event bundle (register, share,
// accept) for a small evidence file, and writes the bundle, the trust root and the
// evidence file to a temporary directory.
func newTestExhibit(t *testing.T) *testExhibit {
	t.Helper()
	eventKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	logSigner, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tk, err := custody.NewTrustedKey(&eventKey.PublicKey, start.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tr := &custody.TrustRoot{EventKeys: []custody.TrustedKey{tk}, Log: custody.TrustedLog{Origin: testOrigin, VerifierKey: vkey}}

	content := []byte("disk image bytes\n")
	sum := sha256.Sum256(content)
	exhibitSHA := hex.EncodeToString(sum[:])
	tagKey := make([]byte, 32)
	rand.Read(tagKey)
	const id = "ev-abcdefghijklmnopqrstuvwxyz"
	fr := custody.Party{Agency: "police-fr", Jurisdiction: "FR", Person: "alice", Role: "investigator"}
	us := custody.Party{Agency: "agency-us", Jurisdiction: "US", Person: "bob", Role: "investigator"}
	grant := &custody.Grant{ID: "gr-abcdefghijklmnop", To: "agency-us", LegalBasis: "MLAT 2026/17", Expires: start.Add(30 * 24 * time.Hour)}
	events := []custody.Event{
		{Action: custody.ActionRegister, Actor: fr,
			Exhibit: &custody.Exhibit{SHA256: exhibitSHA, Size: int64(len(content)), TagKey: hex.EncodeToString(tagKey)},
			Storage: &custody.StorageFacts{Location: "objects/x", CiphertextSHA256: exhibitSHA, KeyRef: "k", Cipher: "AES-256-GCM"}},
		{Action: custody.ActionShare, Actor: fr, Counterparty: &us, LegalBasis: grant.LegalBasis, Grant: grant},
		{Action: custody.ActionAccept, Actor: us, Grant: grant},
	}
	var statements [][]byte
	var leafHashes [][]byte
	b := &custody.Bundle{MediaType: custody.BundleMediaType}
	prev := ""
	for i, ev := range events {
		ev.EvidenceID, ev.CaseID, ev.Seq, ev.Prev = id, "CASE-2026-001", uint64(i), prev
		ev.Time = start.Add(time.Duration(i) * time.Hour)
		st, err := custody.NewStatement(exhibitSHA, ev).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		prev = custody.Digest(st)
		statements = append(statements, st)
		leafHashes = append(leafHashes, rfc6962.DefaultHasher.HashLeaf(custody.Leaf(st, tagKey, id, uint64(i))))
		b.Events = append(b.Events, custody.BundleEntry{Envelope: signEnvelope(t, eventKey, tk.KeyID, st)})
	}
	cp := signCheckpoint(t, logSigner, leafHashes)
	for i := range b.Events {
		p := tproof.TLogProof{Index: uint64(i), Checkpoint: cp}
		for _, h := range inclusionPath(i, leafHashes) {
			var a [sha256.Size]byte
			copy(a[:], h)
			p.Hashes = append(p.Hashes, a)
		}
		b.Events[i].Proof = string(p.Marshal())
	}

	dir := t.TempDir()
	x := &testExhibit{dir: dir, content: content, bundle: b,
		bundlePath:    filepath.Join(dir, "bundle.json"),
		trustRootPath: filepath.Join(dir, "trust-root.json"),
		evidencePath:  filepath.Join(dir, "evidence.bin")}
	x.writeBundle(t, b)
	trJSON, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, x.trustRootPath, trJSON)
	writeFile(t, x.evidencePath, content)
	return x
}

// writeBundle replaces the bundle file with b.
func (x *testExhibit) writeBundle(t *testing.T, b *custody.Bundle) {
	t.Helper()
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, x.bundlePath, data)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signEnvelope signs a statement into a DSSE envelope: ECDSA over SHA-256 of the PAE.
func signEnvelope(t *testing.T, key *ecdsa.PrivateKey, keyID string, statement []byte) custody.Envelope {
	t.Helper()
	h := sha256.Sum256(custody.PAE(custody.PayloadType, statement))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return custody.Envelope{PayloadType: custody.PayloadType,
		Payload:    base64.StdEncoding.EncodeToString(statement),
		Signatures: []custody.Signature{{KeyID: keyID, Sig: base64.StdEncoding.EncodeToString(sig)}}}
}

// signCheckpoint returns the signed checkpoint of the tree of the given leaf hashes.
func signCheckpoint(t *testing.T, s note.Signer, leafHashes [][]byte) []byte {
	t.Helper()
	body := log.Checkpoint{Origin: testOrigin, Size: uint64(len(leafHashes)), Hash: treeHash(leafHashes)}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(body)}, s)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// treeHash is RFC 6962's MTH over leaf hashes.
func treeHash(l [][]byte) []byte {
	if len(l) == 1 {
		return l[0]
	}
	k := split(len(l))
	return rfc6962.DefaultHasher.HashChildren(treeHash(l[:k]), treeHash(l[k:]))
}

// inclusionPath is RFC 6962's PATH(m, D[n]).
func inclusionPath(m int, l [][]byte) [][]byte {
	if len(l) <= 1 {
		return nil
	}
	k := split(len(l))
	if m < k {
		return append(inclusionPath(m, l[:k]), treeHash(l[k:]))
	}
	return append(inclusionPath(m-k, l[k:]), treeHash(l[:k]))
}

// split is the largest power of two smaller than n (n > 1).
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}
