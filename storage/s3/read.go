package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
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
		Modified: oi.LastModified,
	}, nil
}

var _ storage.RangeOpener = (*Store)(nil)

// OpenRange implements storage.RangeOpener with a ranged GET. Info.Size is the whole
// object's, from the answer's Content-Range.
func (s *Store) OpenRange(ctx context.Context, name, version string, off, n int64) (io.ReadCloser, storage.Info, error) {
	if err := storage.CheckName(name); err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object: %w", err)
	}
	if off < 0 || n < 0 {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: negative range [%d, +%d)", name, off, n)
	}
	if n == 0 {
		return s.emptyRange(ctx, name, version)
	}
	opts := minio.GetObjectOptions{VersionID: version}
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: %w", name, err)
	}
	rc, oi, h, err := s.core.GetObject(ctx, s.bucket, name, opts)
	if errResponse(err).Code == "InvalidRange" {
		// The object ends before off.
		return s.emptyRange(ctx, name, version)
	}
	if err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object %s version %q in bucket %s: %w", name, version, s.bucket, notFound(err, version))
	}
	size, ok := totalSize(h.Get("Content-Range"))
	if !ok {
		rc.Close()
		return nil, storage.Info{}, fmt.Errorf("opening object %s at %d: the answer's Content-Range %q has no total size", name, off, h.Get("Content-Range"))
	}
	return rc, storage.Info{Name: name, Size: size, SHA256: metaSHA256(oi), Version: oi.VersionID, ETag: oi.ETag,
		Location: s.location(name), Modified: oi.LastModified}, nil
}

// emptyRange answers a range with no byte in the object: an empty reader and the
// object's Info.
func (s *Store) emptyRange(ctx context.Context, name, version string) (io.ReadCloser, storage.Info, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{VersionID: version})
	if err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object %s version %q in bucket %s: %w", name, version, s.bucket, notFound(err, version))
	}
	return io.NopCloser(strings.NewReader("")), storage.Info{Name: name, Size: oi.Size, SHA256: metaSHA256(oi),
		Version: oi.VersionID, ETag: oi.ETag, Location: s.location(name), Modified: oi.LastModified}, nil
}

// totalSize returns the complete length of a Content-Range value "bytes a-b/size"
// (RFC 9110 section 14.4).
func totalSize(contentRange string) (int64, bool) {
	_, total, ok := strings.Cut(contentRange, "/")
	if !ok || !strings.HasPrefix(contentRange, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil && n >= 0
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
