// Package storetest is the conformance suite every storage.Store implementation runs
// from its own tests (it imports storage and the testing package only):
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storage.Store { return newTestStore(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/google/go-cmp/cmp"
)

// Run runs the conformance suite. newStore returns a new, empty store for each
// subtest; it registers its own cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		f    func(*testing.T, storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"RecreateIdentical", testRecreateIdentical},
		{"RecreateDifferent", testRecreateDifferent},
		{"FailedReader", testFailedReader},
		{"CancelledContext", testCancelledContext},
		{"OpenMissing", testOpenMissing},
		{"OpenRange", testOpenRange},
		{"ListPrefix", testListPrefix},
		{"Modified", testModified},
		{"InvalidNames", testInvalidNames},
		{"NameConflicts", testNameConflicts},
		{"ConcurrentCreateDifferent", testConcurrentCreateDifferent},
		{"ConcurrentCreateIdentical", testConcurrentCreateIdentical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, newStore(t)) })
	}
}

// content returns n deterministic pseudo-random bytes, different for each seed.
func content(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 1})
	b := make([]byte, n)
	r.Read(b)
	return b
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// create is Create that fails the test on error.
func create(t *testing.T, s storage.Store, name string, data []byte) storage.Info {
	t.Helper()
	info, err := s.Create(t.Context(), name, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Create(%q) = %v, want success", name, err)
	}
	return info
}

// readAll opens name and returns its bytes, failing the test on error.
func readAll(t *testing.T, s storage.Store, name string) ([]byte, storage.Info) {
	t.Helper()
	rc, info, err := s.Open(t.Context(), name, "")
	if err != nil {
		t.Fatalf("Open(%q) = %v, want success", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", name, err)
	}
	return b, info
}

// assertAbsent checks that name cannot be opened and is not listed.
func assertAbsent(t *testing.T, s storage.Store, name string) {
	t.Helper()
	if rc, _, err := s.Open(t.Context(), name, ""); !errors.Is(err, storage.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open(%q) after failed Create: got error %v, want ErrNotFound", name, err)
	}
	names, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, n := range names {
		if n == name {
			t.Errorf("List after failed Create: got %q listed, want it absent", name)
		}
	}
}

func testRoundTrip(t *testing.T, s storage.Store) {
	for i, size := range []int{0, 1, 4096, 1<<20 + 3} {
		name := fmt.Sprintf("evidence/ev-%d/content", i)
		data := content(uint64(i), size)
		info := create(t, s, name, data)
		if info.Name != name || info.Size != int64(size) || info.SHA256 != hexSHA256(data) {
			t.Errorf("Create(%q) Info = {Name %q Size %d SHA256 %s}, want {%q %d %s}",
				name, info.Name, info.Size, info.SHA256, name, size, hexSHA256(data))
		}
		if info.Location == "" {
			t.Errorf("Create(%q) Info.Location is empty", name)
		}
		got, oinfo := readAll(t, s, name)
		if !bytes.Equal(got, data) {
			t.Errorf("Open(%q) read %d bytes (sha256 %s), want %d bytes (sha256 %s)",
				name, len(got), hexSHA256(got), size, hexSHA256(data))
		}
		if oinfo.Name != name || oinfo.Size != int64(size) || oinfo.Location != info.Location {
			t.Errorf("Open(%q) Info = {Name %q Size %d Location %q}, want {%q %d %q}",
				name, oinfo.Name, oinfo.Size, oinfo.Location, name, size, info.Location)
		}
		if oinfo.SHA256 != "" && oinfo.SHA256 != info.SHA256 {
			t.Errorf("Open(%q) Info.SHA256 = %s, want %s or empty", name, oinfo.SHA256, info.SHA256)
		}
	}
}

func testRecreateIdentical(t *testing.T, s storage.Store) {
	data := content(1, 10000)
	first := create(t, s, "a/b", data)
	second := create(t, s, "a/b", data)
	if second.SHA256 != first.SHA256 || second.Size != first.Size {
		t.Errorf("second Create Info = {Size %d SHA256 %s}, want {%d %s}", second.Size, second.SHA256, first.Size, first.SHA256)
	}
	if got, _ := readAll(t, s, "a/b"); !bytes.Equal(got, data) {
		t.Errorf("after identical re-create: got sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
}

func testRecreateDifferent(t *testing.T, s storage.Store) {
	data := content(1, 10000)
	create(t, s, "a/b", data)
	for _, other := range [][]byte{content(2, 10000), content(1, 9999), {}} {
		_, err := s.Create(t.Context(), "a/b", bytes.NewReader(other))
		if !errors.Is(err, storage.ErrExists) {
			t.Errorf("Create with %d other bytes: got error %v, want ErrExists", len(other), err)
		}
	}
	if got, _ := readAll(t, s, "a/b"); !bytes.Equal(got, data) {
		t.Errorf("after conflicting Create: got sha256 %s, want the original %s", hexSHA256(got), hexSHA256(data))
	}
}

var errBoom = errors.New("reader failed on purpose")

// failingReader returns n bytes of data, then errBoom.
type failingReader struct {
	data []byte
	n    int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errBoom
	}
	k := copy(p[:min(len(p), r.n)], r.data)
	r.data, r.n = r.data[k:], r.n-k
	return k, nil
}

func testFailedReader(t *testing.T, s storage.Store) {
	data := content(3, 3<<20)
	for _, n := range []int{0, 100, 2 << 20} {
		_, err := s.Create(t.Context(), "failed/x", &failingReader{data: data, n: n})
		if !errors.Is(err, errBoom) {
			t.Errorf("Create with a reader failing after %d bytes: got error %v, want one wrapping %v", n, err, errBoom)
		}
		assertAbsent(t, s, "failed/x")
	}
	// Nothing left behind blocks a good upload under the same name.
	create(t, s, "failed/x", data)
}

// cancellingReader cancels its context after the first read, and keeps giving data.
type cancellingReader struct {
	cancel context.CancelFunc
	r      io.Reader
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func testCancelledContext(t *testing.T, s storage.Store) {
	data := content(4, 3<<20)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Create(ctx, "cancelled/before", bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled context: got error %v, want context.Canceled", err)
	}
	assertAbsent(t, s, "cancelled/before")

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	r := &cancellingReader{cancel: cancel, r: bytes.NewReader(data)}
	if _, err := s.Create(ctx, "cancelled/midway", r); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a context cancelled midway: got error %v, want context.Canceled", err)
	}
	assertAbsent(t, s, "cancelled/midway")
}

func testOpenMissing(t *testing.T, s storage.Store) {
	create(t, s, "present/x", []byte("x"))
	for _, name := range []string{"absent", "present/y", "present", "present/x/deeper"} {
		rc, _, err := s.Open(t.Context(), name, "")
		if !errors.Is(err, storage.ErrNotFound) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(%q): got error %v, want ErrNotFound", name, err)
		}
	}
}

// testOpenRange reads parts of an object through storage.OpenRange: the store's own
// RangeOpener where it has one, else the fallback over Open.
func testOpenRange(t *testing.T, s storage.Store) {
	const size = 100000
	data := content(7, size)
	create(t, s, "ranged/x", data)
	tests := []struct{ off, n, want int64 }{
		{0, 1, 1}, {0, size, size}, {5, 100, 100}, {size - 1, 1, 1}, {40000, 50000, 50000},
		{size - 10, 100, 10}, // past the end: what there is
		{size, 5, 0}, {size + 1000, 5, 0}, {10, 0, 0},
	}
	for _, tt := range tests {
		rc, info, err := storage.OpenRange(t.Context(), s, "ranged/x", "", tt.off, tt.n)
		if err != nil {
			t.Errorf("OpenRange(%d, %d) = %v, want success", tt.off, tt.n, err)
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Errorf("reading OpenRange(%d, %d): %v", tt.off, tt.n, err)
		}
		want := data[min(tt.off, size):][:tt.want]
		if !bytes.Equal(got, want) {
			t.Errorf("OpenRange(%d, %d) read %d bytes, want the %d bytes from %d", tt.off, tt.n, len(got), tt.want, tt.off)
		}
		if info.Size != size || info.Name != "ranged/x" {
			t.Errorf("OpenRange(%d, %d) Info = {Name %q Size %d}, want {ranged/x %d}", tt.off, tt.n, info.Name, info.Size, size)
		}
	}
	if _, _, err := storage.OpenRange(t.Context(), s, "ranged/absent", "", 0, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("OpenRange of a missing object: got error %v, want ErrNotFound", err)
	}
	if _, _, err := storage.OpenRange(t.Context(), s, "ranged/x", "", -1, 10); err == nil {
		t.Error("OpenRange at a negative offset succeeded, want an error")
	}
}

func testListPrefix(t *testing.T, s storage.Store) {
	all := []string{"b", "a/c", "ab", "a/b/2", "a/b/1", "a-z", "a/bc"}
	for i, name := range all {
		create(t, s, name, content(uint64(i), 10))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-z", "a/b/1", "a/b/2", "a/bc", "a/c", "ab", "b"}},
		{"a", []string{"a-z", "a/b/1", "a/b/2", "a/bc", "a/c", "ab"}},
		{"a/", []string{"a/b/1", "a/b/2", "a/bc", "a/c"}},
		{"a/b", []string{"a/b/1", "a/b/2", "a/bc"}},
		{"a/b/", []string{"a/b/1", "a/b/2"}},
		{"a/b/1", []string{"a/b/1"}},
		{"zz", nil},
		{"zz/", nil},
		{"b/", nil},
		{"../", nil},
	}
	for _, tt := range tests {
		got, err := s.List(t.Context(), tt.prefix)
		if err != nil {
			t.Errorf("List(%q) = %v", tt.prefix, err)
			continue
		}
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("List(%q) mismatch (-want +got):\n%s", tt.prefix, diff)
		}
	}
}

func testInvalidNames(t *testing.T, s storage.Store) {
	for _, name := range []string{"", "/abs", "../escape", "a/../../b", "a//b", "a/", `a\b`, "a b", ".", "a/./b", "a\x00"} {
		if _, err := s.Create(t.Context(), name, bytes.NewReader([]byte("x"))); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Create(%q): got error %v, want ErrInvalidName", name, err)
		}
		rc, _, err := s.Open(t.Context(), name, "")
		if !errors.Is(err, storage.ErrInvalidName) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(%q): got error %v, want ErrInvalidName", name, err)
		}
	}
	if names, err := s.List(t.Context(), ""); err != nil || len(names) != 0 {
		t.Errorf("List after invalid Creates = %q, %v; want nothing", names, err)
	}
}

func testNameConflicts(t *testing.T, s storage.Store) {
	create(t, s, "dir/obj", []byte("x"))
	// A name that is another object's directory, or has an object as a directory,
	// cannot be created on a filesystem; every store refuses it alike.
	for _, name := range []string{"dir", "dir/obj/sub"} {
		if _, err := s.Create(t.Context(), name, bytes.NewReader([]byte("y"))); !errors.Is(err, storage.ErrExists) {
			t.Errorf("Create(%q) next to dir/obj: got error %v, want ErrExists", name, err)
		}
	}
	if got, _ := readAll(t, s, "dir/obj"); string(got) != "x" {
		t.Errorf("dir/obj after conflicting Creates = %q, want %q", got, "x")
	}
}

func testConcurrentCreateDifferent(t *testing.T, s storage.Store) {
	const n = 8
	datas := make([][]byte, n)
	for i := range datas {
		datas[i] = content(uint64(100+i), 256<<10)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Create(t.Context(), "race/x", bytes.NewReader(datas[i]))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("concurrent Create %d and %d of different bytes both succeeded, want exactly one", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrExists):
			t.Errorf("concurrent Create %d: got error %v, want success or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no concurrent Create succeeded, want exactly one")
	}
	if got, _ := readAll(t, s, "race/x"); !bytes.Equal(got, datas[winner]) {
		t.Errorf("stored object has sha256 %s, want the winner's %s", hexSHA256(got), hexSHA256(datas[winner]))
	}
}

func testConcurrentCreateIdentical(t *testing.T, s storage.Store) {
	data := content(7, 256<<10)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := s.Create(t.Context(), "same/x", bytes.NewReader(data)); err != nil {
				t.Errorf("concurrent identical Create %d = %v, want success", i, err)
			}
		})
	}
	wg.Wait()
	if got, _ := readAll(t, s, "same/x"); !bytes.Equal(got, data) {
		t.Errorf("stored object has sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
}

// testModified: Open and OpenRange say when the object was written. The backend's
// clock may round (S3 keeps seconds) and may be another machine's: two seconds of
// slack either side.
func testModified(t *testing.T, s storage.Store) {
	ctx := t.Context()
	before := time.Now()
	create(t, s, "m/obj", content(7, 100))
	after := time.Now()
	const slack = 2 * time.Second
	check := func(how string, info storage.Info) {
		t.Helper()
		if info.Modified.Before(before.Add(-slack)) || info.Modified.After(after.Add(slack)) {
			t.Errorf("%s: Modified = %v, want between %v and %v", how, info.Modified, before, after)
		}
	}
	rc, info, err := s.Open(ctx, "m/obj", "")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	check("Open", info)
	for _, r := range [][2]int64{{10, 20}, {0, 0}, {200, 5}} {
		rc, info, err := storage.OpenRange(ctx, s, "m/obj", "", r[0], r[1])
		if err != nil {
			t.Fatalf("OpenRange %v: %v", r, err)
		}
		rc.Close()
		check(fmt.Sprintf("OpenRange %v", r), info)
	}
}
