// Package storage holds evidence content: a write-once object store interface, its
// implementations (local filesystem for the embedded default, S3 for real deployments),
// and the envelope encryption that turns plaintext evidence into sealed objects.
//
// Objects are never overwritten through this package, and deleted only by
// Retainer.Destroy once their retention period has ended and no legal hold keeps them
// (retention.go). Until then a name, once written, keeps its bytes; an attempt to write
// different bytes under it is ErrExists.
// Names are chosen by the application layer (exhibit/names.go); this package checks
// their syntax only and gives them no meaning.
//
// It may import keys (for data keys) and Tink; it must not import custody, ledger, the
// application layer or anything HTTP. The SDK of a real store lives in its own
// subpackage (storage/s3 with minio-go).
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

var (
	// ErrNotFound is returned when no object has the requested name (or version).
	ErrNotFound = errors.New("object not found")
	// ErrExists is returned when an object with the name already exists with other content.
	ErrExists = errors.New("object already exists")
)

// Info describes one stored object.
type Info struct {
	// Name is the object's name inside the store, a slash-separated path such as
	// "evidence/ev-.../content". Names are chosen by the gateway, never by clients.
	Name string
	// Size is the object's length in bytes.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the object's bytes, as written.
	SHA256 string
	// Version identifies the written version where the backend versions objects
	// (S3 version ID); empty for the local store.
	Version string
	// ETag is the backend's entity tag where it has one; empty for the local store.
	ETag string
	// Location is a URI naming where the object lives, for the custody record,
	// such as "file:///data/objects/evidence/x/content" or "s3://bucket/key".
	Location string
	// Modified is when the object was written, as the backend records it (the file's
	// modification time, S3's Last-Modified, to the second there). Open and OpenRange
	// fill it; Create may leave it zero. It is the backend's clock, not a trusted
	// time: it serves housekeeping (how old an orphan is), never a custody record.
	Modified time.Time
}

// Store is a write-once object store.
//
// Names are checked with CheckName by every implementation; an invalid name is an
// error wrapping ErrInvalidName and touches nothing.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Create streams r into a new object called name and returns once the object is
	// durable (fsynced, or acknowledged by the backend). If the object already exists
	// with the same bytes, Create succeeds (a retry is safe); with other bytes it
	// returns ErrExists and the stored object is unchanged. Of concurrent Creates of
	// one name with different bytes, exactly one succeeds. If r fails, or ctx is
	// cancelled, nothing is left under name and the error wraps r's error (or
	// ctx.Err()), so a caller that fails r on purpose can recognise its own error.
	// The returned Info has every field the backend knows, SHA256 and Size included.
	// Memory use does not grow with the object's size.
	Create(ctx context.Context, name string, r io.Reader) (Info, error)
	// Open returns a reader of the object's bytes. version selects a version where
	// the backend keeps versions ("" means the current one); a version the backend
	// does not have is ErrNotFound. ErrNotFound if absent.
	//
	// The returned Info has Name, Size and Location; SHA256 is filled only where the
	// backend has it without reading the object (it may be empty). Callers that need
	// to prove the bytes hash what they read against their own record.
	Open(ctx context.Context, name, version string) (io.ReadCloser, Info, error)
	// List returns the names of the objects whose names start with prefix, sorted
	// bytewise. prefix is a plain string prefix ("a/b" matches "a/b/c" and "a/bc").
	List(ctx context.Context, prefix string) ([]string, error)
}

// RangeOpener is implemented by stores that read part of an object without reading
// what comes before it (a file seek, an S3 ranged GET). Use OpenRange, which falls back
// to Open for stores without it.
type RangeOpener interface {
	// OpenRange returns a reader of bytes [off, off+n) of the object. If the object is
	// shorter, the reader returns the bytes it has (none if off is at or past its end)
	// and ends: the caller that knows the length to expect detects the shortfall. The
	// returned Info is what Open returns, its Size the whole object's. Errors as Open.
	// off and n must not be negative.
	OpenRange(ctx context.Context, name, version string, off, n int64) (io.ReadCloser, Info, error)
}

// OpenRange opens bytes [off, off+n) of an object of s, through s's RangeOpener if it
// has one, otherwise by reading and discarding the first off bytes of Open's reader.
func OpenRange(ctx context.Context, s Store, name, version string, off, n int64) (io.ReadCloser, Info, error) {
	if off < 0 || n < 0 {
		return nil, Info{}, fmt.Errorf("opening object %s: negative range [%d, +%d)", name, off, n)
	}
	if ro, ok := s.(RangeOpener); ok {
		return ro.OpenRange(ctx, name, version, off, n)
	}
	rc, info, err := s.Open(ctx, name, version)
	if err != nil {
		return nil, Info{}, err
	}
	if _, err := io.CopyN(io.Discard, rc, off); err != nil && err != io.EOF {
		rc.Close()
		return nil, Info{}, fmt.Errorf("opening object %s at %d: %w", name, off, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(rc, n), rc}, info, nil
}

// LegalHolder is implemented by stores that can put an object under legal hold (S3
// Object Lock): a held object cannot be deleted, even after its retention period, until
// the hold is released. Stores without the notion return an error wrapping
// errors.ErrUnsupported.
type LegalHolder interface {
	SetLegalHold(ctx context.Context, name, version string, on bool) error
}
