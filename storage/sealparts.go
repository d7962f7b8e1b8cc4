package storage

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
)

// A sealed object can also be written in parts, over time and across restarts of the
// gateway: a resumable upload. The ciphertext is byte for byte the format of Seal
// (docs/storage.md section 3.2), so Open reads both alike. Tink's streaming writer keeps
// its salt, nonce prefix and segment counter private and cannot continue a stream
// another process began, so the parts are encrypted here, segment by segment, with
// Tink's HKDF and the standard library's AES-GCM; every test reads them back through
// Tink's reader (Open).

// Sealing is a sealed object begun by BeginSealing: what a resumable upload keeps, in
// its own record, to continue the object. The data key is only there wrapped.
type Sealing struct {
	KeyRef     string `json:"key_ref"`
	WrappedKey []byte `json:"wrapped_key"`
	// Header is the object's 40 header bytes: header_len, salt, nonce prefix.
	Header []byte `json:"header"`
}

// SealState is how far a sealed object written in parts has come: enough to continue
// it, and to know its digests once it is done. The zero value is the start.
type SealState struct {
	// Segments is the number of segments written.
	Segments uint32 `json:"segments"`
	// PlainSize and CipherSize count the plaintext read and the ciphertext written
	// (the header included).
	PlainSize  int64 `json:"plain_size"`
	CipherSize int64 `json:"cipher_size"`
	// PlainHash and CipherHash are the SHA-256 states of the plaintext and of the
	// ciphertext so far (crypto/sha256's MarshalBinary form); empty at the start.
	PlainHash  []byte `json:"plain_hash,omitempty"`
	CipherHash []byte `json:"cipher_hash,omitempty"`
	// Final is set once the final segment is written.
	Final bool `json:"final,omitempty"`
}

// PlainSHA256 returns the lowercase hex SHA-256 of the plaintext so far.
func (st SealState) PlainSHA256() (string, error) { return sumState(st.PlainHash) }

// CipherSHA256 returns the lowercase hex SHA-256 of the ciphertext so far.
func (st SealState) CipherSHA256() (string, error) { return sumState(st.CipherHash) }

func sumState(state []byte) (string, error) {
	h, err := restoreHash(state)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restoring a SHA-256 state: %w", err)
	}
	return h, nil
}

func saveHash(h hash.Hash) []byte {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	return b
}

// BeginSealing starts a sealed object for jurisdiction under a fresh data key: the key
// is made and wrapped (aad bound to it, as in Seal), the salt and nonce prefix drawn.
// Nothing is stored.
func (s *Sealer) BeginSealing(ctx context.Context, jurisdiction string, aad []byte) (Sealing, error) {
	dk, err := s.Keys.NewDataKey(ctx, jurisdiction, aad)
	if err != nil {
		return Sealing{}, fmt.Errorf("beginning a sealed object: %w", err)
	}
	clear(dk.Plaintext)
	header := make([]byte, sealHeaderLen)
	header[0] = sealHeaderLen
	rand.Read(header[1:])
	return Sealing{KeyRef: dk.KeyRef, WrappedKey: dk.Wrapped, Header: header}, nil
}

// PartSealer encrypts the parts of one sealed object. It holds the object's segment
// key; it is safe for concurrent use (it keeps no state between calls).
type PartSealer struct {
	aead        cipher.AEAD
	header      []byte
	segmentSize int
}

// segmentBuffers holds *[]byte of a segment's size, for SealPart: two per part,
// allocated anew they were the most of what an upload allocates, and the garbage grew
// the heap.
var segmentBuffers sync.Pool

// segmentBuffer returns a buffer of size bytes from segmentBuffers, or a new one.
func segmentBuffer(size int) *[]byte {
	if b, ok := segmentBuffers.Get().(*[]byte); ok && cap(*b) >= size {
		*b = (*b)[:size]
		return b
	}
	b := make([]byte, size)
	return &b
}

// ResumeSealing unwraps the data key of sg (aad as given to BeginSealing) and returns
// the object's part encrypter.
func (s *Sealer) ResumeSealing(ctx context.Context, sg Sealing, aad []byte) (*PartSealer, error) {
	if len(sg.Header) != sealHeaderLen || sg.Header[0] != sealHeaderLen {
		return nil, fmt.Errorf("resuming a sealed object: header is %d bytes, want %d starting with %d", len(sg.Header), sealHeaderLen, sealHeaderLen)
	}
	key, err := s.Keys.UnwrapDataKey(ctx, sg.KeyRef, sg.WrappedKey, aad)
	if err != nil {
		return nil, fmt.Errorf("resuming a sealed object: %w", err)
	}
	defer clear(key)
	aead, err := segmentCipher(key, sg.Header[1:1+sealKeySize], aad)
	if err != nil {
		return nil, fmt.Errorf("resuming a sealed object: %w", err)
	}
	return &PartSealer{aead: aead, header: sg.Header, segmentSize: s.segmentSize()}, nil
}

// SegmentPlaintext returns the plaintext capacity of segment i.
func (p *PartSealer) SegmentPlaintext(i uint32) int64 {
	if i == 0 {
		return int64(p.segmentSize - sealHeaderLen - sealTagLen)
	}
	return int64(p.segmentSize - sealTagLen)
}

// PlainForSegments returns the plaintext that fills n whole segments after st.
func (p *PartSealer) PlainForSegments(st SealState, n uint32) int64 {
	var total int64
	for i := range n {
		total += p.SegmentPlaintext(st.Segments + i)
	}
	return total
}

// CipherSize returns the ciphertext SealPart writes for plainLen bytes after st.
func (p *PartSealer) CipherSize(st SealState, plainLen int64, final bool) int64 {
	segs, _ := p.segments(st, plainLen, final)
	size := plainLen + int64(segs)*sealTagLen
	if st.Segments == 0 {
		size += sealHeaderLen
	}
	return size
}

// segments returns how many segments plainLen bytes after st take, or an error if a
// part that is not final does not end on a segment boundary.
func (p *PartSealer) segments(st SealState, plainLen int64, final bool) (uint32, error) {
	var n uint32
	left := plainLen
	for {
		c := p.SegmentPlaintext(st.Segments + n)
		if left < c || (final && left == c) {
			if final {
				return n + 1, nil
			}
			if left != 0 {
				return 0, fmt.Errorf("a part that is not final must end on a segment boundary: %d bytes left in segment %d", left, st.Segments+n)
			}
			return n, nil
		}
		left -= c
		n++
	}
}

// ErrSealFinished is returned by SealPart after the final segment.
var ErrSealFinished = errors.New("the sealed object is complete")

// SealPart encrypts the next part of the object: it reads exactly plainLen bytes from
// src, writes their ciphertext to dst (the header first if st is the start), and
// returns the state after them. A part that is not final must fill whole segments
// (PlainForSegments); the final part marks its last segment final. If src fails or ends
// early, the error wraps its error and st stays where it was (the caller writes the part
// again from st). dst sees every segment only once it is encrypted.
func (p *PartSealer) SealPart(dst io.Writer, src io.Reader, st SealState, plainLen int64, final bool) (SealState, error) {
	if st.Final {
		return st, ErrSealFinished
	}
	nsegs, err := p.segments(st, plainLen, final)
	if err != nil {
		return st, err
	}
	ph, err := restoreHash(st.PlainHash)
	if err != nil {
		return st, err
	}
	ch, err := restoreHash(st.CipherHash)
	if err != nil {
		return st, err
	}
	next := st
	if st.Segments == 0 {
		if _, err := dst.Write(p.header); err != nil {
			return st, fmt.Errorf("writing the header: %w", err)
		}
		ch.Write(p.header)
		next.CipherSize += sealHeaderLen
	}
	pb, ob := segmentBuffer(p.segmentSize), segmentBuffer(p.segmentSize)
	defer segmentBuffers.Put(pb)
	defer segmentBuffers.Put(ob)
	plain, out := (*pb)[:p.SegmentPlaintext(1)], (*ob)[:0]
	nonce := make([]byte, p.aead.NonceSize())
	copy(nonce, p.header[1+sealKeySize:])
	left := plainLen
	for i := range nsegs {
		seg := next.Segments
		n := min(left, p.SegmentPlaintext(seg))
		if _, err := io.ReadFull(src, plain[:n]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return st, fmt.Errorf("reading plaintext at %d: %w", next.PlainSize, err)
		}
		last := final && i == nsegs-1
		// SPEC: nonce_i = nonce_prefix(7) || uint32_big_endian(i) || last(1).
		binary.BigEndian.PutUint32(nonce[sealNoncePrefixLen:], seg)
		nonce[sealNoncePrefixLen+4] = 0
		if last {
			nonce[sealNoncePrefixLen+4] = 1
		}
		out = p.aead.Seal(out[:0], nonce, plain[:n], nil)
		if _, err := dst.Write(out); err != nil {
			return st, fmt.Errorf("writing segment %d: %w", seg, err)
		}
		ph.Write(plain[:n])
		ch.Write(out)
		left -= n
		next.Segments++
		next.PlainSize += n
		next.CipherSize += int64(len(out))
	}
	next.PlainHash, next.CipherHash, next.Final = saveHash(ph), saveHash(ch), final
	return next, nil
}

// SealedParts returns the Sealed record of an object written in parts, once its final
// part is written and the object stored as info.
func SealedParts(sg Sealing, st SealState, info Info) (Sealed, error) {
	if !st.Final {
		return Sealed{}, errors.New("the sealed object has no final segment yet")
	}
	plain, err := st.PlainSHA256()
	if err != nil {
		return Sealed{}, err
	}
	ciph, err := st.CipherSHA256()
	if err != nil {
		return Sealed{}, err
	}
	if info.Size != st.CipherSize {
		return Sealed{}, fmt.Errorf("stored object has %d bytes, %d were sealed", info.Size, st.CipherSize)
	}
	info.SHA256 = ciph
	return Sealed{Object: info, PlainSHA256: plain, PlainSize: st.PlainSize, KeyRef: sg.KeyRef, WrappedKey: sg.WrappedKey}, nil
}
