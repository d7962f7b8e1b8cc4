package trillianlog

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// TestBatch checks roots, peaks and inclusion proofs computed from a batch against the
// reference tree of transparency-dev/merkle, for every split of small trees.
func TestBatch(t *testing.T) {
	ref := testonly.New(rfc6962.DefaultHasher)
	for i := range 24 {
		ref.AppendData(fmt.Appendf(nil, "leaf %d", i))
	}
	for end := uint64(1); end <= ref.Size(); end++ {
		for begin := uint64(0); begin < end; begin++ {
			p := peaks{size: begin}
			if begin > 0 {
				// Seeded the way the follower does, from the last leaf's proof.
				proof, err := ref.InclusionProof(begin-1, begin)
				if err != nil {
					t.Fatal(err)
				}
				if p, err = seedPeaks(begin, proof, ref.LeafHash(begin-1)); err != nil {
					t.Fatalf("seedPeaks(%d) = %v", begin, err)
				}
			}
			b := newBatch(p)
			for i := begin; i < end; i++ {
				b.add(ref.LeafHash(i))
			}
			root, err := b.root()
			if err != nil || !cmp.Equal(root, ref.HashAt(end)) {
				t.Fatalf("batch [%d, %d): root = %x, %v; want %x", begin, end, root, err, ref.HashAt(end))
			}
			for i := begin; i < end; i++ {
				got, err := b.inclusion(i)
				want, _ := ref.InclusionProof(i, end)
				if err != nil || !cmp.Equal(got, want) {
					t.Fatalf("batch [%d, %d): inclusion(%d) = %x, %v; want %x", begin, end, i, got, err, want)
				}
			}
			if _, err := b.inclusion(end); err == nil && begin > 0 {
				t.Errorf("batch [%d, %d): inclusion(%d) succeeded", begin, end, end)
			}
			next, err := b.peaks()
			if err != nil {
				t.Fatalf("batch [%d, %d): peaks = %v", begin, end, err)
			}
			nb := newBatch(next)
			if r, err := nb.root(); err != nil || !cmp.Equal(r, ref.HashAt(end)) {
				t.Fatalf("batch from peaks of %d: root = %x, %v; want %x", end, r, err, ref.HashAt(end))
			}
		}
	}
}
