package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"testing"
)

// BenchmarkDownloadTLS downloads 256 MiB from the gateway's handler over HTTP/1.1 and
// TLS, in process, from the local filesystem store, the client hashing what it gets: a
// profile of the download path without the other processes of the end-to-end
// benchmark.
//
//	go test ./gateway -run '^$' -bench DownloadTLS -benchtime 3x -cpuprofile cpu.out
func BenchmarkDownloadTLS(b *testing.B) {
	opts, _ := localStore(b)
	ts := newTestServer(b, serverOptions{env: opts})
	content := make([]byte, 256<<20)
	rand.Read(content)
	id := ts.env.Register(b, ts.env.Investigator, content).Evidence.EvidenceID
	srv := ts.startTLS(b, false)
	hc := srv.client(ts.env.Investigator)
	b.SetBytes(int64(len(content)))
	buf := make([]byte, 1<<20)
	for b.Loop() {
		resp, err := hc.Get(srv.URL + "/v1/evidence/" + id + "/content")
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(err, resp.StatusCode)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, resp.Body, buf); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
