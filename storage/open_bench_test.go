package storage_test

import (
	"crypto/sha256"
	"io"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
)

// BenchmarkOpen reads a sealed object of benchSize bytes back from localfs (from the page
// cache after the first pass): the sealer's own segment reader (Open, through WriteTo),
// the previous download path (Verify's SHA-256 of the ciphertext, then Open), and
// SHA-256 of the plaintext as the baseline.
//
//	go test ./storage -run '^$' -bench Open -benchtime 3x
func BenchmarkOpen(b *testing.B) {
	store, err := localfs.New(b.Context(), localfs.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, benchPlaintext())
	s := &storage.Sealer{Store: store, Keys: newKeys(b)}
	sealed, err := s.Seal(b.Context(), "x", "", []byte("ev"), h.Sum(nil), benchPlaintext())
	if err != nil {
		b.Fatal(err)
	}
	open := func(b *testing.B) {
		p, err := s.Open(b.Context(), sealed, []byte("ev"))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		if n, err := p.WriteTo(io.Discard); err != nil || n != benchSize {
			b.Fatalf("read %d bytes, %v", n, err)
		}
	}
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(benchSize)
		buf := make([]byte, 1<<20)
		for b.Loop() {
			h := sha256.New()
			io.CopyBuffer(h, benchPlaintext(), buf)
		}
	})
	b.Run("open", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			open(b)
		}
	})
	b.Run("verify+open", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			if err := s.Verify(b.Context(), sealed); err != nil {
				b.Fatal(err)
			}
			open(b)
		}
	})
}
