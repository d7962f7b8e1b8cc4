package storetest

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/google/go-cmp/cmp"
)

// ResumableStore is a store that also keeps uploads in progress and scratch records.
type ResumableStore interface {
	storage.Store
	storage.Uploader
	storage.Scratch
}

// partSize is the size of the parts of the suite's uploads: S3's smallest part.
const partSize = 5 << 20

// RunUploads runs the conformance suite of storage.Uploader and storage.Scratch.
// newStore returns a new, empty store for each subtest.
func RunUploads(t *testing.T, newStore func(t *testing.T) ResumableStore) {
	tests := []struct {
		name string
		f    func(*testing.T, ResumableStore)
	}{
		{"UploadRoundTrip", testUploadRoundTrip},
		{"UploadRewritePart", testUploadRewritePart},
		{"UploadFailedPart", testUploadFailedPart},
		{"UploadCompleteTaken", testUploadCompleteTaken},
		{"UploadAbort", testUploadAbort},
		{"Records", testRecords},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, newStore(t)) })
	}
}

// putParts begins an upload of name and stores data in parts of partSize bytes.
func putParts(t *testing.T, s ResumableStore, name string, data []byte) (string, []storage.Part) {
	t.Helper()
	id, err := s.BeginUpload(t.Context(), name)
	if err != nil {
		t.Fatalf("BeginUpload(%q) = %v", name, err)
	}
	var parts []storage.Part
	for off := 0; off < len(data) || len(parts) == 0; off += partSize {
		end := min(off+partSize, len(data))
		p := storage.Part{Number: len(parts) + 1, Offset: int64(off), Size: int64(end - off)}
		got, err := s.PutPart(t.Context(), name, id, p, bytes.NewReader(data[off:end]))
		if err != nil {
			t.Fatalf("PutPart(%d) = %v", p.Number, err)
		}
		if got.Number != p.Number || got.Offset != p.Offset || got.Size != p.Size {
			t.Fatalf("PutPart(%+v) = %+v, want the same number, offset and size", p, got)
		}
		parts = append(parts, got)
	}
	return id, parts
}

func testUploadRoundTrip(t *testing.T, s ResumableStore) {
	name := "content/NL/ev-1/sealed"
	data := content(7, 2*partSize+1234)
	id, parts := putParts(t, s, name, data)
	assertAbsent(t, s, name) // not an object before its completion
	info, err := s.CompleteUpload(t.Context(), name, id, parts)
	if err != nil {
		t.Fatalf("CompleteUpload = %v", err)
	}
	if info.Name != name || info.Size != int64(len(data)) || info.Location == "" {
		t.Errorf("CompleteUpload Info = {Name %q Size %d Location %q}, want {%q %d non-empty}", info.Name, info.Size, info.Location, name, len(data))
	}
	got, _ := readAll(t, s, name)
	if !bytes.Equal(got, data) {
		t.Errorf("completed object has %d bytes (sha256 %s), want %d (sha256 %s)", len(got), hexSHA256(got), len(data), hexSHA256(data))
	}
	if _, err := s.CompleteUpload(t.Context(), name, id, parts); !errors.Is(err, storage.ErrUploadNotFound) && !errors.Is(err, storage.ErrExists) {
		t.Errorf("second CompleteUpload = %v, want ErrUploadNotFound or ErrExists", err)
	}
	if got, _ := readAll(t, s, name); !bytes.Equal(got, data) {
		t.Errorf("object changed by a second completion")
	}
}

func testUploadRewritePart(t *testing.T, s ResumableStore) {
	name := "content/NL/ev-2/sealed"
	data := content(8, 2*partSize+10)
	id, err := s.BeginUpload(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	put := func(n int, off, size int, b []byte) storage.Part {
		t.Helper()
		p, err := s.PutPart(t.Context(), name, id, storage.Part{Number: n, Offset: int64(off), Size: int64(size)}, bytes.NewReader(b))
		if err != nil {
			t.Fatalf("PutPart(%d) = %v", n, err)
		}
		return p
	}
	p1 := put(1, 0, partSize, data[:partSize])
	put(2, partSize, partSize, content(99, partSize)) // wrong bytes, then
	put(3, 2*partSize, 10, content(98, 10))           // a part after them,
	p2 := put(2, partSize, partSize, data[partSize:2*partSize])
	p3 := put(3, 2*partSize, 10, data[2*partSize:]) // both written again
	if _, err := s.CompleteUpload(t.Context(), name, id, []storage.Part{p1, p2, p3}); err != nil {
		t.Fatalf("CompleteUpload = %v", err)
	}
	if got, _ := readAll(t, s, name); !bytes.Equal(got, data) {
		t.Errorf("object after rewritten parts has sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
}

func testUploadFailedPart(t *testing.T, s ResumableStore) {
	name := "content/NL/ev-3/sealed"
	data := content(9, partSize+5)
	id, err := s.BeginUpload(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection cut")
	p1 := storage.Part{Number: 1, Size: partSize}
	_, err = s.PutPart(t.Context(), name, id, p1, io.MultiReader(bytes.NewReader(data[:1000]), iotestErr{boom}))
	if !errors.Is(err, boom) {
		t.Errorf("PutPart from a failing reader = %v, want it to wrap the reader's error", err)
	}
	_, err = s.PutPart(t.Context(), name, id, p1, bytes.NewReader(data[:1000]))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("PutPart from a short reader = %v, want io.ErrUnexpectedEOF", err)
	}
	got1, err := s.PutPart(t.Context(), name, id, p1, bytes.NewReader(data[:partSize]))
	if err != nil {
		t.Fatal(err)
	}
	got2, err := s.PutPart(t.Context(), name, id, storage.Part{Number: 2, Offset: partSize, Size: 5}, bytes.NewReader(data[partSize:]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteUpload(t.Context(), name, id, []storage.Part{got1, got2}); err != nil {
		t.Fatalf("CompleteUpload = %v", err)
	}
	if got, _ := readAll(t, s, name); !bytes.Equal(got, data) {
		t.Errorf("object after a failed part has sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func testUploadCompleteTaken(t *testing.T, s ResumableStore) {
	name := "content/NL/ev-4/sealed"
	first := content(10, 100)
	create(t, s, name, first)
	id, parts := putParts(t, s, name, content(11, 100))
	if _, err := s.CompleteUpload(t.Context(), name, id, parts); !errors.Is(err, storage.ErrExists) {
		t.Errorf("CompleteUpload over an existing object = %v, want ErrExists", err)
	}
	if got, _ := readAll(t, s, name); !bytes.Equal(got, first) {
		t.Errorf("existing object changed by a refused completion")
	}
	if err := s.AbortUpload(t.Context(), name, id); err != nil {
		t.Errorf("AbortUpload after a refused completion = %v", err)
	}
}

func testUploadAbort(t *testing.T, s ResumableStore) {
	name := "content/NL/ev-5/sealed"
	id, parts := putParts(t, s, name, content(12, 1000))
	for range 2 {
		if err := s.AbortUpload(t.Context(), name, id); err != nil {
			t.Fatalf("AbortUpload = %v, want success (also the second time)", err)
		}
	}
	if _, err := s.CompleteUpload(t.Context(), name, id, parts); !errors.Is(err, storage.ErrUploadNotFound) {
		t.Errorf("CompleteUpload after AbortUpload = %v, want ErrUploadNotFound", err)
	}
	if _, err := s.PutPart(t.Context(), name, id, parts[0], bytes.NewReader(content(12, 1000))); !errors.Is(err, storage.ErrUploadNotFound) {
		t.Errorf("PutPart after AbortUpload = %v, want ErrUploadNotFound", err)
	}
	assertAbsent(t, s, name)
}

func testRecords(t *testing.T, s ResumableStore) {
	ctx := t.Context()
	if _, err := s.GetRecord(ctx, "uploads/NL/a/session.json"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetRecord of a missing record = %v, want ErrNotFound", err)
	}
	for _, r := range []struct{ name, data string }{
		{"uploads/NL/a/session.json", "one"},
		{"uploads/NL/a/parts/000001.json", "p1"},
		{"uploads/NL/b/session.json", "two"},
		{"uploads/NL/a/session.json", "one, replaced"},
	} {
		if err := s.PutRecord(ctx, r.name, []byte(r.data)); err != nil {
			t.Fatalf("PutRecord(%q) = %v", r.name, err)
		}
	}
	if got, err := s.GetRecord(ctx, "uploads/NL/a/session.json"); err != nil || string(got) != "one, replaced" {
		t.Errorf("GetRecord after replacing = %q, %v, want %q", got, err, "one, replaced")
	}
	names, err := s.ListRecords(ctx, "uploads/NL/a/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"uploads/NL/a/parts/000001.json", "uploads/NL/a/session.json"}, names); diff != "" {
		t.Errorf("ListRecords (-want +got):\n%s", diff)
	}
	if objects, err := s.List(ctx, ""); err != nil || len(objects) != 0 {
		t.Errorf("List of objects = %q, %v, want no records among the objects", objects, err)
	}
	for _, n := range names {
		if err := s.DeleteRecord(ctx, n); err != nil {
			t.Fatalf("DeleteRecord(%q) = %v", n, err)
		}
	}
	if err := s.DeleteRecord(ctx, "uploads/NL/a/session.json"); err != nil {
		t.Errorf("DeleteRecord of a deleted record = %v, want success", err)
	}
	if left, err := s.ListRecords(ctx, "uploads/"); err != nil || !slices.Equal(left, []string{"uploads/NL/b/session.json"}) {
		t.Errorf("ListRecords after deleting = %q, %v, want only uploads/NL/b/session.json", left, err)
	}
	if err := s.PutRecord(ctx, "uploads/big", make([]byte, storage.MaxRecordSize+1)); err == nil {
		t.Errorf("PutRecord of %d bytes = nil, want a refusal", storage.MaxRecordSize+1)
	}
}
