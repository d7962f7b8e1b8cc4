package storage_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// sealInParts writes data as a sealed object in parts of segsPerPart segments, each
// part by a new PartSealer from a state that went through JSON (as across a restart),
// and returns the object's record.
func sealInParts(t *testing.T, s *storage.Sealer, store *memstore.Store, name string, aad, data []byte, segsPerPart uint32) storage.Sealed {
	t.Helper()
	ctx := t.Context()
	sg, err := s.BeginSealing(ctx, "nl", aad)
	if err != nil {
		t.Fatal(err)
	}
	id, err := store.BeginUpload(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var st storage.SealState
	var parts []storage.Part
	src := bytes.NewReader(data)
	for !st.Final {
		ps, err := s.ResumeSealing(ctx, sg, aad)
		if err != nil {
			t.Fatal(err)
		}
		plain := ps.PlainForSegments(st, segsPerPart)
		final := st.PlainSize+plain >= int64(len(data))
		if final {
			plain = int64(len(data)) - st.PlainSize
		}
		var buf bytes.Buffer
		next, err := ps.SealPart(&buf, src, st, plain, final)
		if err != nil {
			t.Fatalf("SealPart at %d (%d bytes, final %v) = %v", st.PlainSize, plain, final, err)
		}
		if got, want := int64(buf.Len()), ps.CipherSize(st, plain, final); got != want {
			t.Errorf("SealPart wrote %d bytes, CipherSize said %d", got, want)
		}
		p := storage.Part{Number: len(parts) + 1, Offset: st.CipherSize, Size: int64(buf.Len())}
		if p, err = store.PutPart(ctx, name, id, p, &buf); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
		b, _ := json.Marshal(next)
		st = storage.SealState{}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
	}
	info, err := store.CompleteUpload(ctx, name, id, parts)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := storage.SealedParts(sg, st, info)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func TestSealInPartsReadsAsSeal(t *testing.T) {
	k := newKeys(t)
	store := memstore.New()
	s := &storage.Sealer{Store: store, Keys: k, SegmentSize: testSegment}
	first, other := testSegment-40-16, testSegment-16
	for i, size := range []int{0, 1, first - 1, first, first + 1, first + other, first + 3*other + 100, 20 * testSegment} {
		for _, perPart := range []uint32{1, 3} {
			data := plaintext(uint64(i), size)
			aad := []byte("ev-parts")
			name := "content/nl/ev-" + string(rune('a'+i)) + string(rune('0'+perPart)) + "/sealed"
			sealed := sealInParts(t, s, store, name, aad, data, perPart)
			if want := hex.EncodeToString(digest(data)); sealed.PlainSHA256 != want || sealed.PlainSize != int64(size) {
				t.Errorf("%d bytes in parts of %d: record has plaintext %s (%d bytes), want %s (%d)", size, perPart, sealed.PlainSHA256, sealed.PlainSize, want, size)
			}
			if err := s.Verify(t.Context(), sealed); err != nil {
				t.Errorf("%d bytes in parts of %d: Verify = %v", size, perPart, err)
			}
			got, err := openAll(s, t.Context(), sealed, aad)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%d bytes in parts of %d: Open read %d bytes, %v; want the %d bytes sealed", size, perPart, len(got), err, size)
			}
			// The size is the one Seal makes for the same plaintext.
			whole := seal(t, s, name+"-whole", aad, data)
			if whole.Object.Size != sealed.Object.Size {
				t.Errorf("%d bytes: sealed in parts %d bytes, by Seal %d", size, sealed.Object.Size, whole.Object.Size)
			}
		}
	}
}

func TestSealPartShortInputKeepsState(t *testing.T) {
	k := newKeys(t)
	s := &storage.Sealer{Store: memstore.New(), Keys: k, SegmentSize: testSegment}
	sg, err := s.BeginSealing(t.Context(), "nl", []byte("ev"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.ResumeSealing(t.Context(), sg, []byte("ev"))
	if err != nil {
		t.Fatal(err)
	}
	var st storage.SealState
	plain := ps.PlainForSegments(st, 2)
	got, err := ps.SealPart(io.Discard, bytes.NewReader(make([]byte, plain-1)), st, plain, false)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("SealPart from a short input = %v, want io.ErrUnexpectedEOF", err)
	}
	if got.Segments != 0 || got.PlainSize != 0 || got.PlainHash != nil {
		t.Errorf("SealPart from a short input moved the state to %+v", got)
	}
	if _, err := ps.SealPart(io.Discard, bytes.NewReader(make([]byte, 10)), st, 10, false); err == nil {
		t.Errorf("SealPart of a part that is not final and ends inside a segment = nil, want an error")
	}
	if _, err := s.ResumeSealing(t.Context(), sg, []byte("other aad")); err == nil {
		t.Errorf("ResumeSealing with another aad = nil, want the data key's unwrap to fail")
	}
}
