package custody

import (
	"fmt"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	tproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// longBundle returns the bundle of a chain of n events (n >= 5) as the gateway exports
// it: the five events of the story, then legal holds and releases in turn, each signed
// by the event key (ECDSA P-256), every event proved under the one checkpoint of a log
// holding the chain.
func longBundle(b *testing.B, n int) (*Bundle, *TrustRoot) {
	b.Helper()
	x := newSignedExhibit(b, nil)
	nl := Party{Agency: "politie-nl", Jurisdiction: "NL", Person: "j.devries", Role: "investigator"}
	for seq := len(x.statements); seq < n; seq++ {
		ev := Event{Action: ActionLegalHold, Actor: nl, EvidenceID: signedEvidenceID, CaseID: signedCaseID,
			Seq: uint64(seq), Prev: Digest(x.statements[seq-1]), Time: signedStart.Add(time.Duration(seq) * time.Hour),
			LegalBasis: fmt.Sprintf("review %d", seq)}
		if seq%2 == 0 {
			ev.Action = ActionLegalHoldRelease
		}
		st, err := NewStatement(x.sha256, ev).Marshal()
		if err != nil {
			b.Fatal(err)
		}
		x.statements = append(x.statements, st)
		x.envelopes = append(x.envelopes, x.sign(b, st))
		x.leaves = append(x.leaves, Leaf(st, x.tagKey, signedEvidenceID, uint64(seq)))
	}
	tree := testonly.New(rfc6962.DefaultHasher)
	tree.AppendData(x.leaves...)
	size := tree.Size()
	cp := []byte(signNote(b, string((&log.Checkpoint{Origin: testOrigin, Size: size, Hash: tree.Hash()}).Marshal()), x.logKey))
	bundle := &Bundle{MediaType: BundleMediaType}
	for i, env := range x.envelopes {
		hashes, err := tree.InclusionProof(uint64(i), size)
		if err != nil {
			b.Fatal(err)
		}
		p := tproof.TLogProof{Index: uint64(i), Checkpoint: cp}
		for _, h := range hashes {
			p.Hashes = append(p.Hashes, [32]byte(h))
		}
		bundle.Events = append(bundle.Events, BundleEntry{Envelope: env, Proof: string(p.Marshal())})
	}
	return bundle, x.tr
}

// BenchmarkVerifyChain measures a court's offline verification of a whole chain of 10
// and of 10,000 events (Verify: every signature, the hash chain, every inclusion
// proof), reporting events verified per second; the 10-event chain is the baseline of
// the per-event rate. signatures-only is the floor in the same run: the 10,000 event
// signatures (ECDSA P-256) checked one after the other and nothing else. The 10,000-event
// bundle takes a few seconds to sign.
//
//	go test ./custody -run '^$' -bench BenchmarkVerifyChain -benchtime 5x -cpu 1,2
func BenchmarkVerifyChain(b *testing.B) {
	for _, n := range []int{10, 10000} {
		bundle, tr := longBundle(b, n)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				r, err := Verify(bundle, tr, VerifyOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Events) != n {
					b.Fatalf("verified %d events, want %d", len(r.Events), n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
		if n < 10000 {
			continue
		}
		b.Run(fmt.Sprintf("events=%d/signatures-only", n), func(b *testing.B) {
			key := tr.EventKeys[0]
			for b.Loop() {
				for _, e := range bundle.Events {
					payload, err := e.Envelope.PayloadBytes()
					if err != nil {
						b.Fatal(err)
					}
					if err := e.Envelope.verifyWith(key, payload); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
