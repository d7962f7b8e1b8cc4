package s3

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
)

const (
	// sha256Meta is the user metadata key (x-amz-meta-sha256 on the wire) holding the
	// lowercase hex SHA-256 of a single-part object's bytes.
	sha256Meta = "Sha256"
	// abortTimeout bounds the AbortMultipartUpload sent after a failed upload. It
	// runs on a context detached from the caller's, which is often the cancelled one.
	abortTimeout = time.Minute
	// smallObject is the size of the buffer Create reads into first.
	smallObject = 64 << 10
)

// smallBufs holds *[]byte of smallObject bytes, shared by every Store.
var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallObject); return &b }}

// Create implements storage.Store.
//
// The bytes are read into a buffer of smallObject bytes, then, if they go on, of
// PartSize bytes: custody records, far more frequent than contents and written while
// parts upload, never hold a part buffer. If the bytes end within the buffer, they go
// in one PUT with If-None-Match: *, the retention and the digest as metadata.
// Otherwise they go as a multipart upload, part by part through the same buffer, and
// CompleteMultipartUpload carries If-None-Match: *. A read error or a cancelled
// context before the PUT or the completion sends nothing, or aborts the multipart
// upload: no object appears. When the name is taken (412), the existing object is
// compared with the new bytes: same size and SHA-256 is success with the existing
// object's Info, anything else storage.ErrExists.
func (s *Store) Create(ctx context.Context, name string, r io.Reader) (info storage.Info, err error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Info{}, fmt.Errorf("creating object: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("creating object %s in bucket %s: %w", name, s.bucket, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	if err := s.checkNameFree(ctx, name); err != nil {
		return storage.Info{}, err
	}

	r = storage.ContextReader(ctx, r)
	sp := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(sp)
	buf := (*sp)[:min(int64(smallObject), s.partSize)]
	n, rerr := io.ReadFull(r, buf)
	if rerr == nil {
		// More than a small object: go on in a part buffer.
		bp := s.bufs.get()
		defer s.bufs.put(bp)
		copy(bp.b, buf)
		var m int
		m, rerr = io.ReadFull(r, bp.b[n:])
		buf, n = bp.b, n+m
	}
	h := sha256.New()
	var (
		up   minio.UploadInfo
		size int64
	)
	switch rerr {
	case io.EOF, io.ErrUnexpectedEOF:
		h.Write(buf[:n])
		size = int64(n)
		up, err = s.putSingle(ctx, name, buf[:n], hex.EncodeToString(h.Sum(nil)))
	case nil:
		up, size, err = s.putMultipart(ctx, name, r, buf, h)
	default:
		return storage.Info{}, fmt.Errorf("reading content: %w", rerr)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if isPreconditionFailed(err) {
		return s.sameContent(ctx, name, size, sum)
	}
	if isNameConflict(err) {
		return storage.Info{}, fmt.Errorf("%w: %w", storage.ErrExists, err)
	}
	if err != nil {
		return storage.Info{}, err
	}
	return storage.Info{
		Name:     name,
		Size:     size,
		SHA256:   sum,
		Version:  up.VersionID,
		ETag:     up.ETag,
		Location: s.location(name),
	}, nil
}

// putOptions returns the options of a new object version (a single PUT or the
// initiation of a multipart upload): its retention and metadata.
func (s *Store) putOptions(meta map[string]string) minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType:     "application/octet-stream",
		Mode:            s.mode,
		RetainUntilDate: time.Now().Add(s.floor),
		UserMetadata:    meta,
	}
}

// writeOnce adds the write-once condition to opts, for a single PUT or a
// CompleteMultipartUpload. It must be on the completion: a check when a multipart
// upload starts (MinIO makes one) does not stop a writer that started meanwhile.
func writeOnce(opts minio.PutObjectOptions) minio.PutObjectOptions {
	// SPEC: S3 conditional writes: "If-None-Match: *" makes the write fail with
	// 412 Precondition Failed when the key already exists.
	opts.SetMatchETagExcept("*")
	return opts
}

// putSingle writes data in one conditional PUT; its payload is signed with sum (the
// request's X-Amz-Content-Sha256), so the server refuses bytes damaged in transit.
func (s *Store) putSingle(ctx context.Context, name string, data []byte, sum string) (minio.UploadInfo, error) {
	opts := writeOnce(s.putOptions(map[string]string{sha256Meta: sum}))
	// Sign the payload with sum (X-Amz-Content-Sha256) instead of minio-go's
	// per-64-KiB chunk signatures on plain HTTP, which hash the bytes again.
	opts.DisableContentSha256 = true
	b := newBody(data)
	defer b.release()
	up, err := s.core.PutObject(ctx, s.bucket, name, b, int64(len(data)), "", sum, opts)
	if err != nil {
		return minio.UploadInfo{}, fmt.Errorf("putting object: %w", err)
	}
	return up, nil
}

// putMultipart uploads buf (full) and the rest of r, part by part, and completes the
// upload conditionally. It hashes every byte into h and returns the object's size. While
// one part uploads, the next is read into a second buffer, so reading (hashing and
// encrypting upstream) and uploading overlap. On any error the upload is aborted.
func (s *Store) putMultipart(ctx context.Context, name string, r io.Reader, buf []byte, h hash.Hash) (_ minio.UploadInfo, size int64, err error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, name, s.putOptions(nil))
	if err != nil {
		return minio.UploadInfo{}, 0, fmt.Errorf("starting multipart upload: %w", err)
	}
	defer func() {
		if err != nil {
			s.abort(ctx, name, id)
		}
	}()
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	bufs := [2][]byte{buf, bp.b}
	type result struct {
		part minio.CompletePart
		err  error
	}
	var parts []minio.CompletePart
	var inFlight chan result
	wait := func() error {
		if inFlight == nil {
			return nil
		}
		res := <-inFlight
		inFlight = nil
		if res.err != nil {
			return res.err
		}
		parts = append(parts, res.part)
		return nil
	}
	defer wait() // never return while a part still reads a buffer
	cur, n, started := 0, len(buf), 0
	for n > 0 {
		if started == maxParts {
			return minio.UploadInfo{}, 0, fmt.Errorf("content longer than %d parts of %d bytes", maxParts, s.partSize)
		}
		data := bufs[cur][:n]
		if err := wait(); err != nil {
			return minio.UploadInfo{}, 0, err
		}
		started++
		ch := make(chan result, 1)
		go func(num int) {
			// The previous part's goroutine has finished (wait), so h sees the parts
			// in order; hashing here overlaps with reading the next part.
			h.Write(data)
			p, err := s.putPart(ctx, name, id, num, data)
			ch <- result{p, err}
		}(started)
		inFlight = ch
		size += int64(n)
		cur ^= 1
		var rerr error
		n, rerr = io.ReadFull(r, bufs[cur])
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return minio.UploadInfo{}, 0, fmt.Errorf("reading content: %w", rerr)
		}
	}
	if err := wait(); err != nil {
		return minio.UploadInfo{}, 0, err
	}
	// The last read may have ended on a cancelled context without an error.
	if err := ctx.Err(); err != nil {
		return minio.UploadInfo{}, 0, err
	}
	up, err := s.core.CompleteMultipartUpload(ctx, s.bucket, name, id, parts, writeOnce(minio.PutObjectOptions{}))
	if err != nil {
		return minio.UploadInfo{}, size, fmt.Errorf("completing multipart upload: %w", err)
	}
	return up, size, nil
}

// putPart uploads one part with its CRC32C (x-amz-checksum-crc32c), which the server
// checks, so bytes damaged in transit are refused. CRC32C (hardware-accelerated)
// rather than a second SHA-256 of every byte: the object's SHA-256 is computed once, by
// Create, and recorded by the caller.
func (s *Store) putPart(ctx context.Context, name, id string, num int, data []byte) (minio.CompletePart, error) {
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc32.Checksum(data, castagnoli))
	b := newBody(data)
	defer b.release()
	p, err := s.core.PutObjectPart(ctx, s.bucket, name, id, num, b, int64(len(data)),
		minio.PutObjectPartOptions{DisableContentSha256: true,
			CustomHeader: http.Header{"X-Amz-Checksum-Crc32c": []string{base64.StdEncoding.EncodeToString(crc[:])}}})
	if err != nil {
		return minio.CompletePart{}, fmt.Errorf("uploading part %d: %w", num, err)
	}
	return minio.CompletePart{PartNumber: num, ETag: p.ETag}, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// abort aborts the multipart upload id, on a context the caller's cancellation does
// not reach, so its parts do not linger. A failure is only logged: the upload never
// became an object, and a bucket lifecycle rule (AbortIncompleteMultipartUpload) can
// reclaim what is left.
func (s *Store) abort(ctx context.Context, name, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if err := s.core.AbortMultipartUpload(ctx, s.bucket, name, id); err != nil && !isNotFound(err) {
		s.log.WarnContext(ctx, "aborting multipart upload failed; its parts stay until removed",
			slog.String("bucket", s.bucket), slog.String("object", name),
			slog.String("upload_id", id), slog.Any("error", err))
	}
}

// sameContent is called when a conditional write found name taken. It returns the
// existing object's Info if it has size bytes hashing to sum, an error wrapping
// storage.ErrExists otherwise.
func (s *Store) sameContent(ctx context.Context, name string, size int64, sum string) (storage.Info, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return storage.Info{}, fmt.Errorf("name taken, reading the existing object: %w", err)
	}
	if oi.Size != size {
		return storage.Info{}, fmt.Errorf("existing object has %d bytes, new one %d: %w", oi.Size, size, storage.ErrExists)
	}
	got := metaSHA256(oi)
	if got == "" {
		// A multipart object keeps no digest: hash that very version.
		if got, err = s.hashObject(ctx, name, oi.VersionID); err != nil {
			return storage.Info{}, fmt.Errorf("name taken, hashing the existing object: %w", err)
		}
	}
	if got != sum {
		return storage.Info{}, fmt.Errorf("existing object has sha256 %s, new one %s: %w", got, sum, storage.ErrExists)
	}
	return storage.Info{
		Name:     name,
		Size:     size,
		SHA256:   sum,
		Version:  oi.VersionID,
		ETag:     oi.ETag,
		Location: s.location(name),
	}, nil
}

// hashObject returns the hex SHA-256 of one version of an object, streaming it.
func (s *Store) hashObject(ctx context.Context, name, version string) (string, error) {
	rc, _, _, err := s.core.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{VersionID: version})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, storage.ContextReader(ctx, rc)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// metaSHA256 returns the digest Create stored in the object's metadata, or "" if it
// has none (a multipart object) or it is not a SHA-256 in lowercase hex.
func metaSHA256(oi minio.ObjectInfo) string {
	v := oi.Metadata.Get("X-Amz-Meta-" + sha256Meta)
	if len(v) != sha256.Size*2 || strings.ToLower(v) != v {
		return ""
	}
	if _, err := hex.DecodeString(v); err != nil {
		return ""
	}
	return v
}

// checkNameFree returns an error wrapping storage.ErrExists if name is a directory
// of existing objects ("a" when "a/b" exists) or has an existing object as a
// directory ("a/b/c" when "a/b" exists), so that objects can move between stores,
// the local one included.
func (s *Store) checkNameFree(ctx context.Context, name string) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One object under the name is enough; cancel stops the listing.
	if obj, ok := <-s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: name + "/", Recursive: true, MaxKeys: 1}); ok {
		if obj.Err != nil {
			return fmt.Errorf("checking for objects under the name: %w", obj.Err)
		}
		return fmt.Errorf("name is a directory of other objects such as %s: %w", obj.Key, storage.ErrExists)
	}
	for i := range len(name) {
		if name[i] != '/' {
			continue
		}
		_, err := s.client.StatObject(ctx, s.bucket, name[:i], minio.StatObjectOptions{})
		switch {
		case err == nil:
			return fmt.Errorf("%s is an object, not a directory: %w", name[:i], storage.ErrExists)
		case !isNotFound(err):
			return fmt.Errorf("checking parent %s: %w", name[:i], err)
		}
	}
	return nil
}

// isPreconditionFailed reports whether err is S3's answer to a conditional write
// whose key exists (412).
func isPreconditionFailed(err error) bool {
	if err == nil {
		return false
	}
	resp := errResponse(err)
	return resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed"
}

// isNameConflict reports whether err is MinIO refusing a name its namespace cannot
// hold beside an existing object ("a" and "a/b"): a Create racing checkNameFree.
func isNameConflict(err error) bool {
	switch errResponse(err).Code {
	case "XMinioParentIsObject", "XMinioObjectExistsAsDirectory":
		return true
	}
	return false
}
