package storage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The reading side of the sealed-object format (docs/storage.md section 3.2). Tink's
// streaming AEAD reader only reads from the start of an object, so the sealer reads
// segments itself: it derives the segment key as Tink does (HKDF-SHA256 of the data
// key, salt from the header, aad as info) and opens each AES-256-GCM segment with the
// nonce nonce_prefix || uint32_be(i) || last. Which segment is the last one comes from
// the record (the plaintext size), never from the stored bytes, so a truncated object
// cannot pass its last complete segment off as the final one.
const (
	// sealHeaderLen is the header: length byte, 32-byte salt, 7-byte nonce prefix.
	sealHeaderLen = 1 + sealKeySize + sealNoncePrefixLen
	// sealNoncePrefixLen is the random per-object prefix of every segment's nonce.
	sealNoncePrefixLen = 7
	// sealTagLen is the GCM tag that ends every segment.
	sealTagLen = 16
	// maxSegments is the format's limit: segment numbers are 32-bit.
	maxSegments = math.MaxUint32
)

// layout is where the segments of one sealed object lie, computed from its plaintext
// size and the segment size.
type layout struct {
	seg   int64 // ciphertext segment size S
	plain int64 // plaintext length
	n     int64 // number of segments, at least 1
}

func newLayout(segmentSize int, plainSize int64) layout {
	l := layout{seg: int64(segmentSize), plain: plainSize, n: 1}
	if first := l.plainLen(0); plainSize > first {
		per := l.seg - sealTagLen
		l.n = 1 + (plainSize-first+per-1)/per
	}
	return l
}

// plainLen is the plaintext capacity of segment i (the first one holds the header too).
func (l layout) plainLen(i int64) int64 {
	if i == 0 {
		return l.seg - sealHeaderLen - sealTagLen
	}
	return l.seg - sealTagLen
}

// plainStart is the plaintext offset of segment i's first byte.
func (l layout) plainStart(i int64) int64 {
	if i == 0 {
		return 0
	}
	return l.plainLen(0) + (i-1)*l.plainLen(1)
}

// segmentOf is the segment holding plaintext byte off (off < plain).
func (l layout) segmentOf(off int64) int64 {
	if off < l.plainLen(0) {
		return 0
	}
	return 1 + (off-l.plainLen(0))/l.plainLen(1)
}

// cipherStart is the object offset of segment i.
func (l layout) cipherStart(i int64) int64 {
	if i == 0 {
		return sealHeaderLen
	}
	return i * l.seg
}

// cipherEnd is the object offset just after segment i.
func (l layout) cipherEnd(i int64) int64 {
	if i == l.n-1 {
		return l.size()
	}
	return (i + 1) * l.seg
}

// size is the object's length: header, plaintext, one tag per segment.
func (l layout) size() int64 { return sealHeaderLen + l.plain + sealTagLen*l.n }

// Open returns a reader of the whole plaintext of a sealed object: OpenRange of every
// byte. The plaintext is proven complete and unaltered only once Read returns io.EOF:
// a consumer must not act on the bytes before that.
func (s *Sealer) Open(ctx context.Context, sealed Sealed, aad []byte) (*Plaintext, error) {
	return s.OpenRange(ctx, sealed, aad, 0, sealed.PlainSize)
}

// OpenRange returns a reader of plaintext bytes [off, off+n) of a sealed object, reading
// only the segments that hold them (and the header). aad must be the one given to Seal.
// The range must lie within the plaintext and hold at least one byte, except that the
// empty plaintext is read whole with off and n 0.
//
// Every segment is authenticated before any of its bytes is returned. A segment that
// fails, a header that does not derive the key the segments were sealed under, an
// object shorter than the recorded size, or one whose size the store reports otherwise
// (bytes appended), is an error wrapping ErrIntegrity, from OpenRange or from Read. A
// range that reaches the end of the plaintext authenticates the final segment, whose
// nonce marks it last: the reader knows from sealed.PlainSize which segment is last, so
// a truncated object is caught even when it ends on a segment boundary. OpenRange does
// not hash the ciphertext: the authentication covers every byte it returns (Verify
// checks the recorded ciphertext digest, for auditors). Errors of the store itself pass
// through, not wrapped by ErrIntegrity.
//
// The data key is unwrapped, and the header read, before OpenRange returns: a key
// manager that cannot serve the key fails here, before any byte is read.
func (s *Sealer) OpenRange(ctx context.Context, sealed Sealed, aad []byte, off, n int64) (*Plaintext, error) {
	name := sealed.Object.Name
	l := newLayout(s.segmentSize(), sealed.PlainSize)
	switch {
	case sealed.PlainSize < 0 || l.n > maxSegments || l.size() != sealed.Object.Size:
		return nil, fmt.Errorf("opening sealed object %s: recorded ciphertext size %d does not fit plaintext size %d: %w",
			name, sealed.Object.Size, sealed.PlainSize, ErrIntegrity)
	case off < 0 || n < 0 || off > sealed.PlainSize-n || (n == 0 && !(off == 0 && sealed.PlainSize == 0)):
		return nil, fmt.Errorf("opening sealed object %s: range [%d, +%d) is not within its %d bytes", name, off, n, sealed.PlainSize)
	}
	first, last := int64(0), int64(0)
	if n > 0 {
		first, last = l.segmentOf(off), l.segmentOf(off+n-1)
	}
	key, err := s.Keys.UnwrapDataKey(ctx, sealed.KeyRef, sealed.WrappedKey, aad)
	if err != nil {
		return nil, fmt.Errorf("opening sealed object %s: %w", name, err)
	}
	defer clear(key)

	// One read from the header through the last segment wanted when the range starts
	// in the first segment; otherwise the header, then the segments.
	from := l.cipherStart(first)
	if first == 0 {
		from = 0
	}
	src, err := s.openPart(ctx, sealed.Object, from, l.cipherEnd(last)-from)
	if err != nil {
		return nil, err
	}
	hsrc := io.ReadCloser(src)
	if first != 0 {
		if hsrc, err = s.openPart(ctx, sealed.Object, 0, sealHeaderLen); err != nil {
			src.Close()
			return nil, err
		}
		defer hsrc.Close()
	}
	aead, prefix, err := readHeader(hsrc, key, aad)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("opening sealed object %s: %w", name, err)
	}
	return &Plaintext{name: name, src: src, aead: aead, prefix: prefix, l: l,
		next: first, last: last, skip: off - l.plainStart(first), left: n,
		buf: make([]byte, l.seg)}, nil
}

// openPart opens bytes [off, off+n) of the sealed object, checking that the store
// reports the recorded size.
func (s *Sealer) openPart(ctx context.Context, obj Info, off, n int64) (*storeReader, error) {
	rc, info, err := OpenRange(ctx, s.Store, obj.Name, obj.Version, off, n)
	if err != nil {
		return nil, fmt.Errorf("opening sealed object %s: %w", obj.Name, err)
	}
	if info.Size != obj.Size {
		rc.Close()
		return nil, fmt.Errorf("opening sealed object %s: the store holds %d bytes, recorded %d: %w", obj.Name, info.Size, obj.Size, ErrIntegrity)
	}
	return &storeReader{r: ContextReader(ctx, rc), c: rc}, nil
}

// readHeader reads the object header and returns the segment cipher and nonce prefix.
func readHeader(r io.Reader, key, aad []byte) (cipher.AEAD, []byte, error) {
	h := make([]byte, sealHeaderLen)
	if err := readFull(r, h, "the header"); err != nil {
		return nil, nil, err
	}
	if h[0] != sealHeaderLen {
		return nil, nil, fmt.Errorf("header length byte %d, want %d: %w", h[0], sealHeaderLen, ErrIntegrity)
	}
	salt, prefix := h[1:1+sealKeySize], h[1+sealKeySize:]
	aead, err := segmentCipher(key, salt, aad)
	if err != nil {
		return nil, nil, err
	}
	return aead, prefix, nil
}

// segmentCipher derives an object's segment cipher from its data key, the salt of its
// header and its aad. SPEC: K = HKDF-SHA256(IKM = data key, salt = salt, info = aad,
// L = 32); each segment is AES-256-GCM under K.
func segmentCipher(key, salt, aad []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key, salt, string(aad), sealKeySize)
	if err != nil {
		return nil, fmt.Errorf("deriving the segment key: %w", err)
	}
	defer clear(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("deriving the segment key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("deriving the segment key: %w", err)
	}
	return aead, nil
}

// readFull fills b from r. An object that ends first is ErrIntegrity; other errors are
// the store's.
func readFull(r io.Reader, b []byte, what string) error {
	_, err := io.ReadFull(r, b)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the object ends within %s: %w", what, ErrIntegrity)
	case err != nil:
		return fmt.Errorf("reading ciphertext: %w", err)
	}
	return nil
}

// storeReader is a store's reader under the caller's context.
type storeReader struct {
	r io.Reader
	c io.Closer
}

func (c *storeReader) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *storeReader) Close() error               { return c.c.Close() }

// Plaintext reads a range of a sealed object's plaintext (Sealer.OpenRange). It holds
// one segment in memory. It is not safe for concurrent use.
type Plaintext struct {
	name   string
	src    io.ReadCloser
	aead   cipher.AEAD
	prefix []byte
	l      layout
	next   int64 // the next segment to read
	last   int64 // the last segment of the range
	skip   int64 // plaintext bytes of segment next to drop before the range
	left   int64 // bytes of the range not yet decrypted
	buf    []byte
	out    []byte // decrypted, not yet returned
	err    error  // sticky: io.EOF at the end
	nonce  [12]byte
}

// segment reads, authenticates and decrypts the next segment into p.out.
func (p *Plaintext) segment() error {
	i := p.next
	ct := p.buf[:p.l.cipherEnd(i)-p.l.cipherStart(i)]
	if err := readFull(p.src, ct, fmt.Sprintf("segment %d", i)); err != nil {
		return fmt.Errorf("reading sealed object %s: %w", p.name, err)
	}
	copy(p.nonce[:], p.prefix)
	binary.BigEndian.PutUint32(p.nonce[sealNoncePrefixLen:], uint32(i))
	p.nonce[11] = 0
	if i == p.l.n-1 {
		p.nonce[11] = 1
	}
	pt, err := p.aead.Open(ct[:0], p.nonce[:], ct, nil)
	if err != nil {
		return fmt.Errorf("reading sealed object %s: segment %d failed authentication: %w", p.name, i, ErrIntegrity)
	}
	pt = pt[p.skip:]
	pt = pt[:min(int64(len(pt)), p.left)]
	p.skip, p.left, p.next = 0, p.left-int64(len(pt)), i+1
	p.out = pt
	return nil
}

// fill makes p.out hold bytes, or sets p.err.
func (p *Plaintext) fill() {
	for len(p.out) == 0 && p.err == nil {
		if p.next > p.last {
			p.err = io.EOF
			return
		}
		p.err = p.segment()
	}
}

// Start reads and authenticates the first segment of the range now, so that a range
// that starts in an altered segment fails before the caller commits to an answer. It
// returns the error Read would return first (nil for an empty range).
func (p *Plaintext) Start() error {
	p.fill()
	if len(p.out) == 0 && p.err != io.EOF {
		return p.err
	}
	return nil
}

// Read implements io.Reader.
func (p *Plaintext) Read(b []byte) (int, error) {
	p.fill()
	if len(p.out) == 0 {
		return 0, p.err
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// WriteTo implements io.WriterTo: it writes each segment's plaintext as soon as it is
// authenticated, without copying it. It returns nil once the whole range is written.
func (p *Plaintext) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		p.fill()
		if len(p.out) == 0 {
			if p.err == io.EOF {
				return total, nil
			}
			return total, p.err
		}
		n, err := w.Write(p.out)
		total += int64(n)
		p.out = p.out[n:]
		if err != nil {
			return total, err
		}
	}
}

// Close releases the store's reader.
func (p *Plaintext) Close() error { return p.src.Close() }
