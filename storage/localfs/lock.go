package localfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/evidencegw/evidencegw/storage"
)

// The local store records each object's retention and legal hold in a lock record,
// locks/<hex SHA-256 of the name>.json, and enforces them in Destroy: the gateway's own
// code cannot remove an object early. Nothing stops someone with access to the disk;
// S3 Object Lock (storage/s3) is the store that enforces retention against everyone.

// maxLockRecord bounds a lock record read back from disk.
const maxLockRecord = 4 << 10

// lockRecord is the JSON of a lock record.
type lockRecord struct {
	Name        string    `json:"name"`
	RetainUntil time.Time `json:"retain_until,omitzero"`
	LegalHold   bool      `json:"legal_hold,omitempty"`
}

var _ storage.Retainer = (*Store)(nil)

// SetRetention implements storage.Retainer.
func (s *Store) SetRetention(ctx context.Context, name string, until time.Time) error {
	return s.changeLock(ctx, "setting retention", name, "", func(r *lockRecord) {
		if until.After(r.RetainUntil) {
			r.RetainUntil = until.UTC()
		}
	})
}

// SetLegalHold implements storage.LegalHolder. The store keeps no versions: a version
// other than "" is ErrNotFound.
func (s *Store) SetLegalHold(ctx context.Context, name, version string, on bool) error {
	return s.changeLock(ctx, "setting legal hold", name, version, func(r *lockRecord) { r.LegalHold = on })
}

// changeLock reads the lock record of an existing object, lets f change it and
// writes it back durably (temporary file, fsync, rename, fsync of the directory).
func (s *Store) changeLock(ctx context.Context, doing, name, version string, f func(*lockRecord)) (err error) {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s on object %s: %w", doing, name, err)
		}
	}()
	if version != "" {
		return fmt.Errorf("version %q: local store keeps no versions: %w", version, storage.ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if err := s.exists(name); err != nil {
		return err
	}
	r, err := s.readLock(name)
	if err != nil {
		return err
	}
	f(&r)
	return s.writeLock(r)
}

// Lock implements storage.Retainer.
func (s *Store) Lock(ctx context.Context, name string) (storage.Lock, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Lock{}, fmt.Errorf("reading lock: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Lock{}, err
	}
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if err := s.exists(name); err != nil {
		return storage.Lock{}, fmt.Errorf("reading lock of object %s: %w", name, err)
	}
	r, err := s.readLock(name)
	if err != nil {
		return storage.Lock{}, fmt.Errorf("reading lock of object %s: %w", name, err)
	}
	return storage.Lock{RetainUntil: r.RetainUntil, LegalHold: r.LegalHold}, nil
}

// Destroy implements storage.Retainer: it checks the lock record against Config.Now,
// removes the object's file and syncs its directory, then removes the lock record.
func (s *Store) Destroy(ctx context.Context, name string) (err error) {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("destroying object: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("destroying object %s: %w", name, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if err := s.exists(name); errors.Is(err, storage.ErrNotFound) {
		return s.removeLock(name) // a retry after the file was removed
	} else if err != nil {
		return err
	}
	r, err := s.readLock(name)
	if err != nil {
		return err
	}
	if l := (storage.Lock{RetainUntil: r.RetainUntil, LegalHold: r.LegalHold}); !l.Destroyable(s.now()) {
		return fmt.Errorf("retained until %s, legal hold %t: %w", r.RetainUntil.Format(time.RFC3339), r.LegalHold, storage.ErrRetained)
	}
	p := s.path(name)
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("removing: %w", err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return err
	}
	return s.removeLock(name)
}

func (s *Store) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// exists returns nil if name is a published object, ErrNotFound if not.
func (s *Store) exists(name string) error {
	fi, err := os.Stat(s.path(name))
	switch {
	case err == nil && fi.Mode().IsRegular():
		return nil
	case err == nil, errors.Is(err, fs.ErrNotExist), isNotDir(err):
		return storage.ErrNotFound
	}
	return err
}

func (s *Store) lockPath(name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(s.locks, hex.EncodeToString(sum[:])+".json")
}

// readLock returns the lock record of name; an object without one has no retention
// and no hold. A record that names another object is refused: it was not written here.
func (s *Store) readLock(name string) (lockRecord, error) {
	f, err := os.Open(s.lockPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return lockRecord{Name: name}, nil
	}
	if err != nil {
		return lockRecord{}, fmt.Errorf("reading lock record: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLockRecord+1))
	if err != nil {
		return lockRecord{}, fmt.Errorf("reading lock record: %w", err)
	}
	var r lockRecord
	if len(b) > maxLockRecord {
		return lockRecord{}, fmt.Errorf("lock record %s is larger than %d bytes", f.Name(), maxLockRecord)
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Name != name {
		return lockRecord{}, fmt.Errorf("lock record %s is damaged or names another object", f.Name())
	}
	return r, nil
}

// writeLock replaces the lock record of r.Name durably.
func (s *Store) writeLock(r lockRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.tmp, "lock-*")
	if err != nil {
		return fmt.Errorf("writing lock record: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.lockPath(r.Name))
	}
	if err != nil {
		return fmt.Errorf("writing lock record: %w", err)
	}
	return syncDir(s.locks)
}

// removeLock removes the lock record of name, if any.
func (s *Store) removeLock(name string) error {
	if err := os.Remove(s.lockPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing lock record: %w", err)
	}
	return syncDir(s.locks)
}
