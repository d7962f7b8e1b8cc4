package s3

import "sync"

// idlePartBuffers is how many part buffers of one size are kept between uses: one
// upload has one part uploading and the next filling.
const idlePartBuffers = 2

// partBuffers keeps up to idlePartBuffers buffers of one size between uses, for every
// Store of that part size. Unlike a sync.Pool, it does not drop them at each garbage
// collection: a dropped buffer is made again by the next part, and that garbage let
// the heap of one resumable upload grow to twice the buffers in use (a gateway peak RSS
// of 160-170 MiB instead of under 100).
type partBuffers struct {
	size int64
	free chan *[]byte
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
		p = &partBuffers{size: size, free: make(chan *[]byte, idlePartBuffers)}
		partBuffersBy[size] = p
	}
	return p
}

// get returns a kept buffer, or a new one.
func (p *partBuffers) get() *[]byte {
	select {
	case b := <-p.free:
		return b
	default:
		b := make([]byte, p.size)
		return &b
	}
}

// put keeps b if fewer than idlePartBuffers are kept, and drops it otherwise.
func (p *partBuffers) put(b *[]byte) {
	select {
	case p.free <- b:
	default:
	}
}
