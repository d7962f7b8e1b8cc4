package custody

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func validStatement() Statement {
	sum := strings.Repeat("ab", 32)
	return NewStatement(sum, Event{
		EvidenceID: "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", CaseID: "CASE-1", Action: ActionRegister, Time: time.Unix(1700000000, 0).UTC(),
		Actor:   Party{Agency: "agency-nl", Jurisdiction: "NL"},
		Exhibit: &Exhibit{SHA256: sum, Size: 1, TagKey: strings.Repeat("00", 32)},
		Storage: &StorageFacts{Location: "file:///x", CiphertextSHA256: sum, KeyRef: "local:kek-v1"},
	})
}

// withAcquisition returns a mutation that gives the register event valid acquisition
// facts, then applies f to them.
func withAcquisition(f func(*Acquisition)) func(*Statement) {
	return func(s *Statement) {
		seized := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
		a := &Acquisition{ExhibitNumber: "NL-0042-EX3", Tool: "FTK Imager", ToolVersion: "4.7.1", Examiner: "J. de Vries",
			SeizedAt: &seized, SeizedPlace: "Rotterdam", Notes: "write blocker used",
			SourceHashes: map[string]string{"md5": strings.Repeat("a", 32), "sha1": strings.Repeat("b", 40), "sha256": strings.Repeat("c", 64)}}
		f(a)
		s.Predicate.Exhibit.Acquisition = a
	}
}

// TestParseStatement: each check of a statement refuses, with its own reason, a
// statement that only it catches.
func TestParseStatement(t *testing.T) {
	other := strings.Repeat("cd", 32)
	later := func(s *Statement) {
		s.Predicate.Seq, s.Predicate.Prev, s.Predicate.Action = 1, strings.Repeat("0", 64), ActionShare
		s.Predicate.Exhibit, s.Predicate.Storage = nil, nil
	}
	transfer := func(a Action, tr *Transfer) func(*Statement) {
		return func(s *Statement) { later(s); s.Predicate.Action, s.Predicate.Transfer = a, tr }
	}
	tr := &Transfer{ID: "tr-" + strings.Repeat("a", 26), Length: 10}
	tests := []struct {
		name   string
		mutate func(*Statement)
		want   string // the error after "checking statement: "; "" = valid
	}{
		{"valid", func(*Statement) {}, ""},
		{"valid later event", later, ""},
		{"valid transfer event", transfer(ActionDownloadStart, tr), ""},
		{"transfer event without transfer", transfer(ActionDownloadDeliver, nil), `event 1 is "download-deliver": a transfer belongs to the download-* events and to them only`},
		{"transfer on another event", transfer(ActionShare, tr), `event 1 is "share": a transfer belongs to the download-* events and to them only`},
		{"bad transfer id", transfer(ActionDownloadAbandon, &Transfer{ID: "tr-../x"}), `invalid transfer id "tr-../x"`},
		{"wrong type", func(s *Statement) { s.Type = "x" }, `_type "x", want "https://in-toto.io/Statement/v1"`},
		{"wrong predicate type", func(s *Statement) { s.PredicateType = "x" }, `predicateType "x", want "https://github.com/evidencegw/evidencegw/custody-event/v1"`},
		{"two subjects", func(s *Statement) { s.Subject = append(s.Subject, s.Subject[0]) }, "2 subjects, want 1"},
		{"subject digest not hex", func(s *Statement) { later(s); s.Subject[0].Digest["sha256"] = "zz" }, "subject has no valid sha256 digest"},
		{"subject digest of another algorithm", func(s *Statement) { later(s); s.Subject[0].Digest = map[string]string{"sha512": other} }, "subject has no valid sha256 digest"},
		{"subject of another exhibit", func(s *Statement) { s.Subject[0].Name = "ev-bbbbbbbbbbbbbbbbbbbbbbbbbb" },
			`subject name "ev-bbbbbbbbbbbbbbbbbbbbbbbbbb" differs from evidence id "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"`},
		{"path-like id", func(s *Statement) { s.Predicate.EvidenceID = "../x"; s.Subject[0].Name = "../x" }, `invalid evidence id "../x"`},
		{"bad case id", func(s *Statement) { s.Predicate.CaseID = "a/b" }, `invalid case id "a/b"`},
		{"unknown action", func(s *Statement) { s.Predicate.Action = "delete" }, `unknown action "delete"`},
		{"first with prev", func(s *Statement) { s.Predicate.Prev = strings.Repeat("0", 64) }, "first event has a previous digest"},
		{"later without prev", func(s *Statement) { later(s); s.Predicate.Prev = "" }, "event 1 has no valid previous digest"},
		{"later with prev not hex", func(s *Statement) { later(s); s.Predicate.Prev = strings.Repeat("Z", 64) }, "event 1 has no valid previous digest"},
		{"register later", func(s *Statement) { s.Predicate.Seq = 1; s.Predicate.Prev = strings.Repeat("0", 64) }, `event 1 is "register": only event 0 registers`},
		{"first not a register", func(s *Statement) { s.Predicate.Action = ActionShare }, `event 0 is "share": only event 0 registers`},
		{"register without exhibit", func(s *Statement) { s.Predicate.Exhibit = nil }, "register event lacks exhibit or storage facts"},
		{"register without storage", func(s *Statement) { s.Predicate.Storage = nil }, "register event lacks exhibit or storage facts"},
		{"exhibit digest differs", func(s *Statement) { s.Predicate.Exhibit.SHA256 = other }, "exhibit digest differs from subject digest"},
		{"valid acquisition", withAcquisition(func(a *Acquisition) {}), ""},
		{"valid retention", func(s *Statement) { t := s.Predicate.Time.AddDate(10, 0, 0); s.Predicate.RetainUntil = &t }, ""},
		{"source hash of another algorithm", withAcquisition(func(a *Acquisition) { a.SourceHashes["crc32"] = "0badf00d" }),
			`exhibit acquisition: source hash algorithm "crc32" is not md5, sha1 or sha256`},
		{"source md5 too long", withAcquisition(func(a *Acquisition) { a.SourceHashes["md5"] += "00" }),
			"exhibit acquisition: source md5 hash is not 32 lowercase hex digits"},
		{"source sha1 in capitals", withAcquisition(func(a *Acquisition) { a.SourceHashes["sha1"] = strings.ToUpper(a.SourceHashes["sha1"]) }),
			"exhibit acquisition: source sha1 hash is not 40 lowercase hex digits"},
		{"valid dispose", func(s *Statement) {
			later(s)
			s.Predicate.Action, s.Predicate.LegalBasis = ActionDispose, "court order 17"
		}, ""},
		{"dispose without authority", func(s *Statement) { later(s); s.Predicate.Action = ActionDispose }, "dispose event names no authority (legal_basis)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validStatement()
			tt.mutate(&s)
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseStatement(b)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.want != "" && (err == nil || err.Error() != "checking statement: "+tt.want):
				t.Errorf("got %v, want %q", err, "checking statement: "+tt.want)
			}
		})
	}
	if _, err := ParseStatement([]byte(`{"_type":"x","extra":1}`)); err == nil || !strings.HasPrefix(err.Error(), "decoding statement: ") {
		t.Errorf("unknown field: got %v, want a decoding error", err)
	}
}

func TestLeafRoundTrip(t *testing.T) {
	st := []byte("statement")
	key := bytes.Repeat([]byte{7}, 32)
	leaf := Leaf(st, key, "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", 3)
	d, tag, err := ParseLeaf(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if d != Digest(st) || tag != hex.EncodeToString(Tag(key, "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", 3)) {
		t.Errorf("got digest %s tag %s, want the statement's", d, tag)
	}
	if bytes.Contains(leaf, []byte("ev-")) {
		t.Error("the leaf reveals the evidence id")
	}
	if other := Tag(key, "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", 4); hex.EncodeToString(other) == tag {
		t.Error("tags of two sequence numbers are equal")
	}
}

func TestEnvelopeSignature(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, err := NewTrustedKey(&priv.PublicKey, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"x":1}`)
	h := sha256.Sum256(PAE(PayloadType, payload))
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, h[:])
	env := Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []Signature{{KeyID: key.KeyID, Sig: base64.StdEncoding.EncodeToString(sig)}}}
	if err := env.verifyWith(key, payload); err != nil {
		t.Errorf("good signature: %v", err)
	}
	if err := env.verifyWith(key, []byte(`{"x":2}`)); err == nil {
		t.Error("signature over other payload verified")
	}
}

func TestTrustRootValidity(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(0, 6, 0)
	k, err := NewTrustedKey(&priv.PublicKey, from)
	if err != nil {
		t.Fatal(err)
	}
	k.ValidUntil = &until
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{{from.Add(-time.Second), false}, {from, true}, {until.Add(-time.Second), true}, {until, false}} {
		if got := k.validAt(tt.at); got != tt.want {
			t.Errorf("validAt(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	_, vkey, _ := note.GenerateKey(rand.Reader, "log.example/test")
	tr := &TrustRoot{EventKeys: []TrustedKey{k}, Log: TrustedLog{Origin: "log.example/test", VerifierKey: vkey}}
	b, _ := tr.Marshal()
	if _, err := ParseTrustRoot(b); err != nil {
		t.Fatalf("ParseTrustRoot: %v", err)
	}
	bad := strings.Replace(string(b), k.KeyID, strings.Repeat("0", 64), 1)
	if _, err := ParseTrustRoot([]byte(bad)); err == nil {
		t.Error("a key id that does not match its key was accepted")
	}
	other := strings.Replace(string(b), `"origin": "log.example/test"`, `"origin": "other.example"`, 1)
	if _, err := ParseTrustRoot([]byte(other)); err == nil {
		t.Error("a log key for another origin was accepted")
	}
}

// TestAcquisitionRoundTrip: the forensic facts of a register event, and its retention,
// come back from the signed bytes exactly as the gateway wrote them.
func TestAcquisitionRoundTrip(t *testing.T) {
	s := validStatement()
	withAcquisition(func(*Acquisition) {})(&s)
	until := s.Predicate.Time.AddDate(10, 0, 0)
	s.Predicate.RetainUntil = &until
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip changed the statement:\ngot  %+v\nwant %+v", got.Predicate.Exhibit.Acquisition, s.Predicate.Exhibit.Acquisition)
	}
	if (&Acquisition{}).IsZero() != true || got.Predicate.Exhibit.Acquisition.IsZero() {
		t.Errorf("IsZero: empty %t, full %t; want true, false", (&Acquisition{}).IsZero(), got.Predicate.Exhibit.Acquisition.IsZero())
	}
}
