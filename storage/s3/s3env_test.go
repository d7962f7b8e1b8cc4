package s3_test

// The tests run against a real S3 server (MinIO), never a mock. Where it is:
//
//	EVIDENCEGW_S3_ENDPOINT    host:port, default 127.0.0.1:9000 (deploy/local/up)
//	EVIDENCEGW_S3_ACCESS_KEY  default: MINIO_ROOT_USER from the local stack's
//	EVIDENCEGW_S3_SECRET_KEY  credentials file, $EVIDENCEGW_STACK_DIR/minio/credentials
//	                          (default /var/lib/evidencegw-stack/minio/credentials)
//
// The credentials must be allowed to bypass governance retention (the MinIO root
// user is): each test works in a fresh bucket in GOVERNANCE mode and removes it,
// with every object version, when it ends.
//
// If the server is unreachable the tests skip, except with CI=true, where they fail:
// a missing service must never pass CI silently.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/evidencegw/evidencegw/storage/s3"
)

const (
	defaultEndpoint = "127.0.0.1:9000"
	defaultStackDir = "/var/lib/evidencegw-stack"
	// probeTimeout bounds the request that checks the server is reachable.
	probeTimeout = 5 * time.Second
	// cleanupTimeout bounds the removal of a test bucket and its versions.
	cleanupTimeout = 2 * time.Minute
)

type server struct {
	endpoint, accessKey, secretKey string
	admin                          *minio.Client
}

var (
	serverOnce sync.Once
	srv        server
	srvErr     error
)

// testServer returns the S3 server under test, skipping (or, with CI=true, failing)
// the test if it is not reachable.
func testServer(tb testing.TB) server {
	tb.Helper()
	serverOnce.Do(func() { srv, srvErr = connect() })
	if srvErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("S3 server unreachable and CI=true: %v", srvErr)
		}
		tb.Skipf("S3 server unreachable, skipping (run deploy/local/up or set EVIDENCEGW_S3_ENDPOINT/ACCESS_KEY/SECRET_KEY): %v", srvErr)
	}
	return srv
}

func connect() (server, error) {
	s := server{
		endpoint:  envOr("EVIDENCEGW_S3_ENDPOINT", defaultEndpoint),
		accessKey: os.Getenv("EVIDENCEGW_S3_ACCESS_KEY"),
		secretKey: os.Getenv("EVIDENCEGW_S3_SECRET_KEY"),
	}
	if s.accessKey == "" || s.secretKey == "" {
		stack := envOr("EVIDENCEGW_STACK_DIR", defaultStackDir)
		user, pass, err := stackCredentials(filepath.Join(stack, "minio", "credentials"))
		if err != nil {
			return server{}, err
		}
		s.accessKey, s.secretKey = user, pass
	}
	admin, err := minio.New(s.endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.accessKey, s.secretKey, "")})
	if err != nil {
		return server{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	if _, err := admin.ListBuckets(ctx); err != nil {
		return server{}, err
	}
	s.admin = admin
	return s, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// stackCredentials reads MINIO_ROOT_USER and MINIO_ROOT_PASSWORD from the file
// deploy/local/up writes.
func stackCredentials(path string) (user, pass string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "MINIO_ROOT_USER":
			user = v
		case "MINIO_ROOT_PASSWORD":
			pass = v
		}
	}
	if user == "" || pass == "" {
		return "", "", errors.New(path + " has no MINIO_ROOT_USER or MINIO_ROOT_PASSWORD")
	}
	return user, pass, sc.Err()
}

// newBucketName returns an unused bucket name and removes the bucket, whatever
// created it, with all its object versions and incomplete uploads when tb ends.
func (s server) newBucketName(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	name := "evgw-test-" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := s.removeBucket(ctx, name); err != nil {
			tb.Errorf("removing test bucket %s: %v", name, err)
		}
	})
	return name
}

// removeBucket removes a test bucket: legal holds lifted, every version removed
// bypassing governance retention, incomplete uploads aborted.
func (s server) removeBucket(ctx context.Context, bucket string) error {
	if ok, err := s.admin.BucketExists(ctx, bucket); err != nil || !ok {
		return err
	}
	off := minio.LegalHoldDisabled
	for obj := range s.admin.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		if !obj.IsDeleteMarker {
			// Fails harmlessly on a bucket without object lock.
			s.admin.PutObjectLegalHold(ctx, bucket, obj.Key, minio.PutObjectLegalHoldOptions{VersionID: obj.VersionID, Status: &off})
		}
		err := s.admin.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{VersionID: obj.VersionID, GovernanceBypass: true})
		if err != nil {
			return err
		}
	}
	for up := range s.admin.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err != nil {
			return up.Err
		}
		if err := s.admin.RemoveIncompleteUpload(ctx, bucket, up.Key); err != nil {
			return err
		}
	}
	return s.admin.RemoveBucket(ctx, bucket)
}

// config returns the Config of a store in a new test bucket (created by New).
func (s server) config(tb testing.TB) s3.Config {
	return s3.Config{
		Endpoint:      s.endpoint,
		AccessKey:     s.accessKey,
		SecretKey:     s.secretKey,
		Bucket:        s.newBucketName(tb),
		RetentionMode: s3.Governance,
		Retention:     24 * time.Hour,
	}
}

func newStore(tb testing.TB, cfg s3.Config) *s3.Store {
	tb.Helper()
	st, err := s3.New(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("New(bucket %s) = %v", cfg.Bucket, err)
	}
	return st
}

// incompleteUploads returns the keys of the bucket's multipart uploads in progress.
func (s server) incompleteUploads(tb testing.TB, bucket string) []string {
	tb.Helper()
	var keys []string
	for up := range s.admin.ListIncompleteUploads(tb.Context(), bucket, "", true) {
		if up.Err != nil {
			tb.Fatalf("listing incomplete uploads: %v", up.Err)
		}
		keys = append(keys, up.Key)
	}
	return keys
}
