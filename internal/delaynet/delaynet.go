// Package delaynet is a TCP proxy on the loopback that holds every chunk of bytes for a
// fixed time in each direction: a long round trip, for benchmarks that measure what
// latency does to a transfer. It adds no bandwidth limit and no loss.
package delaynet

import (
	"net"
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
