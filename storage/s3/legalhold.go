package s3

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
)

// SetLegalHold places (on) or lifts (off) an Object Lock legal hold on one version of
// the object called name ("" for the current version). A version under legal hold
// cannot be deleted, also after its retention has expired, until the hold is lifted.
// Setting a hold already in place is not an error. ErrNotFound if the object or the
// version is absent.
func (s *Store) SetLegalHold(ctx context.Context, name, version string, on bool) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("setting legal hold: %w", err)
	}
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	err := s.client.PutObjectLegalHold(ctx, s.bucket, name, minio.PutObjectLegalHoldOptions{
		VersionID: version,
		Status:    &status,
	})
	if err != nil {
		return fmt.Errorf("setting legal hold %s on object %s version %q in bucket %s: %w", status, name, version, s.bucket, notFound(err, version))
	}
	return nil
}

// LegalHold reports whether one version of the object called name ("" for the
// current version) is under legal hold. ErrNotFound if the object or the version is
// absent.
func (s *Store) LegalHold(ctx context.Context, name, version string) (bool, error) {
	if err := storage.CheckName(name); err != nil {
		return false, fmt.Errorf("reading legal hold: %w", err)
	}
	status, err := s.client.GetObjectLegalHold(ctx, s.bucket, name, minio.GetObjectLegalHoldOptions{VersionID: version})
	if errResponse(err).Code == "NoSuchObjectLockConfiguration" {
		return false, nil // never held
	}
	if err != nil {
		return false, fmt.Errorf("reading legal hold of object %s version %q in bucket %s: %w", name, version, s.bucket, notFound(err, version))
	}
	return status != nil && *status == minio.LegalHoldEnabled, nil
}

// notFound wraps err with storage.ErrNotFound if it says the object or version is
// absent.
func notFound(err error, version string) error {
	if isNotFound(err) || version != "" && isBadVersion(err) {
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	return err
}
