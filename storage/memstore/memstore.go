// Package memstore is an in-memory storage.Store for tests, with hooks to inject
// faults and to tamper with stored bytes. It holds every object in memory: do not use
// it for large content or outside tests. It imports storage only.
package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencegw/evidencegw/storage"
)

// Store is an in-memory storage.Store. It is safe for concurrent use; the hook fields
// must be set before the store is shared.
type Store struct {
	// BeforeCreate, if set, is called at the start of every Create with a valid name;
	// a non-nil error is returned (wrapped) and nothing is read or stored.
	BeforeCreate func(name string) error
	// BeforeOpen, if set, is called at the start of every Open with a valid name; a
	// non-nil error is returned (wrapped).
	BeforeOpen func(name string) error
	// BeforePutPart, if set, is called at the start of every PutPart of an upload in
	// progress; a non-nil error is returned (wrapped) and the part is not stored.
	BeforePutPart func(name string, p storage.Part) error
	// BeforeLock, if set, is called at the start of every SetRetention, SetLegalHold
	// and Destroy with a valid name; a non-nil error is returned (wrapped) and nothing
	// changes.
	BeforeLock func(name string) error
	// Now is the clock Destroy checks retention against and that stamps an object's
	// Info.Modified at Create; time.Now if nil.
	Now func() time.Time

	mu      sync.Mutex
	objects map[string]object
	// dirs counts, for every proper prefix of a stored name that ends before a
	// slash ("a" and "a/b" of "a/b/c"), the objects under it: the directories a
	// file system would have, so a name conflict is found in time linear in the
	// name's depth, not in the number of objects.
	dirs    map[string]int
	uploads map[string]*upload // by upload id
	records map[string][]byte
	nextID  int
}

type object struct {
	data []byte
	info storage.Info // as computed at Create; Corrupt does not update it
	lock storage.Lock
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Retainer = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{objects: make(map[string]object), dirs: make(map[string]int), uploads: make(map[string]*upload), records: make(map[string][]byte)}
}

// Create implements storage.Store.
func (s *Store) Create(ctx context.Context, name string, r io.Reader) (storage.Info, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Info{}, fmt.Errorf("creating object: %w", err)
	}
	if s.BeforeCreate != nil {
		if err := s.BeforeCreate(name); err != nil {
			return storage.Info{}, fmt.Errorf("creating object %s: %w", name, err)
		}
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, storage.ContextReader(ctx, r)); err != nil {
		return storage.Info{}, fmt.Errorf("creating object %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, fmt.Errorf("creating object %s: %w", name, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	info := storage.Info{
		Name:     name,
		Size:     int64(buf.Len()),
		SHA256:   hex.EncodeToString(sum[:]),
		Location: "mem:///" + name,
		Modified: s.now(),
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publishLocked(name, buf.Bytes(), info)
}

// publishLocked stores data under name, write-once. The caller holds s.mu.
func (s *Store) publishLocked(name string, data []byte, info storage.Info) (storage.Info, error) {
	if err := s.conflictLocked(name); err != nil {
		return storage.Info{}, fmt.Errorf("creating object %s: %w", name, err)
	}
	if old, ok := s.objects[name]; ok {
		if !bytes.Equal(old.data, data) {
			return storage.Info{}, fmt.Errorf("creating object %s: existing object has sha256 %s, new one %s: %w",
				name, old.info.SHA256, info.SHA256, storage.ErrExists)
		}
		return old.info, nil
	}
	s.objects[name] = object{data: data, info: info}
	forDirs(name, func(dir string) { s.dirs[dir]++ })
	return info, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// conflictLocked reports a name that is a directory of other objects, or has an
// object as a directory, as the local filesystem store does.
func (s *Store) conflictLocked(name string) error {
	if s.dirs[name] > 0 {
		return fmt.Errorf("name is a directory of %d objects: %w", s.dirs[name], storage.ErrExists)
	}
	var err error
	forDirs(name, func(dir string) {
		if _, ok := s.objects[dir]; ok && err == nil {
			err = fmt.Errorf("name conflicts with object %s: %w", dir, storage.ErrExists)
		}
	})
	return err
}

// forDirs calls f with every proper prefix of name that ends before a slash.
func forDirs(name string, f func(dir string)) {
	for i := range len(name) {
		if name[i] == '/' {
			f(name[:i])
		}
	}
}

// Open implements storage.Store. The reader sees the current bytes (corrupted ones
// included); the Info is the one recorded at Create.
func (s *Store) Open(ctx context.Context, name, version string) (io.ReadCloser, storage.Info, error) {
	o, err := s.open(ctx, name, version)
	if err != nil {
		return nil, storage.Info{}, err
	}
	return io.NopCloser(bytes.NewReader(o.data)), o.info, nil
}

var _ storage.RangeOpener = (*Store)(nil)

// OpenRange implements storage.RangeOpener. BeforeOpen hears it as an Open.
func (s *Store) OpenRange(ctx context.Context, name, version string, off, n int64) (io.ReadCloser, storage.Info, error) {
	if off < 0 || n < 0 {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: negative range [%d, +%d)", name, off, n)
	}
	o, err := s.open(ctx, name, version)
	if err != nil {
		return nil, storage.Info{}, err
	}
	data := o.data[min(off, int64(len(o.data))):]
	data = data[:min(n, int64(len(data)))]
	return io.NopCloser(bytes.NewReader(data)), o.info, nil
}

func (s *Store) open(ctx context.Context, name, version string) (object, error) {
	if err := storage.CheckName(name); err != nil {
		return object{}, fmt.Errorf("opening object: %w", err)
	}
	if s.BeforeOpen != nil {
		if err := s.BeforeOpen(name); err != nil {
			return object{}, fmt.Errorf("opening object %s: %w", name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return object{}, fmt.Errorf("opening object %s: %w", name, err)
	}
	if version != "" {
		return object{}, fmt.Errorf("opening object %s version %q: memory store keeps no versions: %w", name, version, storage.ErrNotFound)
	}
	s.mu.Lock()
	o, ok := s.objects[name]
	s.mu.Unlock()
	if !ok {
		return object{}, fmt.Errorf("opening object %s: %w", name, storage.ErrNotFound)
	}
	return o, nil
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing objects with prefix %q: %w", prefix, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return namesWithPrefix(s.objects, prefix), nil
}

// namesWithPrefix returns the keys of m that start with prefix, sorted.
func namesWithPrefix[T any](m map[string]T, prefix string) []string {
	var names []string
	for name := range m {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Corrupt flips every bit of the byte at offset in the stored object, simulating
// tampering or bit rot. The object's recorded Info is unchanged.
func (s *Store) Corrupt(name string, offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok {
		return fmt.Errorf("corrupting object %s: %w", name, storage.ErrNotFound)
	}
	if offset < 0 || offset >= int64(len(o.data)) {
		return fmt.Errorf("corrupting object %s: offset %d outside its %d bytes", name, offset, len(o.data))
	}
	// Copy, so readers opened before keep the bytes they had.
	data := slices.Clone(o.data)
	data[offset] ^= 0xff
	o.data = data
	s.objects[name] = o
	return nil
}

// Truncate shortens the stored object to size bytes, simulating a lost tail. The
// object's recorded Info is unchanged.
func (s *Store) Truncate(name string, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok {
		return fmt.Errorf("truncating object %s: %w", name, storage.ErrNotFound)
	}
	if size < 0 || size > int64(len(o.data)) {
		return fmt.Errorf("truncating object %s: size %d outside 0..%d", name, size, len(o.data))
	}
	o.data = slices.Clone(o.data[:size])
	s.objects[name] = o
	return nil
}

// Replace overwrites the stored object's bytes with data, as someone with access to the
// store's disk could; the object's recorded Info is unchanged. It is for tests of what
// the layers above detect.
func (s *Store) Replace(name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok {
		return fmt.Errorf("replacing object %s: %w", name, storage.ErrNotFound)
	}
	o.data = slices.Clone(data)
	s.objects[name] = o
	return nil
}

// Delete removes the object, as someone with access to the store's disk could. It is
// for tests of what the layers above detect.
func (s *Store) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[name]; !ok {
		return fmt.Errorf("deleting object %s: %w", name, storage.ErrNotFound)
	}
	s.removeLocked(name)
	return nil
}

// removeLocked removes the object name, which exists. The caller holds s.mu.
func (s *Store) removeLocked(name string) {
	delete(s.objects, name)
	forDirs(name, func(dir string) {
		if s.dirs[dir]--; s.dirs[dir] == 0 {
			delete(s.dirs, dir)
		}
	})
}

// Read returns the stored object's bytes, for tests.
func (s *Store) Read(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok {
		return nil, fmt.Errorf("reading object %s: %w", name, storage.ErrNotFound)
	}
	return slices.Clone(o.data), nil
}

// SetRetention implements storage.Retainer.
func (s *Store) SetRetention(_ context.Context, name string, until time.Time) error {
	return s.changeLock("setting retention", name, "", func(l *storage.Lock) error {
		if until.After(l.RetainUntil) {
			l.RetainUntil = until
		}
		return nil
	})
}

// SetLegalHold implements storage.LegalHolder. The store keeps no versions: a version
// other than "" is ErrNotFound.
func (s *Store) SetLegalHold(_ context.Context, name, version string, on bool) error {
	return s.changeLock("setting legal hold", name, version, func(l *storage.Lock) error {
		l.LegalHold = on
		return nil
	})
}

// changeLock runs f on the lock of name under the store's lock.
func (s *Store) changeLock(doing, name, version string, f func(*storage.Lock) error) error {
	if err := s.beforeLock(doing, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok || version != "" {
		return fmt.Errorf("%s on object %s version %q: %w", doing, name, version, storage.ErrNotFound)
	}
	if err := f(&o.lock); err != nil {
		return err
	}
	s.objects[name] = o
	return nil
}

func (s *Store) beforeLock(doing, name string) error {
	if err := storage.CheckName(name); err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if s.BeforeLock != nil {
		if err := s.BeforeLock(name); err != nil {
			return fmt.Errorf("%s on object %s: %w", doing, name, err)
		}
	}
	return nil
}

// Lock implements storage.Retainer.
func (s *Store) Lock(_ context.Context, name string) (storage.Lock, error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Lock{}, fmt.Errorf("reading lock: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok {
		return storage.Lock{}, fmt.Errorf("reading lock of object %s: %w", name, storage.ErrNotFound)
	}
	return o.lock, nil
}

// Destroy implements storage.Retainer, checking retention against Now.
func (s *Store) Destroy(_ context.Context, name string) error {
	if err := s.beforeLock("destroying", name); err != nil {
		return err
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[name]
	if !ok {
		return nil
	}
	if !o.lock.Destroyable(now) {
		return fmt.Errorf("destroying object %s: retained until %s, legal hold %t: %w",
			name, o.lock.RetainUntil.UTC().Format(time.RFC3339), o.lock.LegalHold, storage.ErrRetained)
	}
	s.removeLocked(name)
	return nil
}
