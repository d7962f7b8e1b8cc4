package s3

import (
	"errors"
	"io"
	"sync"
)

// errBodyReleased is what a request body returns once its buffer went back to the pool.
var errBodyReleased = errors.New("request body released")

// body is a request body over a pooled buffer. net/http may still read a body after
// the response arrived (a server that answers 412 before the whole body is sent), in
// its own goroutine: release waits for a read in progress and makes every later read
// fail, so the buffer can be reused without that goroutine seeing it change.
type body struct {
	mu       sync.Mutex
	data     []byte
	off      int
	released bool
}

func newBody(data []byte) *body { return &body{data: data} }

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.released:
		return 0, errBodyReleased
	case b.off >= len(b.data):
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

// release ends the body's use of its buffer.
func (b *body) release() {
	b.mu.Lock()
	b.released = true
	b.data = nil
	b.mu.Unlock()
}

// Seek lets minio-go rewind the body to retry a request.
func (b *body) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return 0, errBodyReleased
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = int64(b.off) + offset
	case io.SeekEnd:
		abs = int64(len(b.data)) + offset
	default:
		return 0, errors.New("seek: invalid whence")
	}
	if abs < 0 || abs > int64(len(b.data)) {
		return 0, errors.New("seek: position out of range")
	}
	b.off = int(abs)
	return abs, nil
}
