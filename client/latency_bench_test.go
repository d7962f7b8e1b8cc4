package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Write(body)
				}))
				srv.EnableHTTP2 = true
				srv.StartTLS()
				b.Cleanup(srv.Close)
				proxy, err := delaynet.Listen(srv.Listener.Addr().String(), rtt/2)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { proxy.Close() })
				tr := &http.Transport{
					ForceAttemptHTTP2: true,
					HTTP2:             c.cfg,
					TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}},
					DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
						var d net.Dialer
						return d.DialContext(ctx, network, proxy.Addr())
					},
				}
				b.Cleanup(tr.CloseIdleConnections)
				hc := &http.Client{Transport: tr}
				buf := make([]byte, 1<<20)
				for b.Loop() {
					start := time.Now()
					resp, err := hc.Get(srv.URL)
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
