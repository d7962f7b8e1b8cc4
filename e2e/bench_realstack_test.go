package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// BenchmarkRealStackTransfer uploads and downloads one file through a gateway on the
// real stack (MinIO, Vault, Trillian) and, in the same run, puts and gets the same bytes
// straight to the same MinIO with minio-go: the baseline. It reports both rates, their
// ratios, and the gateway's peak RSS; and, as the ceiling of any TLS gateway here, the
// same put and get through a server that only relays them over TLS
// (bench_ceiling_test.go).
//
//	EVIDENCEGW_STACK_CONFIG=$(deploy/local/up | tail -n 1) \
//	  go test ./e2e -run '^$' -bench RealStackTransfer -benchtime 1x
func BenchmarkRealStackTransfer(b *testing.B) {
	path := os.Getenv("EVIDENCEGW_STACK_CONFIG")
	if path == "" {
		b.Skip("EVIDENCEGW_STACK_CONFIG not set")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	// Fresh buckets, removed at the end with every version: the object-locked stack
	// buckets would keep each run's gigabytes.
	base := freshJurisdictionBuckets(b, string(raw))
	cfg, err := parseStackConfig([]byte(base))
	if err != nil {
		b.Fatal(err)
	}
	size := benchSize(b)
	file := filepath.Join(b.TempDir(), "evidence.bin")
	writeBenchFile(b, file, size)
	g := startGatewayWith(b, "", base)
	hc, base := g.httpClient("investigator-nl")
	mc := minioBench(b, cfg)
	bucket := cfg.Backends.Storage.Buckets["NL"]

	for b.Loop() {
		sum := sha256File(b, file)
		key := "bench/direct-" + randHex()
		start := time.Now()
		f, _ := os.Open(file)
		put, err := mc.PutObject(context.Background(), bucket, key, f, size, minio.PutObjectOptions{PartSize: 16 << 20})
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
		putRate := rate(size, time.Since(start))

		start = time.Now()
		o, err := mc.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, o, make([]byte, 1<<20)); err != nil {
			b.Fatal(err)
		}
		o.Close()
		getRate := rate(size, time.Since(start))
		removeVersion(mc, bucket, key, put.VersionID)

		start = time.Now()
		id := benchUpload(b, hc, base, file, sum)
		upRate := rate(size, time.Since(start))
		resetPeakRSS(b, g.cmd.Process.Pid)
		start = time.Now()
		benchDownload(b, hc, base, id, sum)
		downRate := rate(size, time.Since(start))
		b.ReportMetric(float64(peakRSS(b, g.cmd.Process.Pid))/(1<<20), "download-peak-RSS-MiB")

		b.ReportMetric(putRate, "minio-put-MB/s")
		b.ReportMetric(getRate, "minio-get-MB/s")
		b.ReportMetric(upRate, "upload-MB/s")
		b.ReportMetric(downRate, "download-MB/s")
		b.ReportMetric(upRate/putRate, "upload/put")
		b.ReportMetric(downRate/getRate, "download/get")
		relayPut, relayGet := tlsRelayPutGet(b, mc, bucket, file, size, sum)
		b.ReportMetric(relayPut, "tls-relay-put-MB/s")
		b.ReportMetric(relayGet, "tls-relay-get-MB/s")
		b.ReportMetric(relayPut/putRate, "tls-relay-put/put")
		b.ReportMetric(relayGet/getRate, "tls-relay-get/get")
		b.ReportMetric(upRate/relayPut, "upload/tls-relay-put")
		b.ReportMetric(downRate/relayGet, "download/tls-relay-get")
	}
	b.ReportMetric(float64(peakRSS(b, g.cmd.Process.Pid))/(1<<20), "gateway-peak-RSS-MiB")
}

func minioBench(b *testing.B, cfg stackConfig) *minio.Client {
	sc := cfg.Backends.Storage
	mc, err := minio.New(sc.Endpoint, &minio.Options{Creds: credentialsFor(sc), Secure: sc.Secure})
	if err != nil {
		b.Fatal(err)
	}
	return mc
}

// removeVersion removes one version of an object in an object-locked bucket.
func removeVersion(mc *minio.Client, bucket, key, version string) {
	mc.RemoveObject(context.Background(), bucket, key, minio.RemoveObjectOptions{VersionID: version, GovernanceBypass: true})
}

func randHex() string {
	r := make([]byte, 8)
	rand.Read(r)
	return hex.EncodeToString(r)
}
