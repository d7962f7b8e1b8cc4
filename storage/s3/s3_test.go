package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/s3"
	"github.com/evidencegw/evidencegw/storage/storetest"
)

func TestConformance(t *testing.T) {
	srv := testServer(t)
	storetest.Run(t, func(t *testing.T) storage.Store { return newStore(t, srv.config(t)) })
}

func TestUploadsConformance(t *testing.T) {
	srv := testServer(t)
	storetest.RunUploads(t, func(t *testing.T) storetest.ResumableStore { return newStore(t, srv.config(t)) })
}

// TestRetentionConformance runs the retention suite with a second of retention at
// Create. The buckets are in GOVERNANCE mode so that the clean-up can remove what the
// suite retains for an hour; the store never asks to bypass it, so the server refuses
// the store's early deletes exactly as in COMPLIANCE mode (TestComplianceRetention).
func TestRetentionConformance(t *testing.T) {
	srv := testServer(t)
	storetest.RunRetention(t, func(t *testing.T) storage.Retainer {
		cfg := srv.config(t)
		cfg.Retention = time.Second
		return newStore(t, cfg)
	})
}

func content(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 2})
	b := make([]byte, n)
	r.Read(b)
	return b
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func readAll(t *testing.T, st *s3.Store, name, version string) ([]byte, storage.Info) {
	t.Helper()
	rc, info, err := st.Open(t.Context(), name, version)
	if err != nil {
		t.Fatalf("Open(%q, %q) = %v", name, version, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", name, err)
	}
	return b, info
}

func TestCreateInfo(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	st := newStore(t, cfg)
	data := content(1, 1000)
	info, err := st.Create(t.Context(), "evidence/ev-1/content", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version == "" || info.ETag == "" {
		t.Errorf("Create Info = %+v, want a Version and an ETag", info)
	}
	if want := "s3://" + cfg.Bucket + "/evidence/ev-1/content"; info.Location != want {
		t.Errorf("Info.Location = %q, want %q", info.Location, want)
	}
	_, oinfo := readAll(t, st, "evidence/ev-1/content", "")
	if oinfo.Modified.IsZero() {
		t.Errorf("Open Info = %+v, want its Last-Modified", oinfo)
	}
	oinfo.Modified = time.Time{} // Create does not fill it
	if oinfo != info {
		t.Errorf("Open Info = %+v, want the Create Info %+v", oinfo, info)
	}
	again, err := st.Create(t.Context(), "evidence/ev-1/content", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if again != info {
		t.Errorf("identical re-Create Info = %+v, want the first %+v", again, info)
	}
}

// TestMultipart covers objects larger than one part, which go as multipart uploads.
func TestMultipart(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	cfg.PartSize = 5 << 20
	st := newStore(t, cfg)
	const size = 12<<20 + 3
	data := content(2, size)

	info, err := st.Create(t.Context(), "big/x", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size || info.SHA256 != hexSHA256(data) || info.Version == "" {
		t.Errorf("Create Info = %+v, want Size %d SHA256 %s and a Version", info, size, hexSHA256(data))
	}
	got, oinfo := readAll(t, st, "big/x", "")
	if !bytes.Equal(got, data) {
		t.Errorf("read back sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
	if oinfo.SHA256 != "" || oinfo.Size != size || oinfo.Version != info.Version {
		t.Errorf("Open Info = %+v, want Size %d, Version %s, no SHA256 (multipart)", oinfo, size, info.Version)
	}

	// A retry reads the object back to compare.
	if again, err := st.Create(t.Context(), "big/x", bytes.NewReader(data)); err != nil || again != info {
		t.Errorf("identical re-Create = %+v, %v; want %+v, nil", again, err, info)
	}
	other := bytes.Clone(data)
	other[size-1] ^= 1
	if _, err := st.Create(t.Context(), "big/x", bytes.NewReader(other)); !errors.Is(err, storage.ErrExists) {
		t.Errorf("Create of other bytes of the same size: got error %v, want ErrExists", err)
	}

	// A reader failing after some parts aborts the upload.
	_, err = st.Create(t.Context(), "big/failed", &failingReader{data: data, n: 11 << 20})
	if !errors.Is(err, errBoom) {
		t.Errorf("Create with a failing reader: got error %v, want one wrapping %v", err, errBoom)
	}
	if rc, _, err := st.Open(t.Context(), "big/failed", ""); !errors.Is(err, storage.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open after failed Create: got error %v, want ErrNotFound", err)
	}
	if ups := srv.incompleteUploads(t, cfg.Bucket); len(ups) != 0 {
		t.Errorf("incomplete uploads after failed Create = %q, want none", ups)
	}
}

func TestMultipartCancelled(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	cfg.PartSize = 5 << 20
	st := newStore(t, cfg)
	data := content(3, 12<<20)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &cancelAfter{r: bytes.NewReader(data), n: 7 << 20, cancel: cancel}
	if _, err := st.Create(ctx, "big/cancelled", r); !errors.Is(err, context.Canceled) {
		t.Errorf("Create cancelled midway: got error %v, want context.Canceled", err)
	}
	if ups := srv.incompleteUploads(t, cfg.Bucket); len(ups) != 0 {
		t.Errorf("incomplete uploads after cancelled Create = %q, want none", ups)
	}
	if names, err := st.List(t.Context(), ""); err != nil || len(names) != 0 {
		t.Errorf("List after cancelled Create = %q, %v; want nothing", names, err)
	}
}

func TestOpenVersion(t *testing.T) {
	srv := testServer(t)
	st := newStore(t, srv.config(t))
	info, err := st.Create(t.Context(), "a", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, st, "a", info.Version); string(got) != "x" {
		t.Errorf("Open of version %s read %q, want %q", info.Version, got, "x")
	}
	for _, v := range []string{"00000000-0000-0000-0000-000000000000", "not-a-version"} {
		rc, _, err := st.Open(t.Context(), "a", v)
		if !errors.Is(err, storage.ErrNotFound) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(version %q): got error %v, want ErrNotFound", v, err)
		}
	}
}

func TestNewRefusesBucketWithoutObjectLock(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	if err := srv.admin.MakeBucket(t.Context(), cfg.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := s3.New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "without object lock") {
		t.Errorf("New on a bucket without object lock: got error %v, want one saying so", err)
	}
}

func TestNewConfigErrors(t *testing.T) {
	good := s3.Config{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "b", RetentionMode: s3.Compliance, Retention: 24 * time.Hour}
	tests := []struct {
		name string
		edit func(*s3.Config)
		want string
	}{
		{"no endpoint", func(c *s3.Config) { c.Endpoint = "" }, "Endpoint"},
		{"no bucket", func(c *s3.Config) { c.Bucket = "" }, "Bucket"},
		{"no secret", func(c *s3.Config) { c.SecretKey = "" }, "SecretKey"},
		{"no mode", func(c *s3.Config) { c.RetentionMode = "" }, "RetentionMode"},
		{"lowercase mode", func(c *s3.Config) { c.RetentionMode = "compliance" }, "RetentionMode"},
		{"unknown mode", func(c *s3.Config) { c.RetentionMode = "LEGAL" }, "RetentionMode"},
		{"zero retention", func(c *s3.Config) { c.Retention = 0 }, "Retention"},
		{"retention under a second", func(c *s3.Config) { c.Retention = time.Millisecond }, "Retention"},
		{"small parts", func(c *s3.Config) { c.PartSize = 1 << 20 }, "PartSize"},
	}
	for _, tt := range tests {
		cfg := good
		tt.edit(&cfg)
		if _, err := s3.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error about %s", tt.name, err, tt.want)
		}
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

// cancelAfter reads from r and cancels once n bytes have been read, still giving data.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// TestConcurrentMultipartCreates starts two multipart uploads of different bytes
// under one name, both before either completes: the condition must hold at
// completion, so exactly one wins. (minio-go's PutObject with an unknown size sends
// If-None-Match only when it starts the upload, and then both win.)
func TestConcurrentMultipartCreates(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	cfg.PartSize = 5 << 20
	st := newStore(t, cfg)
	var started sync.WaitGroup
	started.Add(2)
	errs := make([]error, 2)
	datas := [][]byte{content(20, 6<<20), content(21, 6<<20)}
	var wg sync.WaitGroup
	for i := range 2 {
		r := &barrierReader{r: bytes.NewReader(datas[i]), after: 5 << 20, barrier: &started}
		wg.Go(func() { _, errs[i] = st.Create(t.Context(), "race/x", r) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent multipart Creates returned %v and %v, want exactly one success", errs[0], errs[1])
	}
	winner, loser := 0, 1
	if errs[0] != nil {
		winner, loser = 1, 0
	}
	if !errors.Is(errs[loser], storage.ErrExists) {
		t.Errorf("losing Create: got error %v, want ErrExists", errs[loser])
	}
	if got, _ := readAll(t, st, "race/x", ""); !bytes.Equal(got, datas[winner]) {
		t.Errorf("stored sha256 %s, want the winner's %s", hexSHA256(got), hexSHA256(datas[winner]))
	}
	if ups := srv.incompleteUploads(t, cfg.Bucket); len(ups) != 0 {
		t.Errorf("incomplete uploads after the losing Create = %q, want none (aborted)", ups)
	}
}

// barrierReader reads r; once after bytes are read, it waits until every reader
// sharing barrier got there.
type barrierReader struct {
	r       io.Reader
	after   int
	barrier *sync.WaitGroup
	passed  bool
}

func (b *barrierReader) Read(p []byte) (int, error) {
	if b.after == 0 && !b.passed {
		b.passed = true
		b.barrier.Done()
		b.barrier.Wait()
	}
	if !b.passed {
		p = p[:min(len(p), b.after)]
	}
	n, err := b.r.Read(p)
	if !b.passed {
		b.after -= n
	}
	return n, err
}
