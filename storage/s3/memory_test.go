package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
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

	// The part buffers are mappings outside the Go heap: the process's resident set
	// counts them, the allocation counter does not.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rss := resetPeakRSS(t)
	info, err := st.Create(t.Context(), "big", newPatternReader(size))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	peak := procStatus(t, "VmHWM")
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

// resetPeakRSS resets this process's resident-set high-water mark (VmHWM) to its
// resident set (Linux: clear_refs 5) and returns that resident set in bytes.
func resetPeakRSS(t *testing.T) int64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak resident set here: %v", err)
	}
	return procStatus(t, "VmRSS")
}

// procStatus returns a kB field of /proc/self/status in bytes.
func procStatus(t *testing.T, field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
