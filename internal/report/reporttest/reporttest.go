// Package reporttest builds real, signed custody bundles for the tests of the
// verification report and of the browser verifier: fresh event and log keys, a
// trust root pinning them, events signed into DSSE envelopes and included in an RFC 6962
// tree under a signed checkpoint. It is for tests only: it may import custody and the
// transparency-dev formats; no test of the court's verifier may need more.
package reporttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
)

// Fixed facts of the test exhibits.
const (
	Origin     = "example.test/evidencegw-log"
	EvidenceID = "ev-abcdefghijklmnopqrstuvwxyz"
	CaseID     = "CASE-2026-001"
	GrantID    = "gr-abcdefghijklmnop"
	LegalBasis = "MLAT NL-US 2026/17"
)

// Start is the time of the first event of the default story.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Content is the evidence file of the test exhibits.
var Content = []byte("disk image bytes\n")

// Exhibit is a signed bundle, the trust root that verifies it and the evidence.
type Exhibit struct {
	Bundle        *custody.Bundle
	TrustRoot     *custody.TrustRoot
	BundleJSON    []byte
	TrustRootJSON []byte
	Content       []byte
}

// Parties of the default story.
var (
	NL = custody.Party{Agency: "politie-nl", Jurisdiction: "NL", Person: "j.devries", Role: "investigator"}
	US = custody.Party{Agency: "fbi-us", Jurisdiction: "US", Person: "b.smith", Role: "analyst"}
)

// Story returns the events of a cross-border custody chain, NL to US: register, share,
// accept (with a receipt), download, revoke, bundle-export. Ids, sequence numbers,
// chain links and times are filled in by New.
func Story(legalBasis string) []custody.Event {
	grant := &custody.Grant{ID: GrantID, To: US.Agency, LegalBasis: legalBasis,
		Expires: Start.Add(30 * 24 * time.Hour), MaxDownloads: 3}
	us, nl := US, NL
	return []custody.Event{
		{Action: custody.ActionRegister, Actor: NL,
			Exhibit: &custody.Exhibit{Description: "forensic image of seized laptop"},
			Storage: &custody.StorageFacts{Location: "objects/x", KeyRef: "k", Cipher: "AES-256-GCM"}},
		{Action: custody.ActionShare, Actor: NL, Counterparty: &us, LegalBasis: legalBasis, Grant: grant},
		{Action: custody.ActionAccept, Actor: US, Counterparty: &nl, Grant: grant},
		{Action: custody.ActionDownload, Actor: US, Counterparty: &nl, Grant: grant},
		{Action: custody.ActionRevoke, Actor: NL, Counterparty: &us, Grant: grant, Detail: "investigation closed"},
		{Action: custody.ActionBundleExport, Actor: NL},
	}
}

// Facts of the disposal story.
const (
	ExhibitNumber = "NL-2026-001-EX3"
	Authority     = "order of the Rotterdam District Court, 2036/17"
)

// SeizedAt is when the disposal story's source medium was seized; RetainUntil when
// its retention ends.
var (
	SeizedAt    = Start.Add(-48 * time.Hour)
	RetainUntil = Start.Add(24 * time.Hour)
)

// DisposalStory returns a chain that ends in a disposal: register with forensic
// metadata and a retention period, legal hold, release, dispose, bundle-export.
func DisposalStory() []custody.Event {
	seized, until := SeizedAt, RetainUntil
	return []custody.Event{
		{Action: custody.ActionRegister, Actor: NL, RetainUntil: &until,
			Exhibit: &custody.Exhibit{Description: "forensic image of seized laptop", Acquisition: &custody.Acquisition{
				ExhibitNumber: ExhibitNumber, Tool: "FTK Imager", ToolVersion: "4.7.1", Examiner: "J. de Vries",
				SeizedAt: &seized, SeizedPlace: "Rotterdam", Notes: "write blocker used",
				SourceHashes: map[string]string{"md5": strings.Repeat("0a", 16), "sha1": strings.Repeat("1b", 20)}}},
			Storage: &custody.StorageFacts{Location: "objects/x", KeyRef: "k", Cipher: "AES-256-GCM"}},
		{Action: custody.ActionLegalHold, Actor: NL, Detail: "appeal pending"},
		{Action: custody.ActionLegalHoldRelease, Actor: NL, Detail: "appeal decided"},
		{Action: custody.ActionDispose, Actor: NL, LegalBasis: Authority,
			Storage: &custody.StorageFacts{Location: "objects/x", KeyRef: "k", Cipher: "AES-256-GCM"},
			Detail:  "the sealed content and every version of its wrapped data key (1 stored) are destroyed"},
		{Action: custody.ActionBundleExport, Actor: NL},
	}
}

// New signs events into a bundle about Content: it sets the ids, sequence numbers,
// chain links and hourly times, the exhibit digest and tag key of the register event,
// and a real partner receipt on accept events.
func New(t testing.TB, events []custody.Event) *Exhibit {
	t.Helper()
	return NewWith(t, events, Options{})
}

// Options change what NewWith signs.
type Options struct {
	// Edit, if set, changes event i after New has filled it in and before it is signed,
	// to make a bundle that is validly signed and logged but wrong in one way (a broken
	// chain link, a time out of order). The next event chains to the edited one.
	Edit func(i int, ev *custody.Event)
	// Witnesses, if set, cosign the checkpoint (C2SP tlog-cosignature signers).
	Witnesses []note.Signer
}

// NewWith is New with options.
func NewWith(t testing.TB, events []custody.Event, opts Options) *Exhibit {
	t.Helper()
	eventKey := must(t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	skey, vkey, err := note.GenerateKey(rand.Reader, Origin)
	if err != nil {
		t.Fatal(err)
	}
	logSigner, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := custody.NewTrustedKey(&eventKey.PublicKey, Start.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tr := &custody.TrustRoot{EventKeys: []custody.TrustedKey{tk}, Log: custody.TrustedLog{Origin: Origin, VerifierKey: vkey}}

	sum := sha256.Sum256(Content)
	exhibitSHA := hex.EncodeToString(sum[:])
	tagKey := make([]byte, 32)
	rand.Read(tagKey)
	var leafHashes [][]byte
	b := &custody.Bundle{MediaType: custody.BundleMediaType}
	prev := ""
	for i, ev := range events {
		ev.EvidenceID, ev.CaseID, ev.Seq, ev.Prev = EvidenceID, CaseID, uint64(i), prev
		ev.Time = Start.Add(time.Duration(i) * time.Hour)
		if ev.Exhibit != nil {
			x := *ev.Exhibit
			x.SHA256, x.Size, x.TagKey = exhibitSHA, int64(len(Content)), hex.EncodeToString(tagKey)
			ev.Exhibit = &x
		}
		if ev.Storage != nil {
			s := *ev.Storage
			s.CiphertextSHA256 = exhibitSHA
			ev.Storage = &s
		}
		if ev.Action == custody.ActionAccept && ev.Receipt == nil {
			ev.Receipt = receipt(t, exhibitSHA, ev.Time)
		}
		if opts.Edit != nil {
			opts.Edit(i, &ev)
		}
		st, err := custody.NewStatement(exhibitSHA, ev).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		prev = custody.Digest(st)
		leafHashes = append(leafHashes, rfc6962.DefaultHasher.HashLeaf(custody.Leaf(st, tagKey, EvidenceID, uint64(i))))
		b.Events = append(b.Events, custody.BundleEntry{Envelope: signEnvelope(t, eventKey, tk.KeyID, st)})
	}
	cp := signCheckpoint(t, leafHashes, append([]note.Signer{logSigner}, opts.Witnesses...)...)
	for i := range b.Events {
		p := tproof.TLogProof{Index: uint64(i), Checkpoint: cp}
		for _, h := range inclusionPath(i, leafHashes) {
			p.Hashes = append(p.Hashes, [sha256.Size]byte(h))
		}
		b.Events[i].Proof = string(p.Marshal())
	}
	// Bundle and TrustRoot are parsed back, as a verifier gets them (parsing loads the keys).
	x := &Exhibit{Content: Content}
	if x.BundleJSON, err = b.Marshal(); err != nil {
		t.Fatal(err)
	}
	if x.TrustRootJSON, err = tr.Marshal(); err != nil {
		t.Fatal(err)
	}
	if x.Bundle, err = custody.ParseBundle(x.BundleJSON); err != nil {
		t.Fatal(err)
	}
	if x.TrustRoot, err = custody.ParseTrustRoot(x.TrustRootJSON); err != nil {
		t.Fatal(err)
	}
	return x
}

// Tampered returns a copy of the bundle in which old is replaced by new in the
// statement of event i, leaving its signature as it was.
func (x *Exhibit) Tampered(t testing.TB, i int, old, new string) *custody.Bundle {
	t.Helper()
	c, err := custody.ParseBundle(x.BundleJSON)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Events[i].Envelope.PayloadBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p), old) {
		t.Fatalf("statement of event %d has no %q", i, old)
	}
	q := strings.Replace(string(p), old, new, 1)
	c.Events[i].Envelope.Payload = base64.StdEncoding.EncodeToString([]byte(q))
	return c
}

// Files are the paths of an exhibit written to a directory.
type Files struct {
	Bundle, TrustRoot, Evidence string
}

// WriteFiles writes the bundle (b, or the exhibit's own if nil), the trust root and the
// evidence to dir.
func (x *Exhibit) WriteFiles(t testing.TB, dir string, b *custody.Bundle) Files {
	t.Helper()
	data := x.BundleJSON
	if b != nil {
		var err error
		if data, err = b.Marshal(); err != nil {
			t.Fatal(err)
		}
	}
	f := Files{Bundle: filepath.Join(dir, "bundle.json"), TrustRoot: filepath.Join(dir, "trust-root.json"),
		Evidence: filepath.Join(dir, "evidence.bin")}
	for path, content := range map[string][]byte{f.Bundle: data, f.TrustRoot: x.TrustRootJSON, f.Evidence: x.Content} {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func must(t testing.TB) func(*ecdsa.PrivateKey, error) *ecdsa.PrivateKey {
	return func(k *ecdsa.PrivateKey, err error) *ecdsa.PrivateKey {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// receipt is a partner's signature, with a fresh self-signed certificate, over a
// receipt statement for the exhibit.
func receipt(t testing.TB, exhibitSHA string, at time.Time) *custody.Receipt {
	t.Helper()
	key := must(t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: US.Person, Organization: []string{US.Agency}},
		NotBefore: Start.Add(-time.Hour), NotAfter: Start.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	statement := fmt.Appendf(nil, `{"_type":"evidencegw-receipt/v1","evidence_id":%q,"grant_id":%q,"sha256":%q,"time":%q}`,
		EvidenceID, GrantID, exhibitSHA, at.Format(time.RFC3339))
	h := sha256.Sum256(statement)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return &custody.Receipt{Statement: statement, Signature: sig, Certificate: der}
}

// signEnvelope signs a statement into a DSSE envelope: ECDSA over SHA-256 of the PAE.
func signEnvelope(t testing.TB, key *ecdsa.PrivateKey, keyID string, statement []byte) custody.Envelope {
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
func signCheckpoint(t testing.TB, leafHashes [][]byte, s ...note.Signer) []byte {
	t.Helper()
	body := log.Checkpoint{Origin: Origin, Size: uint64(len(leafHashes)), Hash: treeHash(leafHashes)}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(body)}, s...)
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
