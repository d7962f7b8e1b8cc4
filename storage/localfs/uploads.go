package localfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/evidencegw/evidencegw/storage"
)

var (
	_ storage.Uploader = (*Store)(nil)
	_ storage.Scratch  = (*Store)(nil)
)

// An upload in progress is one file, uploads/<id>, that grows part by part (append,
// fsync) and is published by link(2) into objects/ on completion: no copy of its
// bytes. The id is the first 16 hex digits of the SHA-256 of the object name, a dash
// and 32 random hex digits, so that an id given for another name is refused.

func uploadID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:8]) + "-" + rand.Text()
}

// uploadPath returns the file of upload id of name, or ErrUploadNotFound if id is not
// one of name's.
func (s *Store) uploadPath(name, id string) (string, error) {
	sum := sha256.Sum256([]byte(name))
	prefix, rest, ok := strings.Cut(id, "-")
	if !ok || prefix != hex.EncodeToString(sum[:8]) || rest == "" || strings.ContainsAny(rest, "/.\\") {
		return "", storage.ErrUploadNotFound
	}
	return filepath.Join(s.uploads, id), nil
}

// BeginUpload implements storage.Uploader.
func (s *Store) BeginUpload(ctx context.Context, name string) (string, error) {
	if err := storage.CheckName(name); err != nil {
		return "", fmt.Errorf("beginning upload: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("beginning upload of %s: %w", name, err)
	}
	id := uploadID(name)
	f, err := os.OpenFile(filepath.Join(s.uploads, id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("beginning upload of %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("beginning upload of %s: %w", name, err)
	}
	if err := syncDir(s.uploads); err != nil {
		return "", fmt.Errorf("beginning upload of %s: %w", name, err)
	}
	return id, nil
}

// PutPart implements storage.Uploader: the file is cut at p.Offset (dropping what a
// failed or later part left), the part written there and the file fsynced.
func (s *Store) PutPart(ctx context.Context, name, id string, p storage.Part, r io.Reader) (_ storage.Part, err error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Part{}, fmt.Errorf("storing part: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("storing part %d of %s: %w", p.Number, name, err)
		}
	}()
	if p.Number < 1 || p.Offset < 0 || p.Size < 0 {
		return storage.Part{}, errors.New("invalid part")
	}
	fp, err := s.uploadPath(name, id)
	if err != nil {
		return storage.Part{}, err
	}
	f, err := os.OpenFile(fp, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return storage.Part{}, storage.ErrUploadNotFound
	}
	if err != nil {
		return storage.Part{}, err
	}
	defer f.Close()
	if err := f.Truncate(p.Offset); err != nil {
		return storage.Part{}, err
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	w := io.NewOffsetWriter(f, p.Offset)
	// The wrapper hides OffsetWriter's missing ReadFrom so CopyBuffer uses the buffer.
	if _, err := io.CopyBuffer(struct{ io.Writer }{w}, storage.ContextReader(ctx, storage.ExactReader(r, p.Size)), *bp); err != nil {
		return storage.Part{}, err
	}
	if err := f.Sync(); err != nil {
		return storage.Part{}, err
	}
	return p, f.Close()
}

// CompleteUpload implements storage.Uploader.
func (s *Store) CompleteUpload(ctx context.Context, name, id string, parts []storage.Part) (_ storage.Info, err error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Info{}, fmt.Errorf("completing upload: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("completing upload of %s: %w", name, err)
		}
	}()
	size, err := storage.CheckParts(parts)
	if err != nil {
		return storage.Info{}, err
	}
	fp, err := s.uploadPath(name, id)
	if err != nil {
		return storage.Info{}, err
	}
	f, err := os.OpenFile(fp, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return storage.Info{}, storage.ErrUploadNotFound
	}
	if err != nil {
		return storage.Info{}, err
	}
	defer f.Close()
	// Bytes past the last part are what a failed part left: cut them.
	if err := f.Truncate(size); err != nil {
		return storage.Info{}, err
	}
	if err := f.Chmod(objectMode); err != nil {
		return storage.Info{}, err
	}
	if err := f.Sync(); err != nil {
		return storage.Info{}, err
	}
	if err := f.Close(); err != nil {
		return storage.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	final := s.path(name)
	if err := s.mkdirs(path.Dir(name)); err != nil {
		return storage.Info{}, err
	}
	if err := os.Link(fp, final); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return storage.Info{}, fmt.Errorf("publishing: %w", err)
		}
		sum, err := s.hashFile(fp)
		if err != nil {
			return storage.Info{}, err
		}
		if err := s.sameContent(final, size, sum); err != nil {
			return storage.Info{}, err
		}
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return storage.Info{}, err
	}
	if err := os.Remove(fp); err != nil {
		return storage.Info{}, err
	}
	if err := syncDir(s.uploads); err != nil {
		return storage.Info{}, err
	}
	return storage.Info{Name: name, Size: size, Location: fileURL(final)}, nil
}

// AbortUpload implements storage.Uploader.
func (s *Store) AbortUpload(ctx context.Context, name, id string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("aborting upload: %w", err)
	}
	fp, err := s.uploadPath(name, id)
	if err != nil {
		return nil // not one of name's uploads: nothing of name's to abort
	}
	if err := os.Remove(fp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("aborting upload of %s: %w", name, err)
	}
	return syncDir(s.uploads)
}

func (s *Store) recordPath(name string) string {
	return filepath.Join(s.scratch, filepath.FromSlash(name))
}

// PutRecord implements storage.Scratch: a temporary file, fsynced, renamed over the
// record, and the directory fsynced.
func (s *Store) PutRecord(ctx context.Context, name string, data []byte) (err error) {
	if err := storage.CheckRecord(name, data); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("writing record %s: %w", name, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.recordPath(name)
	if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.tmp, "record-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// GetRecord implements storage.Scratch.
func (s *Store) GetRecord(ctx context.Context, name string) ([]byte, error) {
	if err := storage.CheckName(name); err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading record %s: %w", name, err)
	}
	f, err := os.Open(s.recordPath(name))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("reading record %s: %w", name, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading record %s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, storage.MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading record %s: %w", name, err)
	}
	if len(b) > storage.MaxRecordSize {
		return nil, fmt.Errorf("reading record %s: longer than %d bytes", name, storage.MaxRecordSize)
	}
	return b, nil
}

// DeleteRecord implements storage.Scratch. Directories left empty are removed too.
func (s *Store) DeleteRecord(ctx context.Context, name string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("deleting record: %w", err)
	}
	p := s.recordPath(name)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("deleting record %s: %w", name, err)
	}
	dir := filepath.Dir(p)
	for ; dir != s.scratch && strings.HasPrefix(dir, s.scratch); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty, or gone
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil // a concurrent delete removed it: nothing left to sync
	}
	return syncDir(dir)
}

// ListRecords implements storage.Scratch.
func (s *Store) ListRecords(ctx context.Context, prefix string) ([]string, error) {
	names, err := listUnder(ctx, s.scratch, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing records with prefix %q: %w", prefix, err)
	}
	return names, nil
}
