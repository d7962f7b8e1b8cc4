package client

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/internal/delaynet"
)

// BenchmarkDownloadOverLatency receives 64 MiB in one HTTP/2 response over TLS through a
// proxy that delays every byte by half a round trip each way, with Go's default client
// settings and with the client's (http2Config). It reports MB/s: a stream cannot have
// more than the client's receive window in flight, so over a long round trip the window,
// not the link, sets the rate.
//
//	go test ./client -run '^$' -bench DownloadOverLatency -benchtime 1x
func BenchmarkDownloadOverLatency(b *testing.B) {
	const size = 64 << 20
	body := make([]byte, size)
	for _, rtt := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		for _, c := range []struct {
			name string
			cfg  *http.HTTP2Config
		}{{"go-default", nil}, {"client", http2Config()}} {
			b.Run(fmt.Sprintf("rtt=%s/%s", rtt, c.name), func(b *testing.B) {
				url, hc := delaynet.Serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Write(body)
				}), rtt, nil, c.cfg)
				buf := make([]byte, 1<<20)
				for b.Loop() {
					start := time.Now()
					resp, err := hc.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
					resp.Body.Close()
					if err != nil || n != size || resp.ProtoMajor != 2 {
						b.Fatalf("received %d bytes over %s (%v), want %d over HTTP/2", n, resp.Proto, err, size)
					}
					b.ReportMetric(float64(size)/1e6/time.Since(start).Seconds(), "MB/s")
				}
			})
		}
	}
}
