package e2e

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/pki"
)

// The resumable-upload benchmarks send one file with the client library (what
// `evidencegw upload` runs): once whole, then once cut at half way (the client stops,
// as a crash would) and run again from its state. They report, from one run, the
// upload's rate against a baseline on the same machine, how long the resumed run took
// against the uninterrupted upload, how many bytes were sent twice, and the gateway's
// peak RSS. EVIDENCEGW_BENCH_SIZE sets the file's size (1 GiB by default; 10 GiB is
// 10737418240).

// resumableClient returns the client library for a demo identity of g.
func resumableClient(b *testing.B, g *gateway) *client.Client {
	id, err := pki.LoadIdentity(g.identity("investigator-nl"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := client.New(id)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// resumableRun is what one benchmark round measured.
type resumableRun struct {
	full    time.Duration // the uninterrupted upload, registration included
	resumed time.Duration // the second run after a stop at half way
	resent  int64         // bytes the two runs of the cut upload sent beyond the file
}

// measureResumable uploads path whole, then cut at half way and resumed.
func measureResumable(b *testing.B, c *client.Client, path string, size int64) resumableRun {
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var r resumableRun
	start := time.Now()
	if _, err := c.UploadResumable(ctx, client.ResumableUpload{CaseID: "BENCH", Content: f, Size: size}); err != nil {
		b.Fatal(err)
	}
	r.full = time.Since(start)

	state := &memState{}
	var sent int64
	cut, stop := context.WithCancel(ctx)
	defer stop()
	_, err = c.UploadResumable(cut, client.ResumableUpload{CaseID: "BENCH", Content: f, Size: size, State: state,
		Progress: func(phase string, done, _ int64) {
			if phase == client.PhaseUploading {
				sent = max(sent, done)
				if done >= size/2 {
					stop()
				}
			}
		}})
	if !errors.Is(err, context.Canceled) {
		b.Fatalf("the upload cut at half way returned %v, want it cancelled", err)
	}
	firstRun := sent
	var resumedFrom int64 = -1
	start = time.Now()
	if _, err := c.UploadResumable(ctx, client.ResumableUpload{CaseID: "BENCH", Content: f, Size: size, State: state,
		Progress: func(phase string, done, _ int64) {
			if phase == client.PhaseUploading && resumedFrom < 0 {
				resumedFrom = done
			}
		}}); err != nil {
		b.Fatal(err)
	}
	r.resumed = time.Since(start)
	r.resent = firstRun - resumedFrom
	return r
}

func reportResumable(b *testing.B, r resumableRun, size int64, baselineRate float64, baseline string) {
	upRate := rate(size, r.full)
	b.ReportMetric(upRate, "resumable-upload-MB/s")
	b.ReportMetric(baselineRate, baseline+"-MB/s")
	b.ReportMetric(upRate/baselineRate, "upload/"+baseline)
	b.ReportMetric(r.resumed.Seconds()/r.full.Seconds(), "resumed-run/full-upload")
	b.ReportMetric(float64(r.resent)/(1<<20), "resent-MiB")
}

// BenchmarkResumableUpload measures a resumable upload on the embedded default against
// a copy and fsync of the same file on the same disk, and against the same file sent
// over TLS to a server that only writes it durably (tls-sink, bench_ceiling_test.go).
//
//	go test ./e2e -run '^$' -bench 'ResumableUpload$' -benchtime 1x
func BenchmarkResumableUpload(b *testing.B) {
	size := benchSize(b)
	path := filepath.Join(b.TempDir(), "evidence.bin")
	writeBenchFile(b, path, size)
	g := startGateway(b, "")
	c := resumableClient(b, g)
	hc, base := g.httpClient("investigator-nl")
	for b.Loop() {
		start := time.Now()
		copyDurably(b, path, filepath.Join(g.data, "bench-disk-baseline"))
		diskRate := rate(size, time.Since(start))
		start = time.Now()
		benchUpload(b, hc, base, path, sha256File(b, path))
		b.ReportMetric(rate(size, time.Since(start)), "single-request-upload-MB/s")
		run := measureResumable(b, c, path, size)
		reportResumable(b, run, size, diskRate, "disk-fsync")
		sinkRate := tlsSinkRate(b, g.data, path, size)
		b.ReportMetric(sinkRate, "tls-sink-MB/s")
		b.ReportMetric(sinkRate/diskRate, "tls-sink/disk-fsync")
		b.ReportMetric(rate(size, run.full)/sinkRate, "upload/tls-sink")
	}
	b.ReportMetric(float64(peakRSS(b, g.cmd.Process.Pid))/(1<<20), "gateway-peak-RSS-MiB")
}

// BenchmarkRealStackResumableUpload measures a resumable upload on the real stack
// against minio-go's own PutObject of the same file into the same bucket (a fresh one:
// freshJurisdictionBuckets), and against the same file sent over TLS to a server that
// only relays it to that PutObject (tls-relay-put, bench_ceiling_test.go).
//
//	EVIDENCEGW_STACK_CONFIG=$(deploy/local/up | tail -n 1) \
//	  go test ./e2e -run '^$' -bench RealStackResumableUpload -benchtime 1x
func BenchmarkRealStackResumableUpload(b *testing.B) {
	p := os.Getenv("EVIDENCEGW_STACK_CONFIG")
	if p == "" {
		b.Skip("EVIDENCEGW_STACK_CONFIG not set")
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	base := freshJurisdictionBuckets(b, string(raw))
	cfg, err := parseStackConfig([]byte(base))
	if err != nil {
		b.Fatal(err)
	}
	size := benchSize(b)
	path := filepath.Join(b.TempDir(), "evidence.bin")
	writeBenchFile(b, path, size)
	g := startGatewayWith(b, "", base)
	c := resumableClient(b, g)
	mc := minioBench(b, cfg)
	bucket := cfg.Backends.Storage.Buckets["NL"]
	for b.Loop() {
		key := "bench/direct-" + hex.EncodeToString([]byte(randHex()))
		f, _ := os.Open(path)
		start := time.Now()
		put, err := mc.PutObject(context.Background(), bucket, key, f, size, minio.PutObjectOptions{PartSize: 16 << 20})
		if err != nil {
			b.Fatal(err)
		}
		putRate := rate(size, time.Since(start))
		f.Close()
		removeVersion(mc, bucket, key, put.VersionID)
		run := measureResumable(b, c, path, size)
		reportResumable(b, run, size, putRate, "minio-put")
		relayPut, _ := tlsRelayPutGet(b, mc, bucket, path, size, sha256File(b, path))
		b.ReportMetric(relayPut, "tls-relay-put-MB/s")
		b.ReportMetric(relayPut/putRate, "tls-relay-put/minio-put")
		b.ReportMetric(rate(size, run.full)/relayPut, "upload/tls-relay-put")
	}
	b.ReportMetric(float64(peakRSS(b, g.cmd.Process.Pid))/(1<<20), "gateway-peak-RSS-MiB")
}
