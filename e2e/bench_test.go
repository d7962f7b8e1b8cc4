package e2e

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/internal/procstat"
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
	ceiling := plainTLSServer(b, path)

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

		resetPeakRSS(b, pid)
		start = time.Now()
		benchDownload(b, hc, base, id, sum)
		downRate := rate(size, time.Since(start))
		b.ReportMetric(float64(peakRSS(b, pid))/(1<<20), "download-peak-RSS-MiB")

		start = time.Now()
		benchDownloadURL(b, ceiling.Client(), ceiling.URL, sum)
		ceilingRate := rate(size, time.Since(start))

		cliRate := benchCLIDownload(b, g, id, filepath.Join(g.data, "bench-cli-download"), size)

		b.ReportMetric(shaRate, "sha256-MB/s")
		b.ReportMetric(upRate, "upload-MB/s")
		b.ReportMetric(downRate, "download-MB/s")
		b.ReportMetric(diskRate, "disk-fsync-MB/s")
		b.ReportMetric(upRate/shaRate, "upload/sha256")
		b.ReportMetric(upRate/diskRate, "upload/disk")
		b.ReportMetric(downRate/shaRate, "download/sha256")
		b.ReportMetric(ceilingRate, "plain-tls-MB/s")
		b.ReportMetric(ceilingRate/shaRate, "plain-tls/sha256")
		b.ReportMetric(downRate/ceilingRate, "download/plain-tls")
		b.ReportMetric(cliRate, "cli-download-MB/s")
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
	benchDownloadURL(b, hc, base+"/v1/evidence/"+id+"/content", sum)
}

// benchDownloadURL GETs url and hashes the body as it arrives, as a client that checks
// what it receives does.
func benchDownloadURL(b *testing.B, hc *http.Client, url string, sum []byte) {
	resp, err := hc.Get(url)
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

// benchCLIDownload runs `evidencegw download` (HTTP/2, the bytes hashed and written to a
// file that is fsynced before it is renamed into place) and returns its rate.
func benchCLIDownload(b *testing.B, g *gateway, id, out string, size int64) float64 {
	os.Remove(out)
	start := time.Now()
	g.must("investigator-nl", "download", id, "-o", out)
	r := rate(size, time.Since(start))
	os.Remove(out)
	return r
}

// plainTLSServer serves the plaintext file at path over HTTPS (TLS 1.3, HTTP/1.1, 1 MiB
// writes), with nothing else: no authentication of its own, no decryption, no custody.
// A download from it is the ceiling of any gateway on this machine: the client's TLS
// and SHA-256 and the server's TLS, on the same cores.
func plainTLSServer(b *testing.B, path string) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		fi, _ := f.Stat()
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{f}, make([]byte, 1<<20))
	}))
	b.Cleanup(srv.Close)
	return srv
}

// resetPeakRSS resets a process's resident-set high-water mark (VmHWM) to its current
// resident set, so that a later peakRSS reads the peak since.
func resetPeakRSS(b *testing.B, pid int) {
	if err := procstat.ResetPeakRSS(pid); err != nil {
		b.Fatal(err)
	}
}

// peakRSS reads the high-water mark of a process's resident set (VmHWM), in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	n, err := procstat.PeakRSS(pid)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
