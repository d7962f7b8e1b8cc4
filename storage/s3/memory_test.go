package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/evidencegw/evidencegw/internal/procstat"
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

	// The part buffers are mappings outside the Go heap: the process's resident set
	// counts them, the allocation counter does not.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := procstat.ResetPeakRSS(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	rss, err := procstat.RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Create(t.Context(), "big", newPatternReader(size))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	peak, err := procstat.PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Create of %d MiB allocated %.1f MiB in total; resident set %.1f MiB, peak %.1f MiB",
		size>>20, float64(alloc)/(1<<20), float64(rss)/(1<<20), float64(peak)/(1<<20))
	if alloc > ceiling {
		t.Errorf("Create of %d bytes allocated %d bytes, want at most %d", size, alloc, ceiling)
	}
	if grew := peak - rss; grew > ceiling {
		t.Errorf("Create of %d bytes grew the resident set by %d bytes at its peak, want at most %d", size, grew, ceiling)
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
	// A part size no other test uses, so no part buffer of it is kept (except by an
	// earlier run of this test, which takes it back at the end): taking one makes one.
	cfg.PartSize = 12<<20 + 4321
	st := newStore(t, cfg)
	s3.DropPartBuffers(st)
	for i, size := range []int{0, 4 << 10, 60 << 10} {
		if _, err := st.Create(t.Context(), fmt.Sprintf("small-%d", i), bytes.NewReader(content(uint64(i), size))); err != nil {
			t.Fatal(err)
		}
		if made := s3.PartBuffersMade(st); made != 0 {
			t.Fatalf("a Create of %d bytes made %d part buffers, want none", size, made)
		}
	}
	// The check can fail: one more than a small object takes a part buffer.
	if _, err := st.Create(t.Context(), "large", bytes.NewReader(content(9, 64<<10+1))); err != nil {
		t.Fatal(err)
	}
	if made := s3.PartBuffersMade(st); made != 1 {
		t.Errorf("a Create of 64 KiB + 1 made %d part buffers, want 1", made)
	}
}
