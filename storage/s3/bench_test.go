package s3_test

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage/s3"
)

// BenchmarkDirectPutGet uploads and downloads EVIDENCEGW_BENCH_SIZE bytes (default
// 256 MiB) of unknown length, once straight with minio-go (the baseline: PutObject
// with size -1 and the same part size, GetObject) and once through Store.Create and
// Store.Open, and reports put-MB/s and get-MB/s for each.
//
//	go test -run '^$' -bench DirectPutGet -benchtime 3x ./storage/s3
func BenchmarkDirectPutGet(b *testing.B) {
	srv := testServer(b)
	size := int64(256 << 20)
	if v := os.Getenv("EVIDENCEGW_BENCH_SIZE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("EVIDENCEGW_BENCH_SIZE = %q, want a positive number of bytes", v)
		}
		size = n
	}
	cfg := srv.config(b)
	st := newStore(b, cfg)

	b.Run("direct", func(b *testing.B) {
		put := func(name string) error {
			_, err := srv.admin.PutObject(b.Context(), cfg.Bucket, name, newPatternReader(size), -1,
				minio.PutObjectOptions{PartSize: s3.DefaultPartSize, NumThreads: 2})
			return err
		}
		get := func(name string) (io.ReadCloser, error) {
			return srv.admin.GetObject(b.Context(), cfg.Bucket, name, minio.GetObjectOptions{})
		}
		benchPutGet(b, "direct", size, put, get)
	})
	b.Run("store", func(b *testing.B) {
		put := func(name string) error {
			_, err := st.Create(b.Context(), name, newPatternReader(size))
			return err
		}
		get := func(name string) (io.ReadCloser, error) {
			rc, _, err := st.Open(b.Context(), name, "")
			return rc, err
		}
		benchPutGet(b, "store", size, put, get)
	})
}

func benchPutGet(b *testing.B, prefix string, size int64, put func(string) error, get func(string) (io.ReadCloser, error)) {
	b.SetBytes(size)
	var putTime, getTime time.Duration
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bench/%s-%d", prefix, i)
		i++
		start := time.Now()
		if err := put(name); err != nil {
			b.Fatalf("put %s: %v", name, err)
		}
		putTime += time.Since(start)
		start = time.Now()
		rc, err := get(name)
		if err != nil {
			b.Fatalf("get %s: %v", name, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != size {
			b.Fatalf("get %s: read %d bytes, %v; want %d", name, n, err, size)
		}
		getTime += time.Since(start)
	}
	mb := float64(size) * float64(i) / 1e6
	b.ReportMetric(mb/putTime.Seconds(), "put-MB/s")
	b.ReportMetric(mb/getTime.Seconds(), "get-MB/s")
}
