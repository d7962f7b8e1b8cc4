package e2e

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
)

// benchSize is the evidence size of BenchmarkTransfer: EVIDENCEGW_BENCH_SIZE bytes, 1 GiB
// by default.
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("EVIDENCEGW_BENCH_SIZE"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("EVIDENCEGW_BENCH_SIZE: %v", err)
		}
		return n
	}
	return 1 << 30
}

// copyDurably copies src to a new file dst on the gateway's disk and fsyncs it: the
// ceiling of any durable upload on this machine.
func copyDurably(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	out.Close()
	os.Remove(dst)
}

// BenchmarkTransfer uploads and downloads one file through a gateway on the embedded
// default and reports, from the same run: single-pass SHA-256 throughput of the file
// (the baseline), a durable copy of the file on the gateway's disk (the disk's ceiling),
// upload and download throughput, their ratios to the baseline, and the
// gateway's peak RSS.
//
//	go test ./e2e -run '^$' -bench Transfer -benchtime 1x
func BenchmarkTransfer(b *testing.B) {
	size := benchSize(b)
	path := filepath.Join(b.TempDir(), "evidence.bin")
	writeBenchFile(b, path, size)
	g := startGateway(b, "")
	hc, base := g.httpClient("investigator-nl")
	pid := g.cmd.Process.Pid

	for b.Loop() {
		start := time.Now()
		sum := sha256File(b, path)
		shaRate := rate(size, time.Since(start))

		start = time.Now()
		copyDurably(b, path, filepath.Join(g.data, "bench-disk-baseline"))
		diskRate := rate(size, time.Since(start))

		start = time.Now()
		id := benchUpload(b, hc, base, path, sum)
		upRate := rate(size, time.Since(start))

		start = time.Now()
		benchDownload(b, hc, base, id, sum)
		downRate := rate(size, time.Since(start))

		b.ReportMetric(shaRate, "sha256-MB/s")
		b.ReportMetric(upRate, "upload-MB/s")
		b.ReportMetric(downRate, "download-MB/s")
		b.ReportMetric(diskRate, "disk-fsync-MB/s")
		b.ReportMetric(upRate/shaRate, "upload/sha256")
		b.ReportMetric(upRate/diskRate, "upload/disk")
		b.ReportMetric(downRate/shaRate, "download/sha256")
	}
	b.ReportMetric(float64(peakRSS(b, pid))/(1<<20), "gateway-peak-RSS-MiB")
}

func rate(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

func writeBenchFile(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func sha256File(b *testing.B, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
	return h.Sum(nil)
}

func benchUpload(b *testing.B, hc *http.Client, base, path string, sum []byte) string {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/evidence?case_id=BENCH", bufio.NewReaderSize(f, 1<<20))
	req.ContentLength = fi.Size()
	req.Header.Set(api.HeaderContentDigest, api.FormatDigest(sum))
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var res api.UploadResult
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&res) != nil {
		b.Fatalf("upload: status %d", resp.StatusCode)
	}
	return res.Evidence.EvidenceID
}

func benchDownload(b *testing.B, hc *http.Client, base, id string, sum []byte) {
	resp, err := hc.Get(base + "/v1/evidence/" + id + "/content")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("download: status %d", resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, resp.Body, make([]byte, 1<<20)); err != nil {
		b.Fatal(err)
	}
	if got := h.Sum(nil); hex.EncodeToString(got) != hex.EncodeToString(sum) {
		b.Fatal("downloaded content differs")
	}
}

// peakRSS reads the high-water mark of a process's resident set (VmHWM), in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}
