package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

const testSegment = 4096 // small, so tests cross many segment boundaries

func newKeys(t testing.TB) *keys.Local {
	t.Helper()
	k, err := keys.OpenLocal(t.TempDir(), "test.example/log")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func plaintext(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 2}).Read(b)
	return b
}

func digest(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

func seal(t *testing.T, s *storage.Sealer, name string, aad, data []byte) storage.Sealed {
	t.Helper()
	sealed, err := s.Seal(t.Context(), name, "nl", aad, digest(data), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Seal(%s, %d bytes) = %v", name, len(data), err)
	}
	return sealed
}

func openAll(s *storage.Sealer, ctx context.Context, sealed storage.Sealed, aad []byte) ([]byte, error) {
	rc, err := s.Open(ctx, sealed, aad)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestSealRoundTrip(t *testing.T) {
	// Sizes around the first segment (shorter by the 40-byte header) and the next.
	const firstPlain = testSegment - 16 - 40
	const plain = testSegment - 16
	sizes := []int{0, 1, firstPlain - 1, firstPlain, firstPlain + 1, firstPlain + plain, firstPlain + plain + 1, 100000}
	for _, segment := range []int{testSegment, 0} {
		s := &storage.Sealer{Store: memstore.New(), Keys: newKeys(t), SegmentSize: segment}
		for i, size := range sizes {
			data := plaintext(uint64(i), size)
			aad := []byte("ev-" + string(rune('a'+i)))
			name := "evidence/" + string(aad) + "/content"
			sealed := seal(t, s, name, aad, data)
			if sealed.PlainSize != int64(size) || sealed.PlainSHA256 != hex.EncodeToString(digest(data)) {
				t.Errorf("segment %d size %d: Sealed plaintext = {%d %s}, want {%d %x}",
					segment, size, sealed.PlainSize, sealed.PlainSHA256, size, digest(data))
			}
			if sealed.KeyRef != keys.LocalKEKRef || len(sealed.WrappedKey) == 0 || sealed.Object.Name != name {
				t.Errorf("segment %d size %d: Sealed = %+v, want key ref %q, a wrapped key and object %s",
					segment, size, sealed, keys.LocalKEKRef, name)
			}
			if err := s.Verify(t.Context(), sealed); err != nil {
				t.Errorf("segment %d size %d: Verify = %v", segment, size, err)
			}
			got, err := openAll(s, t.Context(), sealed, aad)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("segment %d size %d: Open read %d bytes, %v; want %d bytes back", segment, size, len(got), err, size)
			}
		}
	}
}

func TestSealCiphertextIsNotPlaintext(t *testing.T) {
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: newKeys(t)}
	data := bytes.Repeat([]byte("evidence "), 1000)
	sealed := seal(t, s, "x", []byte("ev-1"), data)
	rc, _, err := store.Open(t.Context(), "x", "")
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := io.ReadAll(rc)
	if bytes.Contains(ct, []byte("evidence evidence")) {
		t.Errorf("stored object contains the plaintext")
	}
	if want := int64(len(data)) + 40 + 16; sealed.Object.Size != want || int64(len(ct)) != want {
		t.Errorf("ciphertext size = %d (Info %d), want %d (plaintext + 40-byte header + one 16-byte tag)", len(ct), sealed.Object.Size, want)
	}
}

func TestSealDigestMismatch(t *testing.T) {
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(1, 50000)
	wrong := digest(append(bytes.Clone(data), 0))
	_, err := s.Seal(t.Context(), "x", "", []byte("ev-1"), wrong, bytes.NewReader(data))
	if !errors.Is(err, storage.ErrDigestMismatch) {
		t.Errorf("Seal with a wrong declared digest: got error %v, want ErrDigestMismatch", err)
	}
	if names, _ := store.List(t.Context(), ""); len(names) != 0 {
		t.Errorf("after a digest mismatch the store holds %q, want nothing", names)
	}
	if _, err := s.Seal(t.Context(), "x", "", []byte("ev-1"), digest(data)[:16], bytes.NewReader(data)); err == nil {
		t.Errorf("Seal with a 16-byte declared digest succeeded, want an error")
	}
}

var errTruncated = errors.New("client went away")

type failingReader struct {
	r io.Reader
	n int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errTruncated
	}
	n, err := f.r.Read(p[:min(int64(len(p)), f.n)])
	f.n -= int64(n)
	return n, err
}

func TestSealFailedInput(t *testing.T) {
	for _, newStore := range []struct {
		name string
		new  func(t *testing.T) storage.Store
	}{
		{"memstore", func(t *testing.T) storage.Store { return memstore.New() }},
		{"localfs", func(t *testing.T) storage.Store {
			s, err := localfs.New(t.Context(), localfs.Config{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	} {
		t.Run(newStore.name, func(t *testing.T) {
			store := newStore.new(t)
			s := &storage.Sealer{Store: store, Keys: newKeys(t), SegmentSize: testSegment}
			data := plaintext(2, 3<<20)
			for _, cut := range []int64{0, 10, 1 << 20, 2<<20 + 5} {
				_, err := s.Seal(t.Context(), "x", "", []byte("ev"), digest(data), &failingReader{bytes.NewReader(data), cut})
				if !errors.Is(err, errTruncated) {
					t.Errorf("Seal of a body failing after %d bytes: got error %v, want one wrapping %v", cut, err, errTruncated)
				}
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := s.Seal(ctx, "x", "", []byte("ev"), digest(data), bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
				t.Errorf("Seal with a cancelled context: got error %v, want context.Canceled", err)
			}
			if names, _ := store.List(t.Context(), ""); len(names) != 0 {
				t.Errorf("after failed Seals the store holds %q, want nothing", names)
			}
			seal(t, s, "x", []byte("ev"), data)
		})
	}
}

func TestSealStoreFailure(t *testing.T) {
	errFault := errors.New("disk full")
	store := memstore.New()
	store.BeforeCreate = func(string) error { return errFault }
	s := &storage.Sealer{Store: store, Keys: newKeys(t)}
	data := plaintext(3, 5<<20)
	if _, err := s.Seal(t.Context(), "x", "", nil, digest(data), bytes.NewReader(data)); !errors.Is(err, errFault) {
		t.Errorf("Seal into a failing store: got error %v, want %v", err, errFault)
	}
	store.BeforeCreate = nil
	sealed := seal(t, s, "x", nil, data)
	if _, err := s.Seal(t.Context(), "x", "", nil, digest(data), bytes.NewReader(data)); !errors.Is(err, storage.ErrExists) {
		t.Errorf("Seal under a taken name: got error %v, want ErrExists", err)
	}
	if err := s.Verify(t.Context(), sealed); err != nil {
		t.Errorf("Verify of the first object after a refused second Seal = %v", err)
	}
}

// keepingStore breaks the Store contract: it keeps an object even when the reader it
// was given failed.
type keepingStore struct{ storage.Store }

func (k keepingStore) Create(ctx context.Context, name string, r io.Reader) (storage.Info, error) {
	b, _ := io.ReadAll(r)
	return k.Store.Create(ctx, name, bytes.NewReader(b))
}

// TestSealStoreKeptFailedInput: a store that keeps an object from a failed reader does
// not make Seal succeed, and the error says the store broke its contract.
func TestSealStoreKeptFailedInput(t *testing.T) {
	s := &storage.Sealer{Store: keepingStore{memstore.New()}, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(5, 100000)
	_, err := s.Seal(t.Context(), "x", "", []byte("ev"), digest(data), &failingReader{bytes.NewReader(data), 50000})
	if want := "sealing x: store kept object mem:///x despite failed input: "; !errors.Is(err, errTruncated) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Seal into a store that keeps a failed input: got %v, want an error wrapping %v starting %q", err, errTruncated, want)
	}
	// The input is whole but not what was declared: the store keeps it, Seal fails.
	wrong := digest(append(bytes.Clone(data), 0))
	if _, err := s.Seal(t.Context(), "y", "", []byte("ev"), wrong, bytes.NewReader(data)); !errors.Is(err, storage.ErrDigestMismatch) {
		t.Errorf("Seal of a body that is not the declared digest, into a store that keeps it: got %v, want ErrDigestMismatch", err)
	}
}

// shortStore breaks the Store contract: it keeps the first bytes of an object and
// reports success without reading the rest.
type shortStore struct{ storage.Store }

func (s shortStore) Create(ctx context.Context, name string, r io.Reader) (storage.Info, error) {
	return s.Store.Create(ctx, name, io.LimitReader(r, 1000))
}

// TestSealStoreStoppedReading: a store that reports success after reading part of the
// ciphertext does not make Seal succeed.
func TestSealStoreStoppedReading(t *testing.T) {
	s := &storage.Sealer{Store: shortStore{memstore.New()}, Keys: newKeys(t)}
	data := plaintext(6, 8<<20) // more than the pipeline holds
	_, err := s.Seal(t.Context(), "x", "", []byte("ev"), digest(data), bytes.NewReader(data))
	if want := "sealing x: encrypting: object store stopped reading the ciphertext"; err == nil || err.Error() != want {
		t.Errorf("Seal into a store that stops reading: got %v, want %q", err, want)
	}
}

func TestTamper(t *testing.T) {
	data := plaintext(4, 20000)
	aad := []byte("ev-1")
	tests := []struct {
		name   string
		tamper func(*memstore.Store, storage.Sealed) error
	}{
		{"header length", func(m *memstore.Store, s storage.Sealed) error { return m.Corrupt("x", 0) }},
		{"salt", func(m *memstore.Store, s storage.Sealed) error { return m.Corrupt("x", 5) }},
		{"first segment", func(m *memstore.Store, s storage.Sealed) error { return m.Corrupt("x", 100) }},
		{"middle segment", func(m *memstore.Store, s storage.Sealed) error { return m.Corrupt("x", 3*testSegment+7) }},
		{"last tag", func(m *memstore.Store, s storage.Sealed) error { return m.Corrupt("x", s.Object.Size-1) }},
		{"truncated at segment boundary", func(m *memstore.Store, s storage.Sealed) error { return m.Truncate("x", 2*testSegment) }},
		{"truncated mid segment", func(m *memstore.Store, s storage.Sealed) error { return m.Truncate("x", s.Object.Size-100) }},
		{"emptied", func(m *memstore.Store, s storage.Sealed) error { return m.Truncate("x", 0) }},
	}
	for _, tt := range tests {
		store := memstore.New()
		s := &storage.Sealer{Store: store, Keys: newKeys(t), SegmentSize: testSegment}
		sealed := seal(t, s, "x", aad, data)
		if err := tt.tamper(store, sealed); err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(t.Context(), sealed); !errors.Is(err, storage.ErrIntegrity) {
			t.Errorf("%s: Verify = %v, want ErrIntegrity", tt.name, err)
		}
		if _, err := openAll(s, t.Context(), sealed, aad); !errors.Is(err, storage.ErrIntegrity) {
			t.Errorf("%s: reading Open = %v, want ErrIntegrity", tt.name, err)
		}
	}
}

func TestSwappedObject(t *testing.T) {
	// A different, valid ciphertext under the recorded name fails the digest check.
	k := newKeys(t)
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: k}
	data := plaintext(5, 1000)
	sealed := seal(t, s, "a", []byte("ev"), data)
	other := seal(t, s, "b", []byte("ev"), data)
	swapped := sealed
	swapped.Object = other.Object
	swapped.Object.Name = "a"
	if err := s.Verify(t.Context(), swapped); !errors.Is(err, storage.ErrIntegrity) {
		t.Errorf("Verify against another object's digest = %v, want ErrIntegrity", err)
	}
}

func TestOpenWrongAAD(t *testing.T) {
	s := &storage.Sealer{Store: memstore.New(), Keys: newKeys(t)}
	sealed := seal(t, s, "x", []byte("ev-1"), []byte("content"))
	if _, err := openAll(s, t.Context(), sealed, []byte("ev-2")); !errors.Is(err, keys.ErrUnwrap) {
		t.Errorf("Open with other aad: got error %v, want keys.ErrUnwrap", err)
	}
	missing := sealed
	missing.Object.Name = "y"
	if _, err := openAll(s, t.Context(), missing, []byte("ev-1")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open of a missing object: got error %v, want ErrNotFound", err)
	}
	if err := s.Verify(t.Context(), missing); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Verify of a missing object: got error %v, want ErrNotFound", err)
	}
}

func TestOpenStoreReadError(t *testing.T) {
	// A read error of the store is reported as such, not as tampering.
	errDisk := errors.New("i/o error")
	base := memstore.New()
	s := &storage.Sealer{Store: base, Keys: newKeys(t), SegmentSize: testSegment}
	data := plaintext(6, 50000)
	sealed := seal(t, s, "x", nil, data)
	s.Store = failingOpenStore{base, errDisk}
	_, err := openAll(s, t.Context(), sealed, nil)
	if !errors.Is(err, errDisk) || errors.Is(err, storage.ErrIntegrity) {
		t.Errorf("Open over a failing disk: got error %v, want %v and not ErrIntegrity", err, errDisk)
	}
}

type failingOpenStore struct {
	storage.Store
	err error
}

func (f failingOpenStore) Open(ctx context.Context, name, version string) (io.ReadCloser, storage.Info, error) {
	rc, info, err := f.Store.Open(ctx, name, version)
	if err != nil {
		return nil, info, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, 10000), errReader{f.err}), rc}, info, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestSealLocalfsRoundTrip(t *testing.T) {
	store, err := localfs.New(t.Context(), localfs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := &storage.Sealer{Store: store, Keys: newKeys(t)}
	data := plaintext(7, 3<<20+17)
	sealed := seal(t, s, "evidence/ev-1/content", []byte("ev-1"), data)
	if err := s.Verify(t.Context(), sealed); err != nil {
		t.Errorf("Verify = %v", err)
	}
	got, err := openAll(s, t.Context(), sealed, []byte("ev-1"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Open read %d bytes, %v; want %d bytes back", len(got), err, len(data))
	}
}

// FuzzOpen feeds altered ciphertext to Open: it must return the original plaintext
// or an error wrapping ErrIntegrity, never other plaintext and never panic.
func FuzzOpen(f *testing.F) {
	k, err := keys.OpenLocal(f.TempDir(), "fuzz.example/log")
	if err != nil {
		f.Fatal(err)
	}
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: k, SegmentSize: 128}
	data := plaintext(8, 1000)
	aad := []byte("ev-fuzz")
	sealed, err := s.Seal(context.Background(), "orig", "", aad, digest(data), bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	rc, _, _ := store.Open(context.Background(), "orig", "")
	ct, _ := io.ReadAll(rc)
	f.Add(ct)
	f.Add(ct[:100])
	f.Add(append(bytes.Clone(ct), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, mutated []byte) {
		m := memstore.New()
		info, err := m.Create(t.Context(), "x", bytes.NewReader(mutated))
		if err != nil {
			t.Fatal(err)
		}
		fs := &storage.Sealer{Store: m, Keys: k, SegmentSize: 128}
		// Record the mutated bytes' digest, so only authentication can catch them.
		sl := sealed
		sl.Object = info
		got, err := openAll(fs, t.Context(), sl, aad)
		switch {
		case err == nil && !bytes.Equal(got, data):
			t.Fatalf("Open returned %d bytes of other plaintext without error", len(got))
		case err != nil && !errors.Is(err, storage.ErrIntegrity):
			t.Fatalf("Open of altered ciphertext = %v, want ErrIntegrity", err)
		}
	})
}
