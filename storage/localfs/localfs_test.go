package localfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/storetest"
)

func newStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := New(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatalf("New(%s) = %v", dir, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store { return newStore(t, t.TempDir()) })
}

func TestRetentionConformance(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) storage.Retainer { return newStore(t, t.TempDir()) })
}

func TestLayoutAndMode(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	info, err := s.Create(t.Context(), "evidence/ev-1/content", strings.NewReader("bytes"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "objects", "evidence", "ev-1", "content")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("object not at %s: %v", p, err)
	}
	if got := fi.Mode().Perm(); got != 0o400 {
		t.Errorf("object mode = %o, want 400", got)
	}
	if want := "file://" + p; info.Location != want {
		t.Errorf("Info.Location = %q, want %q", info.Location, want)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
		t.Errorf("tmp holds %d entries after Create, want 0", len(entries))
	}
}

func TestNewRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	newStore(t, dir)
	// What a process killed mid-upload leaves behind.
	leftover := filepath.Join(dir, "tmp", "upload-123")
	if err := os.WriteFile(leftover, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, dir)
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(leftover) after New = %v, want not exist", err)
	}
	if names, err := s.List(t.Context(), ""); err != nil || len(names) != 0 {
		t.Errorf("List = %q, %v; want nothing", names, err)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	if _, err := newStore(t, dir).Create(t.Context(), "a/b", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, dir)
	rc, _, err := s.Open(t.Context(), "a/b", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "kept" {
		t.Errorf("after reopen read %q, want %q", got, "kept")
	}
	if _, err := s.Create(t.Context(), "a/b", strings.NewReader("other")); !errors.Is(err, storage.ErrExists) {
		t.Errorf("Create of other bytes after reopen: got error %v, want ErrExists", err)
	}
}

func TestOpenVersion(t *testing.T) {
	s := newStore(t, t.TempDir())
	if _, err := s.Create(t.Context(), "a", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(t.Context(), "a", "v1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open with a version: got error %v, want ErrNotFound", err)
	}
}

func TestNewEmptyDir(t *testing.T) {
	if _, err := New(t.Context(), Config{}); err == nil {
		t.Errorf("New with empty Dir succeeded, want an error")
	}
}

// zeros is an endless reader of zero bytes that allocates nothing.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.n))
	clear(p[:k])
	z.n -= int64(k)
	return k, nil
}

func TestMemoryDoesNotGrowWithSize(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 256 MiB")
	}
	s := newStore(t, t.TempDir())
	const size = 256 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.Create(t.Context(), "big", &zeros{n: size})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("Create of %d bytes allocated %d bytes, want under 8 MiB", size, alloc)
	}
	h := sha256.New()
	io.Copy(h, &zeros{n: size})
	if want := hex.EncodeToString(h.Sum(nil)); info.Size != size || info.SHA256 != want {
		t.Errorf("Info = {Size %d SHA256 %s}, want {%d %s}", info.Size, info.SHA256, size, want)
	}
}

// TestKeepTemp: an operator command opening the store beside a running gateway must
// not remove the gateway's uploads in progress.
func TestKeepTemp(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(t.Context(), Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	inProgress := filepath.Join(dir, "tmp", "upload-123")
	if err := os.WriteFile(inProgress, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), Config{Dir: dir, KeepTemp: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inProgress); err != nil {
		t.Errorf("New with KeepTemp removed an upload in progress: %v", err)
	}
	if _, err := New(t.Context(), Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inProgress); !os.IsNotExist(err) {
		t.Errorf("New without KeepTemp left the interrupted upload: %v", err)
	}
}

func TestUploadsConformance(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) storetest.ResumableStore { return newStore(t, t.TempDir()) })
}
