// Package s3 is the write-once object store of real deployments: objects live in an
// S3 bucket with Object Lock (tested against MinIO), written through minio-go. It is
// the only package that imports minio-go; it imports storage and nothing of the layers
// above.
//
// # Write-once
//
// Every write is conditional on the name being free (If-None-Match: *, on the single
// PUT or on CompleteMultipartUpload), so of concurrent writers of one name exactly one
// wins and nobody overwrites. Every object version is written with an Object Lock
// retention (Config.RetentionMode until now + Config.Retention), so within that time no
// credential can delete or overwrite it (COMPLIANCE), or only one holding
// s3:BypassGovernanceRetention can (GOVERNANCE, for tests). SetRetention extends it (the
// gateway retains each case's objects for the case's period); a legal hold
// (SetLegalHold) keeps a version beyond its retention until the hold is lifted. Destroy
// removes every version of an object once the server allows it (retention.go); the
// store never asks the server to bypass governance retention.
//
// # Content digest
//
// Create hashes (SHA-256) the bytes while streaming them. An object that fits in one
// part (Config.PartSize) is sent in a single PUT whose payload is signed with that
// digest, and the digest is kept as user metadata (x-amz-meta-sha256) under the same
// Object Lock; Open returns it in Info.SHA256 and a retry compares against it without
// reading the object back. A larger object is a multipart upload, whose metadata is
// fixed before its bytes are read: it carries no digest, each part's payload is signed
// with the part's SHA-256, Open returns Info.SHA256 empty, and a retry reads the
// existing object back to hash it.
//
// # Memory
//
// A Create of more than 64 KiB holds two buffers of Config.PartSize bytes: one part
// uploads while the next is read; a smaller one (a custody record) holds a 64 KiB
// buffer. A PutPart holds one part buffer. Memory is about 2 × PartSize per large
// Create in flight (32 MiB by default) plus minio-go's per-request overhead, a few tens
// of KiB. Two part buffers of each part size are kept between uses, for every Store,
// and never dropped: see partBuffers. The largest object is PartSize × 10000 parts (about 156 GiB at 16 MiB;
// raise PartSize for larger evidence).
package s3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/evidencegw/evidencegw/storage"
)

const (
	// DefaultPartSize is the part size when Config.PartSize is zero.
	DefaultPartSize = 16 << 20
	// minPartSize and maxPartSize are S3's bounds on a multipart upload's parts
	// (all but the last).
	minPartSize = 5 << 20
	maxPartSize = 5 << 30
	// maxParts is S3's limit on the parts of one multipart upload.
	maxParts = 10000
	// maxRetention bounds Config.Retention (100 years) against typos that would lock
	// objects for ever.
	maxRetention = 36500 * 24 * time.Hour
)

// Retention modes of S3 Object Lock.
const (
	// Compliance: nobody, the root account included, can delete or shorten the
	// retention of a version before it expires. For production.
	Compliance = "COMPLIANCE"
	// Governance: principals with s3:BypassGovernanceRetention can delete versions
	// before they expire. For tests and staging only.
	Governance = "GOVERNANCE"
)

// Config configures a Store.
type Config struct {
	// Endpoint is the S3 endpoint as host:port, without scheme ("127.0.0.1:9000").
	Endpoint string
	// AccessKey and SecretKey are static credentials for Endpoint.
	AccessKey string
	SecretKey string
	// Secure selects HTTPS to Endpoint.
	Secure bool
	// Bucket holds the objects. New creates it, with Object Lock enabled, if it is
	// missing, and refuses an existing bucket without Object Lock.
	Bucket string
	// Region is the bucket's region; "" lets minio-go discover it (and MinIO
	// creates buckets in its default region, us-east-1).
	Region string
	// RetentionMode is the Object Lock mode of every version written: Compliance
	// for production, Governance for tests. Any other value is refused.
	RetentionMode string
	// Retention is how long each version is retained from its Create: the floor that
	// SetRetention extends; 1 second to 100 years. (S3 keeps a retain-until time per
	// version, to the second: only a bucket's default retention counts in days.)
	Retention time.Duration
	// PartSize is the size of each part of a multipart upload and of the one
	// buffer a Create holds; 0 means DefaultPartSize. 5 MiB to 5 GiB.
	PartSize int64
	// Logger receives start-up messages and failures to clean up aborted uploads;
	// nil means slog.Default().
	Logger *slog.Logger
}

// Store is a storage.Store in an S3 bucket with Object Lock. It is safe for concurrent
// use, also by several processes (the conditional write arbitrates between them).
//
// S3 has no directories, but the store refuses, like every other store, a name that
// is an existing object's directory ("a" when "a/b" exists) or that has an existing
// object as a directory ("a/b/c" when "a/b" exists) with storage.ErrExists. That check
// runs before the upload and is not atomic with it: concurrent Creates of "a" and
// "a/b" can both succeed. The gateway never chooses such names.
type Store struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	mode     minio.RetentionMode
	floor    time.Duration
	partSize int64
	log      *slog.Logger
	bufs     *partBuffers // of partSize bytes
}

var _ storage.Store = (*Store)(nil)

// New connects to cfg.Endpoint, creates cfg.Bucket with Object Lock if it is missing,
// and checks that an existing bucket has Object Lock enabled.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("opening S3 object store: %w", err)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("opening S3 object store %s: %w", cfg.Endpoint, err)
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	s := &Store{
		client:   client,
		core:     minio.Core{Client: client},
		bucket:   cfg.Bucket,
		mode:     minio.RetentionMode(cfg.RetentionMode),
		floor:    cfg.Retention,
		partSize: partSize,
		log:      cfg.Logger,
		bufs:     partBuffersOf(partSize),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, fmt.Errorf("opening S3 object store %s bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if cfg.RetentionMode == Governance {
		s.log.WarnContext(ctx, "S3 object store in GOVERNANCE mode: principals with s3:BypassGovernanceRetention can delete evidence; use COMPLIANCE in production",
			slog.String("bucket", cfg.Bucket))
	}
	return s, nil
}

func (cfg *Config) check() error {
	switch {
	case cfg.Endpoint == "":
		return errors.New("Config.Endpoint is empty")
	case cfg.Bucket == "":
		return errors.New("Config.Bucket is empty")
	case cfg.AccessKey == "" || cfg.SecretKey == "":
		return errors.New("Config.AccessKey or Config.SecretKey is empty")
	case cfg.RetentionMode != Compliance && cfg.RetentionMode != Governance:
		return fmt.Errorf("Config.RetentionMode is %q, want %q (production) or %q (tests)", cfg.RetentionMode, Compliance, Governance)
	case cfg.Retention < time.Second || cfg.Retention > maxRetention:
		return fmt.Errorf("Config.Retention is %s, want 1s to %s", cfg.Retention, maxRetention)
	case cfg.PartSize != 0 && (cfg.PartSize < minPartSize || cfg.PartSize > maxPartSize):
		return fmt.Errorf("Config.PartSize is %d, want 0 (default) or %d to %d", cfg.PartSize, int64(minPartSize), int64(maxPartSize))
	}
	return nil
}

// ensureBucket creates the bucket with Object Lock if it is missing, then checks that
// Object Lock is enabled on it. Object Lock can only be enabled when a bucket is
// created (or by the provider's support), so an unlocked bucket is a fatal error.
func (s *Store) ensureBucket(ctx context.Context, region string) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("checking bucket: %w", err)
	}
	if !exists {
		err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region, ObjectLocking: true})
		// Another replica may have created it meanwhile; the check below decides.
		if err != nil && errResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("creating bucket with object lock: %w", err)
		}
		if err == nil {
			s.log.InfoContext(ctx, "created S3 bucket with object lock", slog.String("bucket", s.bucket))
		}
	}
	enabled, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket)
	if code := errResponse(err).Code; code == "ObjectLockConfigurationNotFoundError" {
		return errors.New("bucket exists without object lock, which cannot be added here: use a bucket created with object lock")
	}
	if err != nil {
		return fmt.Errorf("reading object lock configuration: %w", err)
	}
	if enabled != "Enabled" {
		return fmt.Errorf("bucket object lock is %q, want Enabled", enabled)
	}
	return nil
}

// location is the Info.Location of the object called name.
func (s *Store) location(name string) string { return "s3://" + s.bucket + "/" + name }

// isNotFound reports whether err says the object (or the version) is absent.
func isNotFound(err error) bool {
	resp := errResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NoSuchVersion", "XMinioParentIsObject":
		return true
	}
	// HEAD responses have no body, hence no code.
	return resp.StatusCode == http.StatusNotFound
}

// errResponse returns the S3 error response err wraps, or the zero ErrorResponse.
// (minio.ToErrorResponse does not look through wrapping.)
func errResponse(err error) minio.ErrorResponse {
	var resp minio.ErrorResponse
	errors.As(err, &resp)
	return resp
}
