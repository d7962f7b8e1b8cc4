package storage

import (
	"io"
	"sync"
)

// bufPipe is an in-memory pipe like io.Pipe, but buffered: Write copies into one of
// a fixed number of chunks and returns without waiting for the reader. With io.Pipe
// every Write waits for the reader, so the writer and reader goroutines of the seal
// pipeline end up taking turns on one CPU; with a few chunks in flight they run at
// the same time. Memory is bounded by chunks × chunkSize.
//
// One goroutine writes and one reads. Close, CloseWithError and the reader's
// CloseWithError may be called from either.
type bufPipe struct {
	full chan []byte   // written chunks, in order
	free chan []byte   // chunks the reader is done with
	done chan struct{} // closed when the reader gives up

	mu   sync.Mutex
	werr error // writer's close error, set before full is closed
	rerr error // reader's close error, set before done is closed

	wbuf      []byte // writer: chunk being filled
	wclose    sync.Once
	rclose    sync.Once
	rbuf      []byte // reader: rest of the current chunk
	rchunk    []byte // reader: the current chunk, to recycle
	chunkSize int
	allocated int // writer: chunks made so far
	maxChunks int
}

func newBufPipe(chunks, chunkSize int) *bufPipe {
	return &bufPipe{
		full:      make(chan []byte, chunks),
		free:      make(chan []byte, chunks+1),
		done:      make(chan struct{}),
		chunkSize: chunkSize,
		maxChunks: chunks + 1,
	}
}

// Write copies p into chunks, blocking only while every chunk is in flight. It
// returns the reader's error once the reader has closed.
func (p *bufPipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.wbuf == nil {
			c, err := p.chunk()
			if err != nil {
				return n, err
			}
			p.wbuf = c[:0]
		}
		k := copy(p.wbuf[len(p.wbuf):cap(p.wbuf)], b)
		p.wbuf = p.wbuf[:len(p.wbuf)+k]
		b, n = b[k:], n+k
		if len(p.wbuf) == cap(p.wbuf) {
			if err := p.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// chunk returns a free chunk, allocating up to maxChunks.
func (p *bufPipe) chunk() ([]byte, error) {
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	if p.allocated < p.maxChunks {
		p.allocated++
		return make([]byte, p.chunkSize), nil
	}
	select {
	case c := <-p.free:
		return c, nil
	case <-p.done:
		return nil, p.readErr()
	}
}

func (p *bufPipe) send() error {
	select {
	case p.full <- p.wbuf:
		p.wbuf = nil
		return nil
	case <-p.done:
		return p.readErr()
	}
}

func (p *bufPipe) readErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rerr
}

// Close flushes what was written and makes the reader see io.EOF after it.
func (p *bufPipe) Close() error { return p.CloseWithError(nil) }

// CloseWithError makes the reader see err (io.EOF if nil) after the data written
// before. Only the first close of the writer counts.
func (p *bufPipe) CloseWithError(err error) error {
	p.wclose.Do(func() {
		if err == nil && len(p.wbuf) > 0 {
			err = p.send()
		}
		if err == nil {
			err = io.EOF
		}
		p.mu.Lock()
		p.werr = err
		p.mu.Unlock()
		close(p.full)
	})
	return nil
}

// Read reads what the writer wrote, then its close error.
func (p *bufPipe) Read(b []byte) (int, error) {
	if len(p.rbuf) == 0 {
		if p.rchunk != nil {
			p.free <- p.rchunk[:cap(p.rchunk)]
			p.rchunk = nil
		}
		select {
		case c, ok := <-p.full:
			if !ok {
				p.mu.Lock()
				defer p.mu.Unlock()
				return 0, p.werr
			}
			p.rchunk, p.rbuf = c, c
		case <-p.done:
			return 0, io.ErrClosedPipe
		}
	}
	n := copy(b, p.rbuf)
	p.rbuf = p.rbuf[n:]
	return n, nil
}

// CloseRead makes further writes fail with err (io.ErrClosedPipe if nil).
func (p *bufPipe) CloseRead(err error) {
	p.rclose.Do(func() {
		if err == nil {
			err = io.ErrClosedPipe
		}
		p.mu.Lock()
		p.rerr = err
		p.mu.Unlock()
		close(p.done)
	})
}
