package caseexport

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

const (
	fixtureEvidenceID = "ev-abcdefghijklmnopqrstuvwxyz"
	fixtureOrigin     = "gateway.example.test/custody"
)

var (
	fixtureContent = []byte("UFDR extraction of a seized phone")
	fixtureSHA256  = sha256Hex(fixtureContent)
	fixtureStart   = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

	alice        = custody.Party{Agency: "police-fr", Jurisdiction: "FR", Person: "alice", Role: "investigator"}
	bob          = custody.Party{Agency: "agency-us", Jurisdiction: "US", Person: "bob", Role: "analyst"}
	policeFR     = custody.Party{Agency: "police-fr", Jurisdiction: "FR"}
	agencyUS     = custody.Party{Agency: "agency-us", Jurisdiction: "US"}
	prosecutorBE = custody.Party{Agency: "prosecutor-be", Jurisdiction: "BE"}
	operator     = custody.Party{Agency: "gateway-ops", Jurisdiction: "EU", Person: "olga", Role: "operator"}

	grantMLAT = custody.Grant{ID: "gr-aaaaaaaaaaaaaaaa", To: "agency-us", LegalBasis: "MLAT 2026/17 (FR-US treaty, art. 5)",
		Expires: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), MaxDownloads: 3}
	grantEIO = custody.Grant{ID: "gr-bbbbbbbbbbbbbbbb", To: "prosecutor-be", LegalBasis: "EIO 2026-BE-114",
		Expires: time.Date(2026, 9, 30, 23, 59, 59, 0, time.UTC), ViewOnly: true}

	sealed = custody.StorageFacts{Location: "s3://evidence-eu/ev-abcdefghijklmnopqrstuvwxyz", Version: "3HL4kqtJlcpXroDTDmJ", ETag: `"9b2cf535f27731c974343645a3985328"`,
		CiphertextSHA256: sha256Hex([]byte("ciphertext")), CiphertextSize: 1093, KeyRef: "vault:transit/evidence-kek#4", Cipher: "age-v1"}
)

// fixtureEvents is the custody chain of the fixture exhibit: every action occurs.
func fixtureEvents() []custody.Event {
	mlat, eio := grantMLAT, grantEIO
	storage := sealed
	rewrapped := sealed
	rewrapped.KeyRef = "vault:transit/evidence-kek#5"
	return []custody.Event{
		{Action: custody.ActionRegister, Actor: alice,
			Exhibit: &custody.Exhibit{SHA256: fixtureSHA256, Size: int64(len(fixtureContent)), Description: "Samsung SM-G991B extraction (UFDR)", TagKey: hex.EncodeToString(make([]byte, 32))},
			Storage: &storage},
		{Action: custody.ActionShare, Actor: alice, Counterparty: &agencyUS, LegalBasis: mlat.LegalBasis, Grant: &mlat},
		{Action: custody.ActionAccept, Actor: bob, Counterparty: &policeFR, LegalBasis: mlat.LegalBasis, Grant: &mlat,
			Receipt: &custody.Receipt{Statement: []byte(`{"_type":"evidencegw-receipt/v1"}`), Signature: []byte("sig"), Certificate: []byte("cert")}},
		{Action: custody.ActionDownload, Actor: bob, Counterparty: &policeFR, LegalBasis: mlat.LegalBasis, Grant: &mlat, Storage: &storage},
		{Action: custody.ActionShare, Actor: alice, Counterparty: &prosecutorBE, LegalBasis: eio.LegalBasis, Grant: &eio},
		{Action: custody.ActionIntegrityFailure, Actor: bob, Storage: &storage, Detail: "storage: ciphertext digest mismatch"},
		{Action: custody.ActionRevoke, Actor: alice, Counterparty: &prosecutorBE, LegalBasis: eio.LegalBasis, Grant: &eio, Detail: "superseded by EIO 2026-BE-115"},
		{Action: custody.ActionLegalHold, Actor: alice, Storage: &storage, Detail: "hold for trial 2026/331"},
		{Action: custody.ActionKeyRewrap, Actor: operator, Storage: &rewrapped, Detail: "KEK evidence-kek rotated to version 5"},
		{Action: custody.ActionLegalHoldRelease, Actor: alice, Storage: &rewrapped, Detail: "trial closed"},
		{Action: custody.ActionBundleExport, Actor: alice},
	}
}

// fixtureBundle returns a bundle of the fixture chain with its statement payloads. The
// signatures and proofs are well formed but do not verify: the export ignores them.
func fixtureBundle(t testing.TB) (*custody.Bundle, [][]byte) {
	t.Helper()
	b, payloads, err := newFixtureBundle()
	if err != nil {
		t.Fatal(err)
	}
	return b, payloads
}

func newFixtureBundle() (*custody.Bundle, [][]byte, error) {
	return newBundleOf(fixtureEvents())
}

// newBundleOf returns a bundle of events about the fixture exhibit, built as
// newFixtureBundle builds the fixture's.
func newBundleOf(events []custody.Event) (*custody.Bundle, [][]byte, error) {
	b := &custody.Bundle{MediaType: custody.BundleMediaType}
	var payloads [][]byte
	prev := ""
	for i, ev := range events {
		ev.EvidenceID, ev.CaseID, ev.Seq, ev.Prev = fixtureEvidenceID, "CASE-2026-0042", uint64(i), prev
		ev.Time = fixtureStart.Add(time.Duration(i) * 26 * time.Hour)
		payload, err := custody.NewStatement(fixtureSHA256, ev).Marshal()
		if err != nil {
			return nil, nil, err
		}
		prev = custody.Digest(payload)
		payloads = append(payloads, payload)
		b.Events = append(b.Events, custody.BundleEntry{
			Envelope: custody.Envelope{
				PayloadType: custody.PayloadType,
				Payload:     base64.StdEncoding.EncodeToString(payload),
				Signatures:  []custody.Signature{{KeyID: sha256Hex([]byte("event key")), Sig: base64.StdEncoding.EncodeToString([]byte("not a signature"))}},
			},
			Proof: fixtureProof(uint64(100+i), uint64(100+len(events))),
		})
	}
	return b, payloads, nil
}

// fixtureProof returns a syntactically valid C2SP tlog-proof for leaf index of a tree.
func fixtureProof(index, size uint64) string {
	h := sha256.Sum256([]byte(fmt.Sprint("node", index)))
	root := sha256.Sum256([]byte(fmt.Sprint("root", size)))
	return fmt.Sprintf("c2sp.org/tlog-proof@v1\nindex %d\n%s\n\n%s\n%d\n%s\n\n— %s AAAAAA==\n",
		index, base64.StdEncoding.EncodeToString(h[:]), fixtureOrigin, size,
		base64.StdEncoding.EncodeToString(root[:]), fixtureOrigin)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
