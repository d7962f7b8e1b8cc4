package storage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
)

// benchSize is the plaintext size of one benchmark operation.
const benchSize = 256 << 20

// repeatReader yields n bytes cycling over block, without allocating.
type repeatReader struct {
	block []byte
	off   int
	n     int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	k := 0
	for k < len(p) {
		c := copy(p[k:], r.block[r.off:])
		k += c
		r.off = (r.off + c) % len(r.block)
	}
	r.n -= int64(k)
	return k, nil
}

var benchBlock = func() []byte {
	b := make([]byte, 1<<20+7) // not a multiple of any buffer size
	rand.NewChaCha8([32]byte{9}).Read(b)
	return b
}()

func benchPlaintext() io.Reader { return &repeatReader{block: benchBlock, n: benchSize} }

// hashingSink is a Store whose Create hashes the ciphertext as a real store does
// and then discards it: a disk of infinite speed.
type hashingSink struct{ storage.Store }

func (hashingSink) Create(ctx context.Context, name string, r io.Reader) (storage.Info, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, struct{ io.Reader }{r}, make([]byte, 1<<20))
	if err != nil {
		return storage.Info{}, err
	}
	return storage.Info{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// BenchmarkSHA256 is the baseline: one SHA-256 pass over the bytes BenchmarkSeal seals.
func BenchmarkSHA256(b *testing.B) {
	b.SetBytes(benchSize)
	buf := make([]byte, 1<<20)
	for b.Loop() {
		h := sha256.New()
		if _, err := io.CopyBuffer(h, benchPlaintext(), buf); err != nil {
			b.Fatal(err)
		}
		h.Sum(nil)
	}
}

// BenchmarkSeal measures Seal: plaintext hash + encryption + ciphertext hash, into a
// store that discards (sink) or into localfs on the test's temporary directory.
func BenchmarkSeal(b *testing.B) {
	h := sha256.New()
	io.Copy(h, benchPlaintext())
	want := h.Sum(nil)
	k := newKeys(b)

	b.Run("sink", func(b *testing.B) {
		s := &storage.Sealer{Store: hashingSink{}, Keys: k}
		b.SetBytes(benchSize)
		for b.Loop() {
			if _, err := s.Seal(b.Context(), "x", "", []byte("ev"), want, benchPlaintext()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("localfs", func(b *testing.B) {
		store, err := localfs.New(b.Context(), localfs.Config{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		s := &storage.Sealer{Store: store, Keys: k}
		b.SetBytes(benchSize)
		i := 0
		for b.Loop() {
			i++
			name := "bench/" + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i >> 8), byte(i)})
			if _, err := s.Seal(b.Context(), name, "", []byte("ev"), want, benchPlaintext()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestSealMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("seals 256 MiB")
	}
	h := sha256.New()
	io.Copy(h, benchPlaintext())
	s := &storage.Sealer{Store: hashingSink{}, Keys: newKeys(t)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sealed, err := s.Seal(t.Context(), "x", "", []byte("ev"), h.Sum(nil), benchPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Seal of %d bytes allocated %d bytes, want under 16 MiB", sealed.PlainSize, alloc)
	}
}
