package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/s3"
)

// TestObjectLockRefusesDirectChanges goes around the Store: with the same
// credentials, straight to the server, it tries to delete and overwrite a version
// Create wrote, and checks Object Lock keeps it.
func TestObjectLockRefusesDirectChanges(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	st := newStore(t, cfg)
	data := content(10, 4096)
	info, err := st.Create(t.Context(), "evidence/ev-1/content", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	direct := srv.admin // a separate minio-go client, same credentials
	ctx := t.Context()
	name := info.Name

	ret, until, err := direct.GetObjectRetention(ctx, cfg.Bucket, name, info.Version)
	if err != nil {
		t.Fatalf("GetObjectRetention: %v", err)
	}
	if *ret != minio.Governance || until.Before(time.Now().Add(23*time.Hour)) || until.After(time.Now().Add(25*time.Hour)) {
		t.Errorf("retention = %s until %s, want GOVERNANCE until about a day from now", *ret, until)
	}

	// Deleting the version is refused by Object Lock.
	err = direct.RemoveObject(ctx, cfg.Bucket, name, minio.RemoveObjectOptions{VersionID: info.Version})
	if !isObjectLocked(err) {
		t.Errorf("RemoveObject(version %s) = %v, want an object lock refusal", info.Version, err)
	}
	if got, _ := readAll(t, st, name, info.Version); !bytes.Equal(got, data) {
		t.Errorf("after refused RemoveObject: read sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}

	// A write with If-None-Match: * is refused with 412: the server honours it.
	opts := minio.PutObjectOptions{}
	opts.SetMatchETagExcept("*")
	_, err = direct.PutObject(ctx, cfg.Bucket, name, strings.NewReader("overwrite"), 9, opts)
	if resp := minio.ToErrorResponse(err); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("conditional PutObject over an existing object = %v, want 412 Precondition Failed", err)
	}

	// An unconditional write makes a new current version; the old one stays,
	// readable by its version and still retained.
	up, err := direct.PutObject(ctx, cfg.Bucket, name, strings.NewReader("overwrite"), 9, minio.PutObjectOptions{})
	if err != nil {
		t.Fatalf("unconditional PutObject: %v", err)
	}
	if up.VersionID == info.Version {
		t.Fatalf("unconditional PutObject replaced version %s in place", info.Version)
	}
	if got, _ := readAll(t, st, name, info.Version); !bytes.Equal(got, data) {
		t.Errorf("original version after overwrite: read sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
	if got, _ := readAll(t, st, name, ""); string(got) != "overwrite" {
		t.Errorf("current version = %q, want the overwrite", got)
	}
	err = direct.RemoveObject(ctx, cfg.Bucket, name, minio.RemoveObjectOptions{VersionID: info.Version})
	if !isObjectLocked(err) {
		t.Errorf("RemoveObject(version %s) after overwrite = %v, want an object lock refusal", info.Version, err)
	}
	// A Create of other bytes is still ErrExists.
	if _, err := st.Create(ctx, name, bytes.NewReader(content(11, 4096))); !errors.Is(err, storage.ErrExists) {
		t.Errorf("Create over the overwritten name: got error %v, want ErrExists", err)
	}
}

// isObjectLocked reports whether err is an S3 server refusing to delete or overwrite
// a locked version: AWS answers 403 AccessDenied, MinIO 400 InvalidRequest "Object
// is WORM protected and cannot be overwritten".
func isObjectLocked(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusBadRequest && strings.Contains(resp.Message, "WORM protected")
}

func TestLegalHold(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	st := newStore(t, cfg)
	ctx := t.Context()
	info, err := st.Create(ctx, "held", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(want bool) {
		t.Helper()
		if got, err := st.LegalHold(ctx, "held", info.Version); err != nil || got != want {
			t.Errorf("LegalHold = %v, %v; want %v, nil", got, err, want)
		}
	}
	check(false)
	if err := st.SetLegalHold(ctx, "held", info.Version, true); err != nil {
		t.Fatal(err)
	}
	check(true)
	if got, err := st.LegalHold(ctx, "held", ""); err != nil || !got {
		t.Errorf("LegalHold of the current version = %v, %v; want true, nil", got, err)
	}
	// Even bypassing governance retention, a held version cannot be removed.
	err = srv.admin.RemoveObject(ctx, cfg.Bucket, "held", minio.RemoveObjectOptions{VersionID: info.Version, GovernanceBypass: true})
	if !isObjectLocked(err) {
		t.Errorf("RemoveObject of a held version with governance bypass = %v, want an object lock refusal", err)
	}
	if err := st.SetLegalHold(ctx, "held", info.Version, false); err != nil {
		t.Fatal(err)
	}
	check(false)

	if err := st.SetLegalHold(ctx, "absent", "", true); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetLegalHold(absent): got error %v, want ErrNotFound", err)
	}
	if _, err := st.LegalHold(ctx, "absent", ""); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LegalHold(absent): got error %v, want ErrNotFound", err)
	}
	if _, err := st.LegalHold(ctx, "held", "00000000-0000-0000-0000-000000000000"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LegalHold(unknown version): got error %v, want ErrNotFound", err)
	}
	if err := st.SetLegalHold(ctx, "../x", "", true); !errors.Is(err, storage.ErrInvalidName) {
		t.Errorf("SetLegalHold(../x): got error %v, want ErrInvalidName", err)
	}
}

// TestOddNames checks names and prefixes with dots, which S3 servers may treat
// specially, behave as in every store.
func TestOddNames(t *testing.T) {
	srv := testServer(t)
	st := newStore(t, srv.config(t))
	names := []string{"..a", "a/.b", "a/..c", ".d"}
	for _, name := range names {
		if _, err := st.Create(t.Context(), name, strings.NewReader(name)); err != nil {
			t.Errorf("Create(%q) = %v", name, err)
			continue
		}
		rc, _, err := st.Open(t.Context(), name, "")
		if err != nil {
			t.Errorf("Open(%q) = %v", name, err)
			continue
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != name {
			t.Errorf("Open(%q) read %q", name, got)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{".", []string{"..a", ".d"}},
		{"..", []string{"..a"}},
		{"a/.", []string{"a/..c", "a/.b"}},
		{"a/..", []string{"a/..c"}},
		{"a/../", nil},
		{"./", nil},
	}
	for _, tt := range tests {
		got, err := st.List(t.Context(), tt.prefix)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, %v; want %q", tt.prefix, got, err, tt.want)
		}
	}
}

// TestServerChecksPayloadDigest checks what Create relies on for integrity in
// transit: a payload signed with a SHA-256 (X-Amz-Content-Sha256, minio-go's
// sha256Hex with DisableContentSha256) that its bytes do not have is refused.
func TestServerChecksPayloadDigest(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	newStore(t, cfg)
	core := minio.Core{Client: srv.admin}
	wrong := hexSHA256([]byte("other bytes"))
	_, err := core.PutObject(t.Context(), cfg.Bucket, "x", strings.NewReader("bytes"), 5, "", wrong,
		minio.PutObjectOptions{DisableContentSha256: true})
	if code := minio.ToErrorResponse(err).Code; code != "XAmzContentSHA256Mismatch" {
		t.Errorf("PutObject with a wrong signed digest = %v (code %q), want XAmzContentSHA256Mismatch", err, code)
	}
}

// TestServerChecksPartCRC32C checks what multipart uploads rely on for transport
// integrity: the server refuses a part whose x-amz-checksum-crc32c does not match.
func TestServerChecksPartCRC32C(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	newStore(t, cfg)
	core := minio.Core{Client: srv.admin}
	id, err := core.NewMultipartUpload(t.Context(), cfg.Bucket, "parts", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer core.AbortMultipartUpload(context.WithoutCancel(t.Context()), cfg.Bucket, "parts", id)
	data := bytes.Repeat([]byte("a"), 5<<20)
	_, err = core.PutObjectPart(t.Context(), cfg.Bucket, "parts", id, 1, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectPartOptions{DisableContentSha256: true,
			CustomHeader: http.Header{"X-Amz-Checksum-Crc32c": []string{base64.StdEncoding.EncodeToString([]byte{1, 2, 3, 4})}}})
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "checksum") {
		t.Errorf("a part with a wrong CRC32C: got %v, want a checksum error", err)
	}
}

// TestComplianceRetention checks, in COMPLIANCE mode, what disposal relies on: with
// the gateway's own credentials (the stack's, which are MinIO's root user) the server
// refuses to destroy a version before its retention ends, even when asked to bypass
// governance retention; Destroy succeeds once it has ended, and leaves no version
// behind.
func TestComplianceRetention(t *testing.T) {
	srv := testServer(t)
	cfg := srv.config(t)
	cfg.RetentionMode, cfg.Retention = s3.Compliance, time.Second
	st := newStore(t, cfg)
	ctx := t.Context()
	data := content(12, 4096)
	info, err := st.Create(ctx, "evidence/ev-2/content", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(3 * time.Second)
	if err := st.SetRetention(ctx, info.Name, until); err != nil {
		t.Fatal(err)
	}
	if mode, _, err := srv.admin.GetObjectRetention(ctx, cfg.Bucket, info.Name, info.Version); err != nil || *mode != minio.Compliance {
		t.Fatalf("retention mode = %v, %v; want COMPLIANCE", mode, err)
	}
	if err := st.Destroy(ctx, info.Name); !errors.Is(err, storage.ErrRetained) {
		t.Errorf("Destroy within retention: got error %v, want ErrRetained", err)
	}
	err = srv.admin.RemoveObject(ctx, cfg.Bucket, info.Name, minio.RemoveObjectOptions{VersionID: info.Version, GovernanceBypass: true})
	if !isObjectLocked(err) {
		t.Errorf("RemoveObject with governance bypass within COMPLIANCE retention = %v, want an object lock refusal", err)
	}
	if got, _ := readAll(t, st, info.Name, info.Version); !bytes.Equal(got, data) {
		t.Fatalf("after refused deletes: read sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
	time.Sleep(time.Until(until) + 1500*time.Millisecond)
	if err := st.Destroy(ctx, info.Name); err != nil {
		t.Fatalf("Destroy after the retention = %v", err)
	}
	for obj := range srv.admin.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		t.Errorf("after Destroy the bucket still holds %s version %s (delete marker %t, err %v)", obj.Key, obj.VersionID, obj.IsDeleteMarker, obj.Err)
	}
}
