package tesseralog_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
)

// env is a log directory with its keys and checkpoint store, reopened at will.
type env struct {
	dir string
	s   note.Signer
	v   note.Verifier
	cps *ledgertest.MemCheckpoints
}

func newEnv(t *testing.T) *env {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "test.example/damage")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return &env{dir: filepath.Join(t.TempDir(), "log"), s: s, v: v, cps: ledgertest.NewMemCheckpoints()}
}

func (e *env) open(t *testing.T) (*tesseralog.Log, error) {
	t.Helper()
	l, err := tesseralog.New(t.Context(), tesseralog.Config{Dir: e.dir, Signer: e.s, Verifier: e.v, Checkpoints: e.cps})
	if err == nil {
		t.Cleanup(func() { l.Close(t.Context()) })
	}
	return l, err
}

func (e *env) mustOpen(t *testing.T) *tesseralog.Log {
	t.Helper()
	l, err := e.open(t)
	if err != nil {
		t.Fatalf("opening the log: %v", err)
	}
	return l
}

// grow opens the log, appends n leaves concurrently and closes it.
func (e *env) grow(t *testing.T, n int) {
	t.Helper()
	l := e.mustOpen(t)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		leaf := make([]byte, 40)
		rand.Read(leaf)
		wg.Go(func() { _, _, errs[i] = l.Append(t.Context(), leaf) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// wantDamage checks that err is a *DamageError of kind, matching ledger.ErrSecurity,
// whose message mentions want.
func wantDamage(t *testing.T, err error, kind, want string) {
	t.Helper()
	var de *tesseralog.DamageError
	if !errors.As(err, &de) || !errors.Is(err, ledger.ErrSecurity) {
		t.Fatalf("got %v, want a *DamageError matching ledger.ErrSecurity", err)
	}
	if de.Kind != kind || !strings.Contains(de.Error(), want) {
		t.Fatalf("got a %q damage %q, want %q mentioning %q", de.Kind, de.Error(), kind, want)
	}
}

// copyDir copies a log directory (cp -a keeps it exact).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// flipFile flips one byte of the last regular file matching pattern under dir.
func flipFile(t *testing.T, dir, pattern string, offset int) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	var files []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			files = append(files, m)
		}
	}
	if err != nil || len(files) == 0 {
		t.Fatalf("no file %s under %s", pattern, dir)
	}
	p := files[len(files)-1]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[offset%len(b)] ^= 0x01
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReopenIntact(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 5)
	l := e.mustOpen(t)
	cp, err := l.Checkpoint(t.Context())
	if err != nil || cp.Size != 5 {
		t.Fatalf("Checkpoint after reopening = size %d, %v; want 5", cp.Size, err)
	}
	stored, err := e.cps.Latest(t.Context())
	if err != nil || !bytes.Equal(stored, cp.Note) {
		t.Errorf("the checkpoint store holds %q (%v), want the published checkpoint", stored, err)
	}
}

func TestRollbackRefused(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 3)
	old := filepath.Join(t.TempDir(), "old")
	copyDir(t, e.dir, old)
	e.grow(t, 3)
	os.RemoveAll(e.dir)
	copyDir(t, old, e.dir)
	_, err := e.open(t)
	wantDamage(t, err, tesseralog.DamageRollback, "the log holds 3 entries, but the gateway published a checkpoint of size 6")
}

func TestDeletedLogRefused(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 2)
	os.RemoveAll(e.dir)
	_, err := e.open(t)
	wantDamage(t, err, tesseralog.DamageRollback, "holds no checkpoint")
}

func TestForkRefused(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 3)
	// The same keys, the same number of entries, other entries: another log.
	other := &env{dir: filepath.Join(t.TempDir(), "other"), s: e.s, v: e.v, cps: ledgertest.NewMemCheckpoints()}
	other.grow(t, 3)
	os.RemoveAll(e.dir)
	copyDir(t, other.dir, e.dir)
	_, err := e.open(t)
	wantDamage(t, err, tesseralog.DamageFork, "root for tree size 3")
}

func TestCorruptFilesRefusedAtStart(t *testing.T) {
	for _, tt := range []struct {
		name, pattern string
		offset        int
	}{
		{"full hash tile", "tile/0/000", 5},
		{"partial hash tile", "tile/0/001.p/*", 5},
		{"hash tile of level 1", "tile/1/000.p/*", 0},
		{"full entry bundle", "tile/entries/000", 9},
		{"partial entry bundle", "tile/entries/001.p/*", 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.grow(t, 300) // one full bundle and tile, and partial ones, on two levels
			flipFile(t, e.dir, tt.pattern, tt.offset)
			_, err := e.open(t)
			wantDamage(t, err, tesseralog.DamageCorrupt, "do not recompute")
		})
	}
}

func TestMissingNewestBundleRefused(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 10)
	matches, _ := filepath.Glob(filepath.Join(e.dir, "tile/entries/000.p/*"))
	if len(matches) == 0 {
		t.Fatal("no partial entry bundle")
	}
	for _, m := range matches {
		os.Remove(m)
	}
	_, err := e.open(t)
	wantDamage(t, err, tesseralog.DamageCorrupt, "do not recompute")
}

// TestCorruptTileWhileRunning flips a byte of a hash tile under a running log: the
// next checkpoint is not signed, appends fail with the damage at once, and no larger
// checkpoint reaches the checkpoint store.
func TestCorruptTileWhileRunning(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 5)
	l := e.mustOpen(t)
	before, _ := e.cps.Latest(t.Context())
	flipFile(t, e.dir, "tile/0/000.p/*", 3)
	_, _, err := l.Append(t.Context(), []byte("after the damage"))
	wantDamage(t, err, tesseralog.DamageCorrupt, "refusing to sign the root of size 6")
	if _, _, err := l.Append(t.Context(), []byte("again")); !errors.Is(err, ledger.ErrSecurity) {
		t.Errorf("a later Append = %v, want the damage again", err)
	}
	if after, _ := e.cps.Latest(t.Context()); !bytes.Equal(before, after) {
		t.Errorf("the checkpoint store moved from\n%s\nto\n%s", before, after)
	}
}

// TestCorruptBundleNotServed: Leaves refuses to serve entries that are not the log's.
func TestCorruptBundleNotServed(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 4)
	l := e.mustOpen(t)
	if _, err := l.Leaves(t.Context(), 0, 4, 4); err != nil {
		t.Fatalf("Leaves of an intact log: %v", err)
	}
	flipFile(t, e.dir, "tile/entries/000.p/*", 20)
	_, err := l.Leaves(t.Context(), 0, 4, 4)
	wantDamage(t, err, tesseralog.DamageCorrupt, "is not in the tree")
}

// TestLogWithoutStoredCheckpoints opens a log whose checkpoints were never stored (a
// data directory of the first release): it is checked, opens, and its checkpoint is
// stored.
func TestLogWithoutStoredCheckpoints(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 3)
	e.cps = ledgertest.NewMemCheckpoints()
	l := e.mustOpen(t)
	if sizes := e.cps.Sizes(); len(sizes) != 1 || sizes[0] != 3 {
		t.Errorf("stored checkpoint sizes %v, want [3]", sizes)
	}
	if _, _, err := l.Append(t.Context(), []byte("more")); err != nil {
		t.Fatal(err)
	}
}
