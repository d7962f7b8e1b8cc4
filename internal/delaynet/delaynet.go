// Package delaynet is a TCP proxy on the loopback that holds every chunk of bytes for a
// fixed time in each direction: a long round trip, for benchmarks that measure what
// latency does to a transfer. It adds no bandwidth limit and no loss.
package delaynet

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Proxy listens on the loopback and forwards each connection to target, every chunk of
// bytes delay after it was read, in each direction (a round trip of 2 × delay). Close
// stops it.
type Proxy struct {
	ln net.Listener
}

// Listen starts a Proxy to target.
func Listen(target string, delay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			go forward(out, in, delay)
			go forward(in, out, delay)
		}
	}()
	return &Proxy{ln: ln}, nil
}

// Addr returns the proxy's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting connections; those open end when either side closes.
func (p *Proxy) Close() error { return p.ln.Close() }

// Serve starts an HTTPS server of h (HTTP/2, its settings serverCfg) behind a Proxy
// adding a round trip of rtt, and returns the server's URL and an HTTP/2 client (its
// settings clientCfg) whose every connection goes through the proxy. A nil setting is
// Go's default. Both stop when tb ends.
func Serve(tb testing.TB, h http.Handler, rtt time.Duration, serverCfg, clientCfg *http.HTTP2Config) (string, *http.Client) {
	tb.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = serverCfg
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	p, err := Listen(srv.Listener.Addr().String(), rtt/2)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	tr := &http.Transport{
		ForceAttemptHTTP2: true,
		HTTP2:             clientCfg,
		// The test server's certificate: what is measured is the link, not trust.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, p.Addr())
		},
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return srv.URL, &http.Client{Transport: tr}
}

// forward copies src to dst, each chunk delay after it was read.
func forward(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		due time.Time
		b   []byte
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}
