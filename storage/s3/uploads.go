package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
)

var (
	_ storage.Uploader = (*Store)(nil)
	_ storage.Scratch  = (*Store)(nil)
)

// scratchPrefix starts the keys of Scratch records. They are written without an
// Object Lock retention, so they can be deleted; List never returns them.
const scratchPrefix = "_scratch/"

// An upload in progress is an S3 multipart upload of the object's key, begun with the
// object's retention; CompleteUpload carries If-None-Match: *, so it publishes
// write-once and without copying a byte (the parts become the object).

// BeginUpload implements storage.Uploader.
func (s *Store) BeginUpload(ctx context.Context, name string) (string, error) {
	if err := storage.CheckName(name); err != nil {
		return "", fmt.Errorf("beginning upload: %w", err)
	}
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, name, s.putOptions(nil))
	if err != nil {
		return "", fmt.Errorf("beginning upload of %s in bucket %s: %w", name, s.bucket, err)
	}
	return id, nil
}

// PutPart implements storage.Uploader. The part is read into a buffer (a kept part
// buffer when it is PartSize bytes or less) and sent with its CRC32C, which the server checks. A part
// other than the last must be at least 5 MiB (S3's rule).
func (s *Store) PutPart(ctx context.Context, name, id string, p storage.Part, r io.Reader) (storage.Part, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Part{}, fmt.Errorf("storing part: %w", err)
	}
	if p.Number < 1 || p.Number > maxParts || p.Size < 0 || p.Size > maxPartSize {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: part number or size out of S3's range", p.Number, name)
	}
	var buf []byte
	if p.Size <= s.partSize {
		bp := s.bufs.get()
		defer s.bufs.put(bp)
		buf = bp.b[:p.Size]
	} else {
		buf = make([]byte, p.Size)
	}
	if _, err := io.ReadFull(storage.ContextReader(ctx, r), buf); err != nil {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: reading it: %w", p.Number, name, err)
	}
	cp, err := s.putPart(ctx, name, id, p.Number, buf)
	if isNoSuchUpload(err) {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: %w", p.Number, name, storage.ErrUploadNotFound)
	}
	if err != nil {
		return storage.Part{}, fmt.Errorf("storing part %d of %s in bucket %s: %w", p.Number, name, s.bucket, err)
	}
	p.ETag = cp.ETag
	return p, nil
}

// CompleteUpload implements storage.Uploader.
func (s *Store) CompleteUpload(ctx context.Context, name, id string, parts []storage.Part) (_ storage.Info, err error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Info{}, fmt.Errorf("completing upload: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("completing upload of %s in bucket %s: %w", name, s.bucket, err)
		}
	}()
	size, err := storage.CheckParts(parts)
	if err != nil {
		return storage.Info{}, err
	}
	if err := s.checkNameFree(ctx, name); err != nil {
		return storage.Info{}, err
	}
	cps := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		cps[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
	}
	up, err := s.core.CompleteMultipartUpload(ctx, s.bucket, name, id, cps, writeOnce(minio.PutObjectOptions{}))
	switch {
	case isNoSuchUpload(err):
		return storage.Info{}, storage.ErrUploadNotFound
	case isPreconditionFailed(err), isNameConflict(err):
		return storage.Info{}, fmt.Errorf("%w: %w", storage.ErrExists, err)
	case err != nil:
		return storage.Info{}, err
	}
	return storage.Info{Name: name, Size: size, Version: up.VersionID, ETag: up.ETag, Location: s.location(name)}, nil
}

// AbortUpload implements storage.Uploader.
func (s *Store) AbortUpload(ctx context.Context, name, id string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("aborting upload: %w", err)
	}
	err := s.core.AbortMultipartUpload(ctx, s.bucket, name, id)
	if err != nil && !isNoSuchUpload(err) && !isNotFound(err) {
		return fmt.Errorf("aborting upload of %s in bucket %s: %w", name, s.bucket, err)
	}
	return nil
}

func isNoSuchUpload(err error) bool {
	return err != nil && errResponse(err).Code == "NoSuchUpload"
}

// PutRecord implements storage.Scratch: a PUT of _scratch/<name> without retention.
// Replacing a record leaves the older version, which DeleteRecord removes too.
func (s *Store) PutRecord(ctx context.Context, name string, data []byte) error {
	if err := storage.CheckRecord(name, data); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	_, err := s.client.PutObject(ctx, s.bucket, scratchPrefix+name, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/json", SendContentMd5: true})
	if err != nil {
		return fmt.Errorf("writing record %s in bucket %s: %w", name, s.bucket, err)
	}
	return nil
}

// GetRecord implements storage.Scratch.
func (s *Store) GetRecord(ctx context.Context, name string) ([]byte, error) {
	if err := storage.CheckName(name); err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	rc, _, _, err := s.core.GetObject(ctx, s.bucket, scratchPrefix+name, minio.GetObjectOptions{})
	if isNotFound(err) {
		return nil, fmt.Errorf("reading record %s: %w", name, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading record %s in bucket %s: %w", name, s.bucket, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, storage.MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading record %s in bucket %s: %w", name, s.bucket, err)
	}
	if len(b) > storage.MaxRecordSize {
		return nil, fmt.Errorf("reading record %s: longer than %d bytes", name, storage.MaxRecordSize)
	}
	return b, nil
}

// DeleteRecord implements storage.Scratch: every version of the record is removed.
func (s *Store) DeleteRecord(ctx context.Context, name string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("deleting record: %w", err)
	}
	key := scratchPrefix + name
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errs []error
	for obj := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return fmt.Errorf("deleting record %s in bucket %s: %w", name, s.bucket, obj.Err)
		}
		if obj.Key != key {
			continue
		}
		if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: obj.VersionID}); err != nil && !isNotFound(err) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("deleting record %s in bucket %s: %w", name, s.bucket, err)
	}
	return nil
}

// ListRecords implements storage.Scratch.
func (s *Store) ListRecords(ctx context.Context, prefix string) ([]string, error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var names []string
	for obj := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: scratchPrefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing records with prefix %q in bucket %s: %w", prefix, s.bucket, obj.Err)
		}
		names = append(names, strings.TrimPrefix(obj.Key, scratchPrefix))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing records with prefix %q: %w", prefix, err)
	}
	slices.Sort(names)
	return names, nil
}
