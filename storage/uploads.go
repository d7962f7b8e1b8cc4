package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Resumable uploads (docs/storage.md section 6) need two things a write-once Store does
// not give: an object built from parts sent over hours, each durable as soon as it is
// written, and small records of the upload's progress that are deleted once it ends.
// Stores that can do both implement Uploader and Scratch.

// Part is one part of an upload in progress.
type Part struct {
	// Number is the part's position, from 1. A complete upload has the parts 1 to n.
	Number int
	// Offset is the part's first byte in the object: the sum of the sizes of the
	// parts before it.
	Offset int64
	// Size is the part's length in bytes.
	Size int64
	// ETag is the backend's tag of the stored part where it has one (S3), empty
	// otherwise; CompleteUpload needs it back.
	ETag string
}

// ErrUploadNotFound is returned for an upload the store does not have (never begun,
// aborted, or completed already).
var ErrUploadNotFound = errors.New("upload in progress not found")

// Uploader builds one write-once object from parts written over time, for uploads that
// resume after an interruption. An upload in progress is not an object: Open and List
// do not see it, and it takes the object's name only when CompleteUpload publishes it,
// under the same write-once rule as Create.
//
// Implementations are safe for concurrent use. Within one upload, PutPart of part n+1
// may begin once PutPart of part n has read its last byte (so part n uploads while
// part n+1 is produced), never before, and one part number is written by one PutPart
// at a time.
type Uploader interface {
	// BeginUpload starts an upload that will become the object name and returns its
	// id. Nothing is visible under name until CompleteUpload.
	BeginUpload(ctx context.Context, name string) (id string, err error)
	// PutPart stores part p.Number of upload id: exactly p.Size bytes read from r,
	// placed at p.Offset of the object. It returns once the part is durable, with
	// p.ETag filled in. Writing a part number again replaces that part and, as it
	// begins, drops any higher-numbered part (they may have been written partially: the
	// caller resumes from its own record of the last durable part). If r fails or ends early, or ctx
	// is cancelled, the part is not durable and the error wraps r's error (or
	// ctx.Err()). ErrUploadNotFound if id is not in progress. Memory use does not grow
	// with the part's size beyond the backend's one part buffer.
	PutPart(ctx context.Context, name, id string, p Part, r io.Reader) (Part, error)
	// CompleteUpload publishes parts (1 to n, in order, as PutPart returned them) as
	// the object name, write-once: if name exists, it is ErrExists and the upload is
	// left in progress. On success the upload is gone. The returned Info has Name,
	// Size, Version, ETag and Location; SHA256 is empty (the caller, which hashed the
	// parts as it wrote them, knows it). ErrUploadNotFound if id is not in progress. A
	// retry after a completion whose answer was lost gets ErrUploadNotFound or
	// ErrExists: the caller then checks the object itself against its own record.
	CompleteUpload(ctx context.Context, name, id string, parts []Part) (Info, error)
	// AbortUpload discards upload id and every part of it; nothing of it is left
	// under name. Aborting an upload that is not in progress succeeds.
	AbortUpload(ctx context.Context, name, id string) error
}

// Scratch keeps small mutable records beside a write-once store: the progress of work
// that is not done yet (an upload in progress), deleted when the work ends. Records
// are never evidence and never part of the custody record. Names follow CheckName;
// they live in a namespace of their own, apart from the objects.
//
// Implementations are safe for concurrent use.
type Scratch interface {
	// PutRecord creates or replaces the record name with data (at most
	// MaxRecordSize bytes); it is durable when PutRecord returns, and a reader sees
	// either the old or the new bytes, never a mix.
	PutRecord(ctx context.Context, name string, data []byte) error
	// GetRecord returns the record's bytes, ErrNotFound if there is none.
	GetRecord(ctx context.Context, name string) ([]byte, error)
	// DeleteRecord removes the record, every version of it included; deleting a
	// missing record succeeds.
	DeleteRecord(ctx context.Context, name string) error
	// ListRecords returns the names of the records whose names start with prefix,
	// sorted bytewise.
	ListRecords(ctx context.Context, prefix string) ([]string, error)
}

// MaxRecordSize bounds a Scratch record.
const MaxRecordSize = 64 << 10

// CheckRecord checks a record's name and size for a Scratch implementation.
func CheckRecord(name string, data []byte) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if len(data) > MaxRecordSize {
		return fmt.Errorf("record %s has %d bytes, more than %d", name, len(data), MaxRecordSize)
	}
	return nil
}

// CheckParts checks that parts are numbered 1 to n in order, each starting where the
// one before ends, and returns the object's size.
func CheckParts(parts []Part) (int64, error) {
	var size int64
	for i, p := range parts {
		if p.Number != i+1 || p.Offset != size || p.Size < 0 {
			return 0, fmt.Errorf("part %d of %d is number %d at offset %d (size %d), want number %d at offset %d",
				i+1, len(parts), p.Number, p.Offset, p.Size, i+1, size)
		}
		size += p.Size
	}
	return size, nil
}

// ExactReader reads exactly size bytes from r: it fails with io.ErrUnexpectedEOF if r
// ends before, and never reads past size.
func ExactReader(r io.Reader, size int64) io.Reader {
	return &exactReader{r: r, left: size}
}

type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("part ended %d bytes early: %w", e.left, io.ErrUnexpectedEOF)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}
