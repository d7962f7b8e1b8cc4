package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/evidencegw/evidencegw/storage"
)

var (
	_ storage.Uploader = (*Store)(nil)
	_ storage.Scratch  = (*Store)(nil)
)

// upload is an upload in progress: its parts by number.
type upload struct {
	name  string
	parts map[int][]byte
}

// BeginUpload implements storage.Uploader.
func (s *Store) BeginUpload(ctx context.Context, name string) (string, error) {
	if err := storage.CheckName(name); err != nil {
		return "", fmt.Errorf("beginning upload: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("beginning upload of %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "mem-upload-" + strconv.Itoa(s.nextID)
	s.uploads[id] = &upload{name: name, parts: map[int][]byte{}}
	return id, nil
}

// PutPart implements storage.Uploader.
func (s *Store) PutPart(ctx context.Context, name, id string, p storage.Part, r io.Reader) (storage.Part, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Part{}, fmt.Errorf("storing part: %w", err)
	}
	if p.Number < 1 || p.Size < 0 || p.Offset < 0 {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: invalid part", p.Number, name)
	}
	if s.BeforePutPart != nil {
		if err := s.BeforePutPart(name, p); err != nil {
			return storage.Part{}, fmt.Errorf("storing part %d of %s: %w", p.Number, name, err)
		}
	}
	if err := s.dropFrom(name, id, p.Number); err != nil {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: %w", p.Number, name, err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, storage.ContextReader(ctx, storage.ExactReader(r, p.Size))); err != nil {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: %w", p.Number, name, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: %w", p.Number, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.uploads[id]
	if !ok {
		return storage.Part{}, fmt.Errorf("storing part %d of %s: %w", p.Number, name, storage.ErrUploadNotFound)
	}
	up.parts[p.Number] = buf.Bytes()
	sum := sha256.Sum256(buf.Bytes())
	p.ETag = hex.EncodeToString(sum[:8])
	return p, nil
}

// dropFrom drops part n and the parts after it, as a PutPart of part n begins.
func (s *Store) dropFrom(name, id string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.uploads[id]
	if !ok || up.name != name {
		return storage.ErrUploadNotFound
	}
	for k := range up.parts {
		if k >= n {
			delete(up.parts, k)
		}
	}
	return nil
}

// CompleteUpload implements storage.Uploader.
func (s *Store) CompleteUpload(ctx context.Context, name, id string, parts []storage.Part) (storage.Info, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Info{}, fmt.Errorf("completing upload: %w", err)
	}
	if _, err := storage.CheckParts(parts); err != nil {
		return storage.Info{}, fmt.Errorf("completing upload of %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, fmt.Errorf("completing upload of %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.uploads[id]
	if !ok || up.name != name {
		return storage.Info{}, fmt.Errorf("completing upload of %s: %w", name, storage.ErrUploadNotFound)
	}
	var data []byte
	for _, p := range parts {
		b, ok := up.parts[p.Number]
		sum := sha256.Sum256(b)
		if !ok || int64(len(b)) != p.Size || p.ETag != hex.EncodeToString(sum[:8]) {
			return storage.Info{}, fmt.Errorf("completing upload of %s: part %d is not the one stored", name, p.Number)
		}
		data = append(data, b...)
	}
	sum := sha256.Sum256(data)
	info := storage.Info{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Location: "mem:///" + name}
	got, err := s.publishLocked(name, data, info)
	if err != nil {
		return storage.Info{}, fmt.Errorf("completing upload of %s: %w", name, err)
	}
	delete(s.uploads, id)
	got.SHA256 = "" // as the contract says: the caller knows it
	return got, nil
}

// AbortUpload implements storage.Uploader.
func (s *Store) AbortUpload(ctx context.Context, name, id string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("aborting upload: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if up, ok := s.uploads[id]; ok && up.name == name {
		delete(s.uploads, id)
	}
	return nil
}

// Uploads returns how many uploads are in progress, for tests.
func (s *Store) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// PutRecord implements storage.Scratch.
func (s *Store) PutRecord(ctx context.Context, name string, data []byte) error {
	if err := storage.CheckRecord(name, data); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing record %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[name] = slices.Clone(data)
	return nil
}

// GetRecord implements storage.Scratch.
func (s *Store) GetRecord(ctx context.Context, name string) ([]byte, error) {
	if err := storage.CheckName(name); err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading record %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.records[name]
	if !ok {
		return nil, fmt.Errorf("reading record %s: %w", name, storage.ErrNotFound)
	}
	return slices.Clone(b), nil
}

// DeleteRecord implements storage.Scratch.
func (s *Store) DeleteRecord(ctx context.Context, name string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("deleting record: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, name)
	return nil
}

// ListRecords implements storage.Scratch.
func (s *Store) ListRecords(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing records with prefix %q: %w", prefix, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return namesWithPrefix(s.records, prefix), nil
}

// Records returns how many scratch records exist, for tests.
func (s *Store) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}
