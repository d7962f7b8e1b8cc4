package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/storage"
)

// RunRetention runs the conformance suite of storage.Retainer. newStore returns a new,
// empty store for each subtest; the store retains a new object for at most a second
// (on S3, Config.Retention of 1s), since the suite waits, in real time, for retention
// periods of a few seconds to end. Destroy must check retention against the real clock.
func RunRetention(t *testing.T, newStore func(t *testing.T) storage.Retainer) {
	tests := []struct {
		name string
		f    func(*testing.T, storage.Retainer)
	}{
		{"AbsentObject", testLockAbsent},
		{"RetentionOnlyGrows", testRetentionOnlyGrows},
		{"DestroyWithinRetention", testDestroyWithinRetention},
		{"DestroyUnderLegalHold", testDestroyUnderHold},
		{"DestroyAfterRetention", testDestroyAfterRetention},
		{"InvalidNames", testRetentionInvalidNames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.f(t, newStore(t))
		})
	}
}

// retainer is the Store of a Retainer under test.
func retainer(s storage.Retainer) storage.Store {
	st, ok := s.(storage.Store)
	if !ok {
		panic("storetest: the Retainer is not a storage.Store")
	}
	return st
}

func lockOf(t *testing.T, s storage.Retainer, name string) storage.Lock {
	t.Helper()
	l, err := s.Lock(t.Context(), name)
	if err != nil {
		t.Fatalf("Lock(%q) = %v, want success", name, err)
	}
	return l
}

// waitUntilPast sleeps until the retention of name has ended, with a margin for S3's
// whole seconds and the server's clock.
func waitUntilPast(t *testing.T, s storage.Retainer, name string) {
	t.Helper()
	if d := time.Until(lockOf(t, s, name).RetainUntil); d > 0 {
		time.Sleep(d + 1500*time.Millisecond)
	}
}

func testLockAbsent(t *testing.T, s storage.Retainer) {
	ctx := t.Context()
	create(t, retainer(s), "present/x", []byte("x"))
	if l := lockOf(t, s, "present/x"); l.LegalHold {
		t.Errorf("Lock of a new object = %+v, want no legal hold", l)
	}
	if _, err := s.Lock(ctx, "absent/x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Lock(absent): got error %v, want ErrNotFound", err)
	}
	if err := s.SetRetention(ctx, "absent/x", time.Now().Add(time.Hour)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetRetention(absent): got error %v, want ErrNotFound", err)
	}
	if err := s.SetLegalHold(ctx, "absent/x", "", true); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetLegalHold(absent): got error %v, want ErrNotFound", err)
	}
	if err := s.Destroy(ctx, "absent/x"); err != nil {
		t.Errorf("Destroy(absent) = %v, want success (a retry of a finished Destroy)", err)
	}
}

func testRetentionOnlyGrows(t *testing.T, s storage.Retainer) {
	ctx := t.Context()
	create(t, retainer(s), "grows", []byte("x"))
	long := time.Now().Add(time.Hour)
	if err := s.SetRetention(ctx, "grows", long); err != nil {
		t.Fatalf("SetRetention(+1h) = %v", err)
	}
	if got := lockOf(t, s, "grows").RetainUntil; got.Before(long.Add(-time.Second)) {
		t.Errorf("after SetRetention(%s): retained until %s", long, got)
	}
	if err := s.SetRetention(ctx, "grows", time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("SetRetention(+1m) after +1h = %v, want success (and no change)", err)
	}
	if got := lockOf(t, s, "grows").RetainUntil; got.Before(long.Add(-time.Second)) {
		t.Errorf("a shorter SetRetention shortened the retention: retained until %s, want %s", got, long)
	}
}

func testDestroyWithinRetention(t *testing.T, s storage.Retainer) {
	data := content(20, 5000)
	create(t, retainer(s), "kept/x", data)
	if err := s.SetRetention(t.Context(), "kept/x", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Destroy(t.Context(), "kept/x"); !errors.Is(err, storage.ErrRetained) {
		t.Errorf("Destroy within retention: got error %v, want ErrRetained", err)
	}
	if got, _ := readAll(t, retainer(s), "kept/x"); !bytes.Equal(got, data) {
		t.Errorf("after a refused Destroy: read sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
}

func testDestroyUnderHold(t *testing.T, s storage.Retainer) {
	ctx := t.Context()
	data := content(21, 5000)
	create(t, retainer(s), "held/x", data)
	if err := s.SetLegalHold(ctx, "held/x", "", true); err != nil {
		t.Fatal(err)
	}
	if l := lockOf(t, s, "held/x"); !l.LegalHold {
		t.Errorf("Lock after SetLegalHold(on) = %+v, want a legal hold", l)
	}
	waitUntilPast(t, s, "held/x")
	if err := s.Destroy(ctx, "held/x"); !errors.Is(err, storage.ErrRetained) {
		t.Errorf("Destroy under legal hold after the retention: got error %v, want ErrRetained", err)
	}
	if got, _ := readAll(t, retainer(s), "held/x"); !bytes.Equal(got, data) {
		t.Errorf("after a refused Destroy: read sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
	if err := s.SetLegalHold(ctx, "held/x", "", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Destroy(ctx, "held/x"); err != nil {
		t.Errorf("Destroy after the hold was lifted = %v, want success", err)
	}
	assertAbsent(t, retainer(s), "held/x")
}

func testDestroyAfterRetention(t *testing.T, s storage.Retainer) {
	ctx := t.Context()
	st := retainer(s)
	create(t, st, "gone/a", content(22, 5000))
	create(t, st, "gone/b", content(23, 10))
	if err := s.SetRetention(ctx, "gone/a", time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Destroy(ctx, "gone/a"); !errors.Is(err, storage.ErrRetained) {
		t.Errorf("Destroy within a 2 s retention: got error %v, want ErrRetained", err)
	}
	waitUntilPast(t, s, "gone/a")
	if err := s.Destroy(ctx, "gone/a"); err != nil {
		t.Fatalf("Destroy after the retention = %v, want success", err)
	}
	assertAbsent(t, st, "gone/a")
	if _, err := s.Lock(ctx, "gone/a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Lock after Destroy: got error %v, want ErrNotFound", err)
	}
	if err := s.Destroy(ctx, "gone/a"); err != nil {
		t.Errorf("a second Destroy = %v, want success", err)
	}
	names, err := st.List(ctx, "gone/")
	if err != nil || !slices.Equal(names, []string{"gone/b"}) {
		t.Errorf("List after destroying gone/a = %q, %v; want only gone/b", names, err)
	}
}

func testRetentionInvalidNames(t *testing.T, s storage.Retainer) {
	ctx := t.Context()
	for _, name := range []string{"", "../escape", "a//b", "a/"} {
		if err := s.SetRetention(ctx, name, time.Now()); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("SetRetention(%q): got error %v, want ErrInvalidName", name, err)
		}
		if _, err := s.Lock(ctx, name); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Lock(%q): got error %v, want ErrInvalidName", name, err)
		}
		if err := s.Destroy(ctx, name); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("Destroy(%q): got error %v, want ErrInvalidName", name, err)
		}
		if err := s.SetLegalHold(ctx, name, "", true); !errors.Is(err, storage.ErrInvalidName) {
			t.Errorf("SetLegalHold(%q): got error %v, want ErrInvalidName", name, err)
		}
	}
}
