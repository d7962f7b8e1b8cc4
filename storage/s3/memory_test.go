package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/evidencegw/evidencegw/storage/s3"
)

// patternReader gives n bytes repeating a 1 MiB pseudo-random block, allocating
// nothing per Read.
type patternReader struct {
	block []byte
	off   int
	n     int64
}

func newPatternReader(n int64) *patternReader {
	return &patternReader{block: content(99, 1<<20), n: n}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	k := 0
	for k < len(p) {
		c := copy(p[k:], r.block[r.off:])
		k += c
		r.off = (r.off + c) % len(r.block)
	}
	r.n -= int64(k)
	return k, nil
}

// TestMemoryDoesNotGrowWithSize streams 256 MiB of unknown length through Create
// and checks the bytes allocated meanwhile stay near two part buffers.
func TestMemoryDoesNotGrowWithSize(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 256 MiB")
	}
	srv := testServer(t)
	cfg := srv.config(t)
	st := newStore(t, cfg)
	const size = 256 << 20
	// Two part buffers (one uploading, one filling), plus minio-go's and net/http's
	// per-request allocations.
	const ceiling = 2*s3.DefaultPartSize + 8<<20

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := st.Create(t.Context(), "big", newPatternReader(size))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Create of %d MiB allocated %.1f MiB in total", size>>20, float64(alloc)/(1<<20))
	if alloc > ceiling {
		t.Errorf("Create of %d bytes allocated %d bytes, want at most %d", size, alloc, ceiling)
	}
	h := sha256.New()
	io.Copy(h, newPatternReader(size))
	if want := hex.EncodeToString(h.Sum(nil)); info.Size != size || info.SHA256 != want {
		t.Errorf("Info = {Size %d SHA256 %s}, want {%d %s}", info.Size, info.SHA256, int64(size), want)
	}
}

// TestSmallObjectsHoldNoPartBuffer checks that a custody record's Create does not take
// a part buffer: records are written while parts upload, and each would hold one.
func TestSmallObjectsHoldNoPartBuffer(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	// A part size no other test uses, so no part buffer is kept for it yet: taking
	// one would allocate it.
	cfg.PartSize = 12<<20 + 4321
	st := newStore(t, cfg)
	sizes := []int{0, 4 << 10, 60 << 10}
	contents := make([]*bytes.Reader, len(sizes))
	for i, size := range sizes {
		contents[i] = bytes.NewReader(content(uint64(i), size))
	}
	// minio-go and net/http allocate some tens of KiB per request.
	const ceiling = 1 << 20

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, c := range contents {
		if _, err := st.Create(t.Context(), fmt.Sprintf("small-%d", i), c); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > ceiling {
		t.Errorf("three small Creates allocated %d bytes, want at most %d (no part buffer)", alloc, ceiling)
	}
}
