package custody

import (
	"crypto/rand"
	"encoding/json"
	"testing"

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
