package custody

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// The fuzz targets cover every parser of outside input in this package; their seed
// corpora run in every `go test`.

func FuzzParseStatement(f *testing.F) {
	b, _ := json.Marshal(validStatement())
	f.Add(b)
	rb, _ := json.Marshal(validRequestStatement())
	f.Add(rb)
	f.Add([]byte(`{}`))
	s := validStatement()
	withAcquisition(func(*Acquisition) {})(&s)
	b, _ = json.Marshal(s)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStatement(data)
		if err != nil {
			return
		}
		if _, err := s.Marshal(); err != nil {
			t.Errorf("a parsed statement does not encode: %v", err)
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"a","sig":"AA=="}]}`))
	f.Add([]byte(`{"payloadType":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err == nil {
			env.PayloadBytes()
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(`{"media_type":"application/vnd.evidencegw.custody-bundle.v1+json","events":[{"envelope":{"payloadType":"x","payload":"","signatures":[]},"proof":"c2sp.org/tlog-proof@v1\nindex 0\n\nx\n"}]}`))
	f.Add([]byte(`[]`))
	_, vkey, err := note.GenerateKey(rand.Reader, "log.example/fuzz")
	if err != nil {
		f.Fatal(err)
	}
	v, _ := note.NewVerifier(vkey)
	tr := &TrustRoot{Log: TrustedLog{Origin: "log.example/fuzz", verifier: v}}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		Verify(b, tr, VerifyOptions{})
	})
}

func FuzzParseTrustRoot(f *testing.F) {
	f.Add([]byte(`{"media_type":"application/vnd.evidencegw.trust-root.v1+json","event_keys":[],"log":{"origin":"a","verifier_key":"a+00000000+AQ=="},"witnesses":{"quorum":0,"keys":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseTrustRoot(data)
	})
}

func FuzzParseLeaf(f *testing.F) {
	f.Add(Leaf([]byte("s"), make([]byte, 32), "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", 0))
	f.Add([]byte(LeafPrefix))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseLeaf(data)
	})
}

func FuzzParseLogSnapshot(f *testing.F) {
	f.Add([]byte(`{"media_type":"application/vnd.evidencegw.log-snapshot.v1+json","checkpoint":"o\n1\nAAAA\n","leaves":["AA=="]}`))
	f.Add([]byte(`{"leaves":null}`))
	_, vkey, err := note.GenerateKey(rand.Reader, "log.example/fuzz")
	if err != nil {
		f.Fatal(err)
	}
	v, _ := note.NewVerifier(vkey)
	tr := &TrustRoot{Log: TrustedLog{Origin: "log.example/fuzz", verifier: v}}
	r := &Report{EvidenceID: "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", Events: []VerifiedEvent{{Event: Event{Exhibit: &Exhibit{TagKey: "00"}}}},
		Checkpoints: map[uint64][]byte{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseLogSnapshot(data)
		if err != nil {
			return
		}
		CheckCompleteness(r, s, tr)
	})
}

func FuzzParseWitnessPolicy(f *testing.F) {
	f.Add([]byte("witness a evidencegw.local/witness-nl+7a27d86b+BLsKEAwLOnstzzfM85wu2N7ngtTg1myPgkENDMltybb/ http://127.0.0.1:7380\nwitness b evidencegw.local/witness-us+e44f0d11+BO/a4IOvnPVb9NjBDZjKeQVPVNnLxZpnclDhQ8oHJKs1\ngroup g any a b\nquorum g\n"))
	f.Add([]byte("quorum none\n"))
	f.Add([]byte("log x\ngroup g all\nquorum g # c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseWitnessPolicy(b)
		if err != nil {
			return
		}
		// A policy that parses describes itself in a trust root that loads.
		w := WitnessesFromPolicy(p)
		if err := w.load(); err != nil {
			t.Fatalf("a parsed policy does not load as trust root witnesses: %v\n%q", err, b)
		}
		if w.Quorum > len(w.Keys) {
			t.Fatalf("least quorum %d above %d witnesses", w.Quorum, len(w.Keys))
		}
	})
}

func FuzzParseTrustRootChain(f *testing.F) {
	f.Add([]byte(`{"media_type":"application/vnd.evidencegw.trust-root-chain.v1+json","changes":[]}`))
	f.Add([]byte(`{"media_type":"application/vnd.evidencegw.trust-root-chain.v1+json","changes":[{"trust_root":"e30=","envelope":{"payloadType":"x","payload":"","signatures":[]},"proof":"p"}]}`))
	pinned, err := (&TrustRoot{EventKeys: []TrustedKey{}}).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseTrustRootChain(b)
		if err != nil {
			return
		}
		// Following it from an unloadable root fails without panicking.
		if _, _, err := FollowTrustRootChain(pinned, c, nil); err == nil {
			t.Fatalf("followed a chain from a trust root without keys")
		}
	})
}

func FuzzParseActStatement(f *testing.F) {
	for _, a := range []Act{
		{Action: ActionShare, Nonce: "0123456789abcdef0123456789abcdef", Terms: &GrantTerms{To: "agency-us", LegalBasis: "MLAT"}},
		{Action: ActionReceived, Nonce: "0123456789abcdef0123456789abcdef", Download: "00"},
	} {
		b, _ := NewActStatement("ev-abcdefghijklmnopqrstuvwxyz", "00", a).Marshal()
		f.Add(b)
	}
	// The acts of requests, answers, disposals and registrations with acquisition
	// facts, well formed.
	nonce, at := "0123456789abcdef0123456789abcdef", time.Unix(1700000000, 0)
	filed := &ActRequest{To: "agency-nl", Instrument: "epoc", Reference: "R-1", IssuingAuthority: "judge", Sought: "logs", Deadline: &at}
	seized := at.Add(-time.Hour)
	sha := strings.Repeat("ab", 32)
	for _, s := range []ActStatement{
		NewActStatement("", FilingDigest("CASE-1", *filed), Act{Action: ActionRequestFiled, Time: at, Nonce: nonce, CaseID: "CASE-1", Request: filed}),
		NewActStatement("rq-abcdefghijklmnopqrstuvwxyz", sha, Act{Action: ActionRequestAcknowledged, Time: at, Nonce: nonce, Reason: "assigned"}),
		NewActStatement("rq-abcdefghijklmnopqrstuvwxyz", sha, Act{Action: ActionRequestPartiallyFulfilled, Time: at, Nonce: nonce,
			Answer: &ActAnswer{Exhibits: []string{"ev-abcdefghijklmnopqrstuvwxyz"}, Expires: &at, MaxDownloads: 2, ViewOnly: true}}),
		NewActStatement("rq-abcdefghijklmnopqrstuvwxyz", sha, Act{Action: ActionRequestRefused, Time: at, Nonce: nonce, Reason: "no grounds"}),
		NewActStatement("ev-abcdefghijklmnopqrstuvwxyz", sha, Act{Action: ActionDispose, Time: at, Nonce: nonce, Authority: "order 2036/17"}),
		NewActStatement("", sha, Act{Action: ActionRegister, Time: at, Nonce: nonce, CaseID: "CASE-1", Acquisition: &Acquisition{
			ExhibitNumber: "NL-0042-EX3", SourceHashes: map[string]string{"md5": strings.Repeat("ab", 16)}, SeizedAt: &seized}}),
	} {
		b, err := s.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		if _, err := ParseActStatement(b); err != nil {
			f.Fatalf("seed %s does not parse: %v", s.Predicate.Action, err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseActStatement(data)
		if err != nil {
			return
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatalf("a parsed act statement does not encode: %v", err)
		}
		if _, err := ParseActStatement(b); err != nil {
			t.Errorf("a parsed act statement, encoded again, no longer parses: %v", err)
		}
	})
}

// FuzzVerifyAct feeds arbitrary signed acts to the act verifier: it must refuse them
// without panicking (no CA in the fuzzer signs).
func FuzzVerifyAct(f *testing.F) {
	f.Add([]byte(`{"envelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"a","sig":"AA=="}]},"certificates":["AA=="]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sa, err := ParseSignedAct(data)
		if err != nil {
			return
		}
		if _, err := VerifyAct(sa, nil, signedStart); err == nil {
			t.Fatal("an act verified against no CA")
		}
	})
}
