package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
)

// Open implements storage.Store. version is an S3 version ID ("" for the current
// version). Info has Size, Version, ETag and Location, and SHA256 when the object
// carries the digest Create stores for single-part objects.
func (s *Store) Open(ctx context.Context, name, version string) (io.ReadCloser, storage.Info, error) {
	if err := storage.CheckName(name); err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object: %w", err)
	}
	rc, oi, _, err := s.core.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{VersionID: version})
	if err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object %s version %q in bucket %s: %w", name, version, s.bucket, notFound(err, version))
	}
	return rc, storage.Info{
		Name:     name,
		Size:     oi.Size,
		SHA256:   metaSHA256(oi),
		Version:  oi.VersionID,
		ETag:     oi.ETag,
		Location: s.location(name),
	}, nil
}

// isBadVersion reports whether err refuses a version ID the server cannot have
// (malformed), or one that is a delete marker.
func isBadVersion(err error) bool {
	resp := errResponse(err)
	return resp.Code == "InvalidArgument" || resp.StatusCode == http.StatusMethodNotAllowed
}

// List implements storage.Store. It lists current versions: a name whose current
// version is a delete marker is not listed.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if !possiblePrefix(prefix) {
		// Such as "../", which MinIO refuses to list: it matches no valid name.
		return nil, nil
	}
	// MinIO refuses to list a prefix whose last segment is "." or "..", though
	// names such as "a/.b" are valid: list the directory and filter.
	query := prefix
	if dir, last := path.Split(prefix); last == "." || last == ".." {
		query = dir
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var names []string
	for obj := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: query, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing objects with prefix %q in bucket %s: %w", prefix, s.bucket, obj.Err)
		}
		if strings.HasPrefix(obj.Key, prefix) && !strings.HasPrefix(obj.Key, scratchPrefix) {
			names = append(names, obj.Key)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing objects with prefix %q in bucket %s: %w", prefix, s.bucket, err)
	}
	slices.Sort(names)
	return names, nil
}

// possiblePrefix reports whether some valid object name starts with prefix. A proper
// prefix of a valid name, followed by "x", is itself a valid name.
func possiblePrefix(prefix string) bool {
	return prefix == "" || storage.CheckName(prefix) == nil || storage.CheckName(prefix+"x") == nil
}
