package s3

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// idlePartBuffers is how many part buffers of one size are kept between uses: one
// upload has one part uploading and the next filling.
const idlePartBuffers = 2

// partBuffers keeps up to idlePartBuffers buffers of one size between uses, for every
// Store of that part size.
//
// The buffers are anonymous memory mappings, outside the Go heap: the garbage
// collector lets the heap grow to twice what is live, and two 16 MiB part buffers
// counted as live let a resumable upload's gateway reach 100 MiB. And unlike a
// sync.Pool, partBuffers does not drop them at each collection: a dropped buffer is
// made again by the next part. A buffer goes back (put) only once nothing reads it:
// see body.release.
type partBuffers struct {
	size int64
	free chan *partBuffer
	made atomic.Int64 // buffers made so far
}

// partBuffer is one buffer; mapped says whether b is a mapping to unmap when dropped.
type partBuffer struct {
	b      []byte
	mapped bool
}

var (
	partBuffersMu sync.Mutex
	partBuffersBy = map[int64]*partBuffers{}
)

// partBuffersOf returns the buffers of size bytes.
func partBuffersOf(size int64) *partBuffers {
	partBuffersMu.Lock()
	defer partBuffersMu.Unlock()
	p, ok := partBuffersBy[size]
	if !ok {
		p = &partBuffers{size: size, free: make(chan *partBuffer, idlePartBuffers)}
		partBuffersBy[size] = p
	}
	return p
}

// get returns a kept buffer, or a new one: a mapping, or heap memory if the mapping
// fails.
func (p *partBuffers) get() *partBuffer {
	select {
	case b := <-p.free:
		return b
	default:
	}
	p.made.Add(1)
	b, err := unix.Mmap(-1, 0, int(p.size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return &partBuffer{b: make([]byte, p.size)}
	}
	return &partBuffer{b: b, mapped: true}
}

// put keeps b if fewer than idlePartBuffers are kept, and drops it otherwise. Nothing
// may use b after put.
func (p *partBuffers) put(b *partBuffer) {
	select {
	case p.free <- b:
	default:
		b.drop()
	}
}

// drop unmaps a mapped buffer. Nothing may use it after.
func (b *partBuffer) drop() {
	if b.mapped {
		unix.Munmap(b.b)
	}
	b.b = nil
}
