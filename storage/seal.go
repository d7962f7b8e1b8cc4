package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"

	"github.com/evidencegw/evidencegw/keys"
)

var (
	// ErrDigestMismatch is returned by Seal when the plaintext's SHA-256 differs from
	// the digest the client declared. Nothing is stored.
	ErrDigestMismatch = errors.New("plaintext digest differs from the declared digest")
	// ErrIntegrity is returned when stored ciphertext fails its recorded digest or its
	// authentication: the object was altered or truncated. It is a custody security
	// event, not an ordinary I/O error.
	ErrIntegrity = errors.New("sealed object failed its integrity check")
)

// Parameters of the sealed-object format (docs/storage.md). Changing any of them
// makes existing objects unreadable.
const (
	// sealHKDF is the HKDF hash deriving each object's segment key from its data key.
	sealHKDF = "SHA256"
	// sealKeySize is the size of the derived AES-GCM key (AES-256).
	sealKeySize = 32
	// DefaultSegmentSize is the ciphertext segment size when Sealer.SegmentSize is 0.
	DefaultSegmentSize = 1 << 20
	// sealBufSize is the plaintext read size of the sealing pipeline, and the size
	// of the chunks handed from the encryptor to the store.
	sealBufSize = 1 << 20
	// sealPipeChunks is how many ciphertext chunks may wait for the store: enough
	// for the encryptor and the store to run at the same time on two CPUs.
	sealPipeChunks = 2
)

// Sealer encrypts evidence into write-once objects under per-object data keys
// (envelope encryption), with Tink's AES-GCM-HKDF streaming AEAD.
//
// A Sealer is safe for concurrent use. Memory per call is a few segments, whatever
// the object's size.
type Sealer struct {
	// Store receives the ciphertext objects.
	Store Store
	// Keys provides and unwraps the data keys.
	Keys keys.DataKeys
	// SegmentSize is the ciphertext segment size in bytes; 0 means
	// DefaultSegmentSize. It must be the same for Seal and Open of one object, so
	// keep the default unless every reader knows the other value.
	SegmentSize int
}

// Sealed records one sealed object: what the custody record keeps to find, check
// and decrypt it.
type Sealed struct {
	// Object is the ciphertext object; Object.SHA256 and Object.Size describe the
	// ciphertext bytes.
	Object Info
	// PlainSHA256 is the lowercase hex SHA-256 of the plaintext (the evidence digest).
	PlainSHA256 string
	// PlainSize is the plaintext length in bytes.
	PlainSize int64
	// KeyRef names the key-encryption key that wrapped the data key.
	KeyRef string
	// WrappedKey is the wrapped data key, safe to store.
	WrappedKey []byte
}

func (s *Sealer) segmentSize() int {
	if s.SegmentSize == 0 {
		return DefaultSegmentSize
	}
	return s.SegmentSize
}

// newAEAD returns the streaming AEAD for one data key. Tink keeps its own copy of
// the key; the caller zeroes key after this returns.
func (s *Sealer) newAEAD(key []byte) (*subtle.AESGCMHKDF, error) {
	return subtle.NewAESGCMHKDF(key, sealHKDF, sealKeySize, s.segmentSize(), 0)
}

// Seal encrypts plaintext into a new object called name under a fresh data key for
// jurisdiction. aad (the evidence id) is bound both to the wrapped key and to the
// stream: Open needs the same aad.
//
// wantSHA256 is the 32-byte SHA-256 the client declared for the plaintext. If the
// plaintext hashes otherwise, Seal returns an error wrapping ErrDigestMismatch and
// nothing is stored. If plaintext fails (a truncated body) or ctx is cancelled,
// nothing is stored and the error wraps the cause.
//
// Every call uses a new data key, so sealing the same plaintext twice under one
// name is ErrExists: callers choose a fresh name per attempt.
func (s *Sealer) Seal(ctx context.Context, name, jurisdiction string, aad, wantSHA256 []byte, plaintext io.Reader) (Sealed, error) {
	if len(wantSHA256) != sha256.Size {
		return Sealed{}, fmt.Errorf("sealing %s: declared digest is %d bytes, want %d", name, len(wantSHA256), sha256.Size)
	}
	dk, err := s.Keys.NewDataKey(ctx, jurisdiction, aad)
	if err != nil {
		return Sealed{}, fmt.Errorf("sealing %s: %w", name, err)
	}
	aead, err := s.newAEAD(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return Sealed{}, fmt.Errorf("sealing %s: %w", name, err)
	}

	// Pipeline: this goroutine runs Store.Create, which hashes and writes the
	// ciphertext; the encryptor goroutine reads, hashes and encrypts the plaintext.
	pipe := newBufPipe(sealPipeChunks, sealBufSize)
	done := make(chan encryptResult, 1)
	go func() { done <- encryptStream(ctx, aead, aad, wantSHA256, plaintext, pipe) }()
	info, createErr := s.Store.Create(ctx, name, pipe)
	// Unblock the encryptor if Create stopped reading early.
	pipe.CloseRead(errSealAborted)
	res := <-done

	switch {
	case res.inputErr != nil:
		if createErr == nil {
			// The store broke its contract by keeping an object from a failed reader.
			return Sealed{}, fmt.Errorf("sealing %s: store kept object %s despite failed input: %w", name, info.Location, res.inputErr)
		}
		return Sealed{}, fmt.Errorf("sealing %s: %w", name, res.inputErr)
	case createErr != nil:
		return Sealed{}, fmt.Errorf("sealing %s: %w", name, createErr)
	case res.err != nil:
		return Sealed{}, fmt.Errorf("sealing %s: %w", name, res.err)
	}
	return Sealed{
		Object:      info,
		PlainSHA256: res.plainSHA256,
		PlainSize:   res.plainSize,
		KeyRef:      dk.KeyRef,
		WrappedKey:  dk.Wrapped,
	}, nil
}

var errSealAborted = errors.New("object store stopped reading the ciphertext")

// encryptResult separates failures of the input (plaintext error, digest mismatch,
// cancellation), which the caller reports as such, from failures downstream.
type encryptResult struct {
	plainSHA256 string
	plainSize   int64
	inputErr    error
	err         error
}

// encryptStream reads plaintext, hashes it and encrypts it into pw. It closes pw
// without error only when the plaintext ended and matched wantSHA256; on any failure it
// closes pw with the error, so the store sees a failed reader and keeps nothing.
func encryptStream(ctx context.Context, aead *subtle.AESGCMHKDF, aad, wantSHA256 []byte, plaintext io.Reader, pw *bufPipe) (res encryptResult) {
	defer func() {
		if err := errors.Join(res.inputErr, res.err); err != nil {
			pw.CloseWithError(err)
		} else {
			pw.Close()
		}
	}()
	w, err := aead.NewEncryptingWriter(pw, aad)
	if err != nil {
		res.err = fmt.Errorf("starting encryption: %w", err)
		return res
	}
	h := sha256.New()
	buf := make([]byte, sealBufSize)
	for {
		if err := ctx.Err(); err != nil {
			res.inputErr = err
			return res
		}
		n, rerr := io.ReadFull(plaintext, buf)
		if n > 0 {
			h.Write(buf[:n])
			res.plainSize += int64(n)
			if _, err := w.Write(buf[:n]); err != nil {
				res.err = fmt.Errorf("encrypting: %w", err)
				return res
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			res.inputErr = fmt.Errorf("reading plaintext after %d bytes: %w", res.plainSize, rerr)
			return res
		}
	}
	sum := h.Sum(nil)
	if !bytes.Equal(sum, wantSHA256) {
		res.inputErr = fmt.Errorf("plaintext sha256 %x, declared %x: %w", sum, wantSHA256, ErrDigestMismatch)
		return res
	}
	// Only now the last segment, marked final, is written: a stream cut before
	// this point can never authenticate.
	if err := w.Close(); err != nil {
		res.err = fmt.Errorf("finishing encryption: %w", err)
		return res
	}
	res.plainSHA256 = hex.EncodeToString(sum)
	return res
}

// Verify reads the stored ciphertext and checks its size and SHA-256 against
// sealed.Object; a difference is an error wrapping ErrIntegrity. It needs no key.
func (s *Sealer) Verify(ctx context.Context, sealed Sealed) error {
	name := sealed.Object.Name
	rc, _, err := s.Store.Open(ctx, name, sealed.Object.Version)
	if err != nil {
		return fmt.Errorf("verifying sealed object %s: %w", name, err)
	}
	defer rc.Close()
	h := sha256.New()
	buf := make([]byte, sealBufSize)
	n, err := io.CopyBuffer(h, ContextReader(ctx, rc), buf)
	if err != nil {
		return fmt.Errorf("verifying sealed object %s: %w", name, err)
	}
	if err := checkDigest(sealed.Object, n, h); err != nil {
		return fmt.Errorf("verifying sealed object %s: %w", name, err)
	}
	return nil
}

// checkDigest compares what was read with the recorded ciphertext size and digest.
func checkDigest(want Info, size int64, h hash.Hash) error {
	got := hex.EncodeToString(h.Sum(nil))
	if size != want.Size || got != want.SHA256 {
		return fmt.Errorf("stored ciphertext has %d bytes with sha256 %s, recorded %d bytes with sha256 %s: %w",
			size, got, want.Size, want.SHA256, ErrIntegrity)
	}
	return nil
}
