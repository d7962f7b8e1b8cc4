package gateway

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/internal/delaynet"
)

// BenchmarkUploadOverLatency sends 64 MiB in one HTTP/2 request over TLS through a
// proxy that delays every byte by half a round trip each way, to a server that reads
// and discards it, with Go's default HTTP/2 settings and with the gateway's
// (http2Config). It reports MB/s: a stream cannot have more than its receive window in
// flight, so over a long round trip the window, not the link, sets the rate.
//
//	go test ./gateway -run '^$' -bench UploadOverLatency -benchtime 1x
func BenchmarkUploadOverLatency(b *testing.B) {
	const size = 64 << 20
	for _, rtt := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		for _, c := range []struct {
			name string
			cfg  *http.HTTP2Config
		}{{"go-default", nil}, {"gateway", http2Config(0)}} {
			b.Run(fmt.Sprintf("rtt=%s/%s", rtt, c.name), func(b *testing.B) {
				url, hc := delaynet.Serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
				}), rtt, c.cfg, nil)
				body := make([]byte, size)
				for b.Loop() {
					start := time.Now()
					resp, err := hc.Post(url, "application/octet-stream", &sliceReader{b: body})
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
					if resp.ProtoMajor != 2 {
						b.Fatalf("the request went over %s, want HTTP/2", resp.Proto)
					}
					b.ReportMetric(float64(size)/1e6/time.Since(start).Seconds(), "MB/s")
				}
			})
		}
	}
}

// sliceReader reads b without io.WriterTo, so the transport sends it as a stream.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
