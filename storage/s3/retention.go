package s3

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
)

var _ storage.Retainer = (*Store)(nil)

// version is one version of an object, or a delete marker.
type version struct {
	id     string
	marker bool
}

// versions lists every version and delete marker of the object called name, newest
// first.
func (s *Store) versions(ctx context.Context, name string) ([]version, error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var vs []version
	for obj := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: name, WithVersions: true, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing versions: %w", obj.Err)
		}
		if obj.Key == name {
			vs = append(vs, version{id: obj.VersionID, marker: obj.IsDeleteMarker})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return vs, nil
}

// objectVersions lists the versions of name that hold bytes (not delete markers),
// ErrNotFound if there is none.
func (s *Store) objectVersions(ctx context.Context, name string) ([]string, error) {
	vs, err := s.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, v := range vs {
		if !v.marker {
			ids = append(ids, v.id)
		}
	}
	if len(ids) == 0 {
		return nil, storage.ErrNotFound
	}
	return ids, nil
}

// SetRetention implements storage.Retainer: for each version of name retained until
// an earlier time, a PutObjectRetention in the store's mode until until (to the second,
// rounded up). S3 refuses to shorten a COMPLIANCE retention, and the store never asks.
func (s *Store) SetRetention(ctx context.Context, name string, until time.Time) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("setting retention: %w", err)
	}
	if t := until.UTC().Truncate(time.Second); t.Before(until) {
		until = t.Add(time.Second)
	} else {
		until = t
	}
	ids, err := s.objectVersions(ctx, name)
	if err != nil {
		return fmt.Errorf("setting retention of object %s in bucket %s: %w", name, s.bucket, err)
	}
	for _, id := range ids {
		_, cur, err := s.client.GetObjectRetention(ctx, s.bucket, name, id)
		if err != nil && errResponse(err).Code != "NoSuchObjectLockConfiguration" {
			return fmt.Errorf("reading retention of object %s version %s in bucket %s: %w", name, id, s.bucket, notFound(err, id))
		}
		if cur != nil && !cur.Before(until) {
			continue
		}
		mode := s.mode
		err = s.client.PutObjectRetention(ctx, s.bucket, name, minio.PutObjectRetentionOptions{
			VersionID: id, Mode: &mode, RetainUntilDate: &until})
		if err != nil {
			return fmt.Errorf("retaining object %s version %s in bucket %s until %s: %w", name, id, s.bucket, until.Format(time.RFC3339), notFound(err, id))
		}
	}
	return nil
}

// Lock implements storage.Retainer: the latest retain-until date and any legal hold
// over the versions of name.
func (s *Store) Lock(ctx context.Context, name string) (storage.Lock, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Lock{}, fmt.Errorf("reading lock: %w", err)
	}
	ids, err := s.objectVersions(ctx, name)
	if err != nil {
		return storage.Lock{}, fmt.Errorf("reading lock of object %s in bucket %s: %w", name, s.bucket, err)
	}
	var l storage.Lock
	for _, id := range ids {
		_, until, err := s.client.GetObjectRetention(ctx, s.bucket, name, id)
		if err != nil && errResponse(err).Code != "NoSuchObjectLockConfiguration" {
			return storage.Lock{}, fmt.Errorf("reading retention of object %s version %s in bucket %s: %w", name, id, s.bucket, notFound(err, id))
		}
		if until != nil && until.After(l.RetainUntil) {
			l.RetainUntil = *until
		}
		held, err := s.LegalHold(ctx, name, id)
		if err != nil {
			return storage.Lock{}, err
		}
		l.LegalHold = l.LegalHold || held
	}
	return l, nil
}

// Destroy implements storage.Retainer: it removes every version and delete marker of
// name by its version id (a delete without one would only add a delete marker), never
// bypassing governance retention. The server refuses a version within its retention or
// under legal hold: that is ErrRetained.
func (s *Store) Destroy(ctx context.Context, name string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("destroying object: %w", err)
	}
	vs, err := s.versions(ctx, name)
	if err != nil {
		return fmt.Errorf("destroying object %s in bucket %s: %w", name, s.bucket, err)
	}
	for _, v := range vs {
		err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{VersionID: v.id})
		if isLocked(err) {
			return fmt.Errorf("destroying object %s version %s in bucket %s: the server refused: %w: %w", name, v.id, s.bucket, storage.ErrRetained, err)
		}
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("destroying object %s version %s in bucket %s: %w", name, v.id, s.bucket, err)
		}
	}
	return nil
}

// isLocked reports whether err is the server refusing to delete a version under
// retention or legal hold: AWS answers 403 AccessDenied, MinIO 400 InvalidRequest
// "Object is WORM protected and cannot be overwritten".
func isLocked(err error) bool {
	if err == nil {
		return false
	}
	resp := errResponse(err)
	return resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusBadRequest && strings.Contains(resp.Message, "WORM protected")
}
