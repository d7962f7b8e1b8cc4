package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// Plaintext capacities of the segments of a testSegment object (docs/storage.md 3.2).
const (
	firstPlain = testSegment - 16 - 40
	nextPlain  = testSegment - 16
)

func readRange(t *testing.T, s *storage.Sealer, sealed storage.Sealed, aad []byte, off, n int64) ([]byte, error) {
	t.Helper()
	p, err := s.OpenRange(t.Context(), sealed, aad, off, n)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return io.ReadAll(p)
}

// TestOpenRange reads ranges of objects of sizes around the segment boundaries: the
// first byte, the middle of a segment, across segments, the last byte, suffixes, the
// whole.
func TestOpenRange(t *testing.T) {
	sizes := []int64{1, firstPlain - 1, firstPlain, firstPlain + 1, firstPlain + nextPlain, firstPlain + 3*nextPlain + 17}
	for _, segment := range []int{testSegment, 0} {
		s := &storage.Sealer{Store: memstore.New(), Keys: newKeys(t), SegmentSize: segment}
		for i, size := range sizes {
			if segment == 0 {
				size *= 300 // the same shapes with 1 MiB segments
			}
			data := plaintext(uint64(i), int(size))
			aad := []byte(fmt.Sprintf("ev-%d", i))
			sealed := seal(t, s, fmt.Sprintf("x%d", i), aad, data)
			for _, r := range ranges(size) {
				got, err := readRange(t, s, sealed, aad, r[0], r[1])
				if err != nil || !bytes.Equal(got, data[r[0]:r[0]+r[1]]) {
					t.Errorf("segment %d size %d: range [%d, +%d) read %d bytes, %v; want the plaintext's", segment, size, r[0], r[1], len(got), err)
				}
			}
		}
	}
}

// ranges returns (offset, length) pairs that cover the interesting cases of a size.
func ranges(size int64) [][2]int64 {
	rs := [][2]int64{{0, size}, {0, 1}, {size - 1, 1}, {size / 2, 1}, {size / 2, size - size/2}, {size / 3, size / 3}}
	for _, b := range []int64{firstPlain, firstPlain + nextPlain} {
		if b+1 < size {
			rs = append(rs, [2]int64{b - 1, 2}, [2]int64{b, 1}, [2]int64{b - 1, size - b + 1})
		}
	}
	var out [][2]int64
	for _, r := range rs {
		if r[1] > 0 && r[0] >= 0 && r[0]+r[1] <= size {
			out = append(out, r)
		}
	}
	return out
}

// TestOpenRangeRefusesOutside: a range that is empty or leaves the plaintext is refused
// before anything is read, and is not an integrity failure.
func TestOpenRangeRefusesOutside(t *testing.T) {
	s := &storage.Sealer{Store: memstore.New(), Keys: newKeys(t), SegmentSize: testSegment}
	sealed := seal(t, s, "x", nil, plaintext(1, 10000))
	for _, r := range [][2]int64{{0, 0}, {-1, 5}, {9999, 2}, {10000, 1}, {5, -1}} {
		if _, err := s.OpenRange(t.Context(), sealed, nil, r[0], r[1]); err == nil || errors.Is(err, storage.ErrIntegrity) {
			t.Errorf("OpenRange(%d, %d) = %v, want a refusal that is not ErrIntegrity", r[0], r[1], err)
		}
	}
	empty := seal(t, s, "e", nil, nil)
	if got, err := readRange(t, s, empty, nil, 0, 0); err != nil || len(got) != 0 {
		t.Errorf("reading the empty plaintext whole: %d bytes, %v; want none, no error", len(got), err)
	}
}

// TestOpenReadsTinkObjects: objects written by Tink's own AES-GCM-HKDF streaming writer,
// with the parameters of docs/storage.md, read back through Open and OpenRange as Tink's
// own reader reads them.
func TestOpenReadsTinkObjects(t *testing.T) {
	k := newKeys(t)
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: k}
	for i, size := range []int{0, 1, 1<<20 - 56, 1<<20 - 55, 2<<20 - 72, 3<<20 + 12345} {
		aad := []byte(fmt.Sprintf("ev-tink-%d", i))
		dk, err := k.NewDataKey(t.Context(), "nl", aad)
		if err != nil {
			t.Fatal(err)
		}
		aead, err := subtle.NewAESGCMHKDF(dk.Plaintext, "SHA256", 32, 1<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		data := plaintext(uint64(100+i), size)
		var ct bytes.Buffer
		w, _ := aead.NewEncryptingWriter(&ct, aad)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("tink/%d", i)
		info, err := store.Create(t.Context(), name, bytes.NewReader(ct.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		sealed := storage.Sealed{Object: info, PlainSize: int64(size), KeyRef: dk.KeyRef, WrappedKey: dk.Wrapped}
		tr, err := aead.NewDecryptingReader(bytes.NewReader(ct.Bytes()), aad)
		if err != nil {
			t.Fatal(err)
		}
		viaTink, err := io.ReadAll(tr)
		if err != nil || !bytes.Equal(viaTink, data) {
			t.Fatalf("size %d: Tink's reader read %d bytes, %v", size, len(viaTink), err)
		}
		if got, err := readRange(t, s, sealed, aad, 0, int64(size)); err != nil || !bytes.Equal(got, viaTink) {
			t.Errorf("size %d: Open read %d bytes, %v; want what Tink's reader reads", size, len(got), err)
		}
		if size > 2 {
			off := int64(size) - int64(size)/3
			if got, err := readRange(t, s, sealed, aad, off, int64(size)-off); err != nil || !bytes.Equal(got, viaTink[off:]) {
				t.Errorf("size %d: OpenRange from %d read %d bytes, %v; want Tink's from there", size, off, len(got), err)
			}
		}
	}
}

// TestOpenRangeTamper alters one middle segment: ranges that do not touch it read, ranges
// that do fail with ErrIntegrity without returning a byte of it, and the bytes returned
// before the failure are the plaintext's.
func TestOpenRangeTamper(t *testing.T) {
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(9, firstPlain+5*nextPlain)
	aad := []byte("ev-t")
	sealed := seal(t, s, "x", aad, data)
	// Segment 3 holds plaintext [firstPlain+2*nextPlain, firstPlain+3*nextPlain).
	bad := int64(firstPlain + 2*nextPlain)
	if err := store.Corrupt("x", 3*testSegment+100); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off, n int64
		fails  bool
	}{
		{0, bad, false},
		{bad + nextPlain, nextPlain, false},
		{bad, 1, true},
		{bad + nextPlain - 1, 1, true},
		{0, int64(len(data)), true},
		{bad - 10, 20, true},
	}
	for _, tt := range tests {
		p, err := s.OpenRange(t.Context(), sealed, aad, tt.off, tt.n)
		if err != nil {
			t.Fatalf("OpenRange(%d, %d) = %v", tt.off, tt.n, err)
		}
		got, err := io.ReadAll(p)
		p.Close()
		switch {
		case tt.fails && !errors.Is(err, storage.ErrIntegrity):
			t.Errorf("range [%d, +%d) over the altered segment: got error %v, want ErrIntegrity", tt.off, tt.n, err)
		case tt.fails && len(got) > 0 && tt.off+int64(len(got)) > bad:
			t.Errorf("range [%d, +%d): returned bytes up to %d, past the start %d of the altered segment", tt.off, tt.n, tt.off+int64(len(got)), bad)
		case !tt.fails && err != nil:
			t.Errorf("range [%d, +%d) away from the altered segment: %v", tt.off, tt.n, err)
		}
		if !bytes.Equal(got, data[tt.off:tt.off+int64(len(got))]) {
			t.Errorf("range [%d, +%d): the bytes returned are not the plaintext's", tt.off, tt.n)
		}
	}
}

// TestOpenRangeTruncated: an object cut at a segment boundary makes its last complete
// segment look final; the reader, which knows the plaintext size, refuses it.
func TestOpenRangeTruncated(t *testing.T) {
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(10, firstPlain+2*nextPlain+100)
	sealed := seal(t, s, "x", nil, data)
	if err := store.Truncate("x", 3*testSegment); err != nil {
		t.Fatal(err)
	}
	if _, err := readRange(t, s, sealed, nil, int64(len(data))-1, 1); !errors.Is(err, storage.ErrIntegrity) {
		t.Errorf("reading the lost last byte: got %v, want ErrIntegrity", err)
	}
	if got, err := readRange(t, s, sealed, nil, 0, firstPlain+nextPlain); err != nil || !bytes.Equal(got, data[:firstPlain+nextPlain]) {
		t.Errorf("reading the segments still whole: %d bytes, %v", len(got), err)
	}
}

// TestOpenRangeReadsOnlyItsSegments: a range near the end of a large object reads the
// header and its own segment from the store, not what lies before.
func TestOpenRangeReadsOnlyItsSegments(t *testing.T) {
	base := memstore.New()
	rec := &recordingStore{Store: base}
	s := &storage.Sealer{Store: base, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(11, 100*nextPlain)
	sealed := seal(t, s, "x", nil, data)
	s.Store = rec
	if got, err := readRange(t, s, sealed, nil, int64(len(data))-10, 10); err != nil || !bytes.Equal(got, data[len(data)-10:]) {
		t.Fatalf("reading the last 10 bytes: %d bytes, %v", len(got), err)
	}
	if rec.read > 2*testSegment {
		t.Errorf("read %d bytes of the store for 10 bytes of plaintext, want at most the header and one segment", rec.read)
	}
}

// recordingStore counts the bytes its ranges return.
type recordingStore struct {
	storage.Store
	read int64
}

func (r *recordingStore) OpenRange(ctx context.Context, name, version string, off, n int64) (io.ReadCloser, storage.Info, error) {
	rc, info, err := storage.OpenRange(ctx, r.Store, name, version, off, n)
	if err == nil {
		r.read += min(n, info.Size-off)
	}
	return rc, info, err
}

// TestOpenKeyUnavailable: a key manager that cannot unwrap fails OpenRange before the
// store is read.
func TestOpenKeyUnavailable(t *testing.T) {
	base := memstore.New()
	s := &storage.Sealer{Store: base, Keys: newKeys(t)}
	sealed := seal(t, s, "x", []byte("ev"), []byte("content"))
	opened := false
	base.BeforeOpen = func(string) error { opened = true; return nil }
	s.Keys = unavailableKeys{s.Keys}
	if _, err := s.OpenRange(t.Context(), sealed, []byte("ev"), 0, 7); !errors.Is(err, keys.ErrUnavailable) || opened {
		t.Errorf("OpenRange without keys: got %v, store opened %v; want ErrUnavailable before any read", err, opened)
	}
}

type unavailableKeys struct{ keys.DataKeys }

func (unavailableKeys) UnwrapDataKey(context.Context, string, []byte, []byte) ([]byte, error) {
	return nil, keys.ErrUnavailable
}

// TestOpenExtendedObject: bytes appended to a stored object are caught from the size the
// store reports, before any plaintext is returned, even for a range far from the end.
func TestOpenExtendedObject(t *testing.T) {
	dir := t.TempDir()
	store, err := localfs.New(t.Context(), localfs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := &storage.Sealer{Store: store, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(12, 5*testSegment)
	sealed := seal(t, s, "x", nil, data)
	p := filepath.Join(dir, "objects", "x")
	os.Chmod(p, 0o600)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("appended"))
	f.Close()
	for _, r := range [][2]int64{{0, 10}, {0, int64(len(data))}} {
		if _, err := s.OpenRange(t.Context(), sealed, nil, r[0], r[1]); !errors.Is(err, storage.ErrIntegrity) {
			t.Errorf("OpenRange(%d, %d) of an extended object: got %v, want ErrIntegrity", r[0], r[1], err)
		}
	}
}
