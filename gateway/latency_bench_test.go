package gateway

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
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
				}))
				srv.EnableHTTP2 = true
				srv.Config.HTTP2 = c.cfg
				srv.StartTLS()
				b.Cleanup(srv.Close)
				proxy, err := delaynet.Listen(srv.Listener.Addr().String(), rtt/2)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { proxy.Close() })
				tr := srv.Client().Transport.(*http.Transport).Clone()
				tr.ForceAttemptHTTP2 = true
				tr.DialTLSContext = nil
				tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, proxy.Addr())
				}
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}
				hc := &http.Client{Transport: tr}
				body := make([]byte, size)
				for b.Loop() {
					start := time.Now()
					resp, err := hc.Post(srv.URL, "application/octet-stream", &sliceReader{b: body})
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
