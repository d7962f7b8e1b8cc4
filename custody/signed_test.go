package custody

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Signed test exhibits: events signed by a fresh event key into DSSE envelopes, logged
// as custody leaves in RFC 6962 trees whose checkpoints a fixed log key signs, and a
// trust root that pins both keys. Each test of a verifier check builds a bundle that is
// correct in every way but the one that check is there to catch.

const (
	signedEvidenceID = "ev-abcdefghijklmnopqrstuvwxyz"
	otherEvidenceID  = "ev-zyxwvutsrqponmlkjihgfedcba"
	signedCaseID     = "CASE-2026-001"
	signedGrantID    = "gr-abcdefghijklmnop"
)

// signedStart is the time of event 0; event i is logged i hours later.
var signedStart = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// signedContent is the exhibit's evidence.
var signedContent = []byte("disk image bytes\n")

type signedExhibit struct {
	tr       *TrustRoot
	eventKey crypto.Signer // *ecdsa.PrivateKey (P-256) or ed25519.PrivateKey
	logKey   noteKey
	tagKey   []byte
	sha256   string
	// statements are the signed statements, envelopes their envelopes and leaves their
	// log leaves, in event order.
	statements [][]byte
	envelopes  []Envelope
	leaves     [][]byte
}

// newSignedExhibit signs a chain of five events (register, share, accept with a partner
// receipt, download, bundle-export). edit, if not nil, changes each event i after its
// ids, sequence number, previous digest and time are set and before it is signed, with
// x holding the events before it; the next event chains to the edited one.
func newSignedExhibit(t testing.TB, edit func(x *signedExhibit, i int, ev *Event)) *signedExhibit {
	t.Helper()
	eventKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newSignedExhibitBy(t, eventKey, edit)
}

// newSignedExhibitBy is newSignedExhibit with the events signed by eventKey.
func newSignedExhibitBy(t testing.TB, eventKey crypto.Signer, edit func(x *signedExhibit, i int, ev *Event)) *signedExhibit {
	t.Helper()
	tk, err := NewTrustedKey(eventKey.Public(), signedStart.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	x := &signedExhibit{eventKey: eventKey, logKey: newNoteKey(t, "log", testOrigin), tagKey: make([]byte, 32)}
	rand.Read(x.tagKey)
	sum := sha256.Sum256(signedContent)
	x.sha256 = hex.EncodeToString(sum[:])
	trJSON, err := (&TrustRoot{EventKeys: []TrustedKey{tk}, Log: TrustedLog{Origin: testOrigin, VerifierKey: x.logKey.vkey}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if x.tr, err = ParseTrustRoot(trJSON); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, ev := range x.story(t) {
		ev.EvidenceID, ev.CaseID, ev.Seq, ev.Prev = signedEvidenceID, signedCaseID, uint64(i), prev
		ev.Time = signedStart.Add(time.Duration(i) * time.Hour)
		if edit != nil {
			edit(x, i, &ev)
		}
		st, err := NewStatement(x.sha256, ev).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		prev = Digest(st)
		x.statements = append(x.statements, st)
		x.envelopes = append(x.envelopes, x.sign(t, st))
		x.leaves = append(x.leaves, Leaf(st, x.tagKey, ev.EvidenceID, ev.Seq))
	}
	return x
}

func (x *signedExhibit) story(t testing.TB) []Event {
	nl := Party{Agency: "politie-nl", Jurisdiction: "NL", Person: "j.devries", Role: "investigator"}
	us := Party{Agency: "fbi-us", Jurisdiction: "US", Person: "b.smith", Role: "analyst"}
	grant := &Grant{ID: signedGrantID, To: us.Agency, LegalBasis: "MLAT NL-US 2026/17", Expires: signedStart.Add(30 * 24 * time.Hour)}
	return []Event{
		{Action: ActionRegister, Actor: nl,
			Exhibit: &Exhibit{SHA256: x.sha256, Size: int64(len(signedContent)), TagKey: hex.EncodeToString(x.tagKey)},
			Storage: &StorageFacts{Location: "objects/x", CiphertextSHA256: x.sha256, KeyRef: "k", Cipher: "AES-256-GCM"}},
		{Action: ActionShare, Actor: nl, Counterparty: &us, LegalBasis: grant.LegalBasis, Grant: grant},
		{Action: ActionAccept, Actor: us, Counterparty: &nl, Grant: grant, Receipt: newReceipt(t, receiptStatementOf(x.sha256))},
		{Action: ActionDownload, Actor: us, Counterparty: &nl, Grant: grant},
		{Action: ActionBundleExport, Actor: nl},
	}
}

// sign signs a statement into a DSSE envelope with the event key.
func (x *signedExhibit) sign(t testing.TB, statement []byte) Envelope {
	t.Helper()
	pae := PAE(PayloadType, statement)
	var sig []byte
	var err error
	switch k := x.eventKey.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, pae)
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(pae)
		sig, err = ecdsa.SignASN1(rand.Reader, k, h[:])
	default:
		t.Fatalf("event key of type %T", k)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(statement),
		Signatures: []Signature{{KeyID: x.tr.EventKeys[0].KeyID, Sig: base64.StdEncoding.EncodeToString(sig)}}}
}

// logLeaves returns the leaves of a log holding the exhibit's events at their sequence
// numbers, followed by the given leaves of other exhibits.
func (x *signedExhibit) logLeaves(others ...string) [][]byte {
	leaves := append([][]byte{}, x.leaves...)
	for _, o := range others {
		leaves = append(leaves, []byte(o))
	}
	return leaves
}

// checkpoint returns the log key's checkpoint of the tree of the leaves.
func (x *signedExhibit) checkpoint(t testing.TB, leaves [][]byte) []byte {
	t.Helper()
	return checkpointBy(t, leaves, x.logKey)
}

// checkpointBy returns the checkpoint of the tree of the leaves, signed by k.
func checkpointBy(t testing.TB, leaves [][]byte, k noteKey) []byte {
	t.Helper()
	cp := log.Checkpoint{Origin: testOrigin, Size: uint64(len(leaves)), Hash: treeHash(leafHashes(leaves))}
	return []byte(signNote(t, string(cp.Marshal()), k))
}

// proof returns a C2SP tlog-proof of leaf index of the tree of the leaves.
func (x *signedExhibit) proof(t testing.TB, leaves [][]byte, index int) string {
	t.Helper()
	return proofUnder(leaves, index, x.checkpoint(t, leaves))
}

// proofUnder returns a C2SP tlog-proof of leaf index of the tree of the leaves, under
// the given signed checkpoint of that tree.
func proofUnder(leaves [][]byte, index int, checkpoint []byte) string {
	p := tproof.TLogProof{Index: uint64(index), Checkpoint: checkpoint}
	for _, h := range inclusionPath(index, leafHashes(leaves)) {
		p.Hashes = append(p.Hashes, [sha256.Size]byte(h))
	}
	return string(p.Marshal())
}

// bundle returns a bundle of every event, each proved in the tree of the leaves.
func (x *signedExhibit) bundle(t testing.TB, leaves [][]byte) *Bundle {
	t.Helper()
	b := &Bundle{MediaType: BundleMediaType}
	for i, env := range x.envelopes {
		b.Events = append(b.Events, BundleEntry{Envelope: env, Proof: x.proof(t, leaves, i)})
	}
	return b
}

func leafHashes(leaves [][]byte) [][]byte {
	var hs [][]byte
	for _, l := range leaves {
		hs = append(hs, rfc6962.DefaultHasher.HashLeaf(l))
	}
	return hs
}

// newReceipt is a partner's signature over statement with a fresh key, and the
// self-signed certificate of that key.
func newReceipt(t testing.TB, statement []byte) *Receipt {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "b.smith", Organization: []string{"fbi-us"}},
		NotBefore: signedStart.Add(-time.Hour), NotAfter: signedStart.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(statement)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return &Receipt{Statement: statement, Signature: sig, Certificate: der}
}

// receiptStatementOf is the first release's receipt statement accepting the test
// grant of the evidence with the given digest.
func receiptStatementOf(sha string) []byte {
	return fmt.Appendf(nil, `{"_type":"evidencegw-receipt/v1","evidence_id":%q,"grant_id":%q,"sha256":%q,"time":%q}`,
		signedEvidenceID, signedGrantID, sha, signedStart.Format(time.RFC3339))
}

// otherLeaf is a leaf of another exhibit.
func otherLeaf(n int) string { return fmt.Sprintf("leaf of another exhibit %d\n", n) }
