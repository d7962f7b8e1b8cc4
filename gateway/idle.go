package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Idle bodies. A request body that moves no byte for Config.BodyIdleTimeout is cut,
// and so is a response the client stops reading: the connection's read (write)
// deadline is moved to now + the idle timeout before each Read (Write), through
// http.ResponseController, so a transfer that moves, however slowly, is never cut
// and one that stalls never holds a goroutine, a connection and an upload's temporary
// file for longer than the idle timeout. Both work on HTTP/1.1 and HTTP/2; where the
// ResponseWriter has no connection (httptest.ResponseRecorder) nothing is cut.
//
// The deadlines need no undoing: net/http removes an HTTP/1.1 connection's read
// deadline when the body has been read to its end (before the handler finishes its
// work) and its write deadline once the response is complete (after the last
// buffered bytes went out under it), and an HTTP/2 stream's deadlines end with the
// stream. TestSlowUploadIsNotCut and TestKeepAliveAfterDownload hold them to it.

// responseChunk bounds one Write under one write deadline: a client that reads at
// least responseChunk bytes per idle timeout is never cut.
const responseChunk = 64 << 10

// idleError is a body cut because it moved no byte for the idle timeout.
type idleError struct{ idle time.Duration }

func (e *idleError) Error() string {
	return fmt.Sprintf("no byte of the body moved for %s", e.idle)
}

// rearmEvery is how long a deadline is left before it is moved again: moving it on
// every Read of a fast transfer would cost a timer reset per read. The cut then comes
// after between 0.9 and 1 times the idle timeout of silence.
func rearmEvery(idle time.Duration) time.Duration { return min(idle/10, time.Second) }

// idleBody is a request body under an idle timeout. Like any request body, it is read
// by one goroutine at a time; cutErr may be called from another.
type idleBody struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	armed time.Time // when the deadline was last moved; zero: never
	off   bool      // the connection has no deadlines
	cut   atomic.Pointer[idleError]
	onCut func()
}

// cutErr returns the error of a body cut for idleness, or nil.
func (b *idleBody) cutErr() error {
	if e := b.cut.Load(); e != nil {
		return e
	}
	return nil
}

func (b *idleBody) Read(p []byte) (int, error) {
	if e := b.cut.Load(); e != nil {
		return 0, e
	}
	if !b.off {
		if now := time.Now(); now.Sub(b.armed) >= rearmEvery(b.idle) {
			if err := b.rc.SetReadDeadline(now.Add(b.idle)); err != nil {
				b.off = true
			}
			b.armed = now
		}
	}
	n, err := b.body.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		e := &idleError{b.idle}
		b.cut.Store(e)
		b.onCut()
		return n, e
	}
	return n, err
}

func (b *idleBody) Close() error { return b.body.Close() }

// idleWriter is a response body under an idle timeout.
type idleWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	idle  time.Duration
	armed time.Time
	off   bool
	cut   *idleError
	onCut func()
}

func (w *idleWriter) Write(p []byte) (int, error) {
	if w.cut != nil {
		return 0, w.cut
	}
	written := 0
	for len(p) > 0 {
		w.arm()
		chunk := p[:min(len(p), responseChunk)]
		n, err := w.w.Write(chunk)
		written += n
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.cut = &idleError{w.idle}
				w.onCut()
				return written, w.cut
			}
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

func (w *idleWriter) arm() {
	if w.off {
		return
	}
	if now := time.Now(); now.Sub(w.armed) >= rearmEvery(w.idle) {
		if err := w.rc.SetWriteDeadline(now.Add(w.idle)); err != nil {
			w.off = true
		}
		w.armed = now
	}
}

// watchBody puts r's body under the idle timeout; the returned body reports whether
// it was cut.
func (s *Server) watchBody(w http.ResponseWriter, r *http.Request) *idleBody {
	b := &idleBody{body: r.Body, rc: http.NewResponseController(w), idle: s.cfg.BodyIdleTimeout,
		off:   s.cfg.BodyIdleTimeout <= 0 || r.Body == nil || r.Body == http.NoBody,
		onCut: func() { s.metrics.idleCuts.WithLabelValues("request").Inc() }}
	if r.Body != nil {
		r.Body = b
	}
	return b
}

// watchResponse returns w's body writer under the idle timeout.
func (s *Server) watchResponse(w http.ResponseWriter) *idleWriter {
	return &idleWriter{w: w, rc: http.NewResponseController(w), idle: s.cfg.BodyIdleTimeout, off: s.cfg.BodyIdleTimeout <= 0,
		onCut: func() { s.metrics.idleCuts.WithLabelValues("response").Inc() }}
}
