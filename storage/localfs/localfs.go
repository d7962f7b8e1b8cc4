// Package localfs is the write-once object store of the embedded default: objects are
// read-only files under a data directory. It imports storage and the standard library.
//
// Layout under Config.Dir:
//
//	objects/<name>   published objects, mode 0400, never rewritten; removed only by
//	                 Destroy once their lock allows it
//	locks/<h>.json   the retention and legal hold of an object (lock.go)
//	tmp/             Creates and lock records in progress, removed by New at start-up
//	uploads/<id>     resumable uploads in progress (Uploader), kept across restarts
//	scratch/<name>   records of work in progress (Scratch), replaced and removed
//
// An object is written to a temporary file in tmp/, hashed (SHA-256) while written,
// fsynced, then published with link(2), which is atomic and fails if the name exists;
// the parent directory is fsynced before Create returns. A process killed mid-upload
// leaves only a file in tmp/, never a partial object.
package localfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/evidencegw/evidencegw/storage"
)

const (
	objectsDir = "objects"
	locksDir   = "locks"
	tmpDir     = "tmp"
	uploadsDir = "uploads"
	scratchDir = "scratch"
	// copyBufSize is the size of the buffer each Create streams through, so memory
	// does not grow with the object.
	copyBufSize = 1 << 20
	// objectMode is the mode of published objects: read-only, owner only.
	objectMode = 0o400
	dirMode    = 0o750
)

// Config configures a Store.
type Config struct {
	// Dir is the data directory; it is created if missing. objects/ and tmp/ must
	// stay on one filesystem (link(2) does not cross filesystems).
	Dir string
	// Logger receives start-up and cleanup messages; nil means slog.Default().
	Logger *slog.Logger
	// KeepTemp leaves tmp/ alone at start-up: for a process (an operator command)
	// that opens the store while a gateway may be uploading into it.
	KeepTemp bool
	// Now is the clock Destroy checks retention against; time.Now if nil.
	Now func() time.Time
}

// Store is a storage.Store on the local filesystem. It is safe for concurrent use,
// also by several processes sharing Dir (link(2) arbitrates), but New without
// KeepTemp must not run while another process is uploading into the same Dir: it
// empties tmp/.
type Store struct {
	objects string // absolute
	locks   string // absolute
	tmp     string // absolute
	uploads string // absolute
	scratch string // absolute
	log     *slog.Logger
	bufs    sync.Pool
	clock   func() time.Time
	// lockMu serializes the changes of lock records and Destroy within the process.
	lockMu sync.Mutex
}

var _ storage.Store = (*Store)(nil)

// New opens (creating if needed) the store in cfg.Dir and removes what interrupted
// uploads left in its tmp directory.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("opening local object store: Config.Dir is empty")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("opening local object store %s: %w", cfg.Dir, err)
	}
	s := &Store{
		objects: filepath.Join(dir, objectsDir),
		locks:   filepath.Join(dir, locksDir),
		tmp:     filepath.Join(dir, tmpDir),
		uploads: filepath.Join(dir, uploadsDir),
		scratch: filepath.Join(dir, scratchDir),
		log:     cfg.Logger,
		clock:   cfg.Now,
		bufs:    sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, d := range []string{s.objects, s.locks, s.tmp, s.uploads, s.scratch} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("opening local object store %s: %w", dir, err)
		}
	}
	if cfg.KeepTemp {
		return s, nil
	}
	if err := s.cleanTmp(ctx); err != nil {
		return nil, fmt.Errorf("opening local object store %s: %w", dir, err)
	}
	return s, nil
}

// cleanTmp removes every entry of tmp/: they are uploads a previous process did not
// finish, never published.
func (s *Store) cleanTmp(ctx context.Context) error {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return fmt.Errorf("listing leftover uploads: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(s.tmp, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("removing leftover upload %s: %w", p, err)
		}
		s.log.InfoContext(ctx, "removed leftover upload", slog.String("path", p))
	}
	return nil
}

// Create implements storage.Store.
func (s *Store) Create(ctx context.Context, name string, r io.Reader) (info storage.Info, err error) {
	if err := storage.CheckName(name); err != nil {
		return storage.Info{}, fmt.Errorf("creating object: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("creating object %s: %w", name, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	tmp, size, sum, err := s.writeTemp(ctx, r)
	if err != nil {
		return storage.Info{}, err
	}
	defer os.Remove(tmp)

	final := s.path(name)
	if err := s.mkdirs(path.Dir(name)); err != nil {
		return storage.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, err
	}
	info = storage.Info{Name: name, Size: size, SHA256: sum, Location: fileURL(final)}
	if err := os.Link(tmp, final); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return storage.Info{}, fmt.Errorf("publishing: %w", err)
		}
		if err := s.sameContent(final, size, sum); err != nil {
			return storage.Info{}, err
		}
	}
	// Also on a retry: the first writer may not have synced the directory yet.
	if err := syncDir(filepath.Dir(final)); err != nil {
		return storage.Info{}, err
	}
	return info, nil
}

// writeTemp streams r into a new read-only file in tmp/, fsynced, and returns its
// path, size and hex SHA-256. On error the file is removed.
func (s *Store) writeTemp(ctx context.Context, r io.Reader) (tmp string, size int64, sum string, err error) {
	f, err := os.CreateTemp(s.tmp, "upload-*")
	if err != nil {
		return "", 0, "", fmt.Errorf("creating temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	// MultiWriter has no ReadFrom and ctxReader no WriteTo, so CopyBuffer really
	// uses the fixed buffer.
	size, err = io.CopyBuffer(io.MultiWriter(f, h), storage.ContextReader(ctx, r), *bp)
	if err != nil {
		return "", 0, "", err
	}
	if err := f.Chmod(objectMode); err != nil {
		return "", 0, "", fmt.Errorf("making temporary file read-only: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", 0, "", fmt.Errorf("syncing temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", 0, "", fmt.Errorf("closing temporary file: %w", err)
	}
	return f.Name(), size, hex.EncodeToString(h.Sum(nil)), nil
}

// sameContent returns nil if the object at p has the given size and digest, an
// error wrapping storage.ErrExists if it has others.
func (s *Store) sameContent(p string, size int64, sum string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("checking existing object: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("name is a directory of other objects: %w", storage.ErrExists)
	}
	if fi.Size() != size {
		return fmt.Errorf("existing object has %d bytes, new one %d: %w", fi.Size(), size, storage.ErrExists)
	}
	got, err := s.hashFile(p)
	if err != nil {
		return fmt.Errorf("checking existing object: %w", err)
	}
	if got != sum {
		return fmt.Errorf("existing object has sha256 %s, new one %s: %w", got, sum, storage.ErrExists)
	}
	return nil
}

func (s *Store) hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	// Wrapped so *os.File's WriteTo does not replace the buffer with a small one.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *bp); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mkdirs creates objects/<dir> and any missing parents, syncing the parent of each
// directory it creates so the new entries are durable. A file in the way (an object
// whose name is a prefix directory of name) is storage.ErrExists.
func (s *Store) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	cur := s.objects
	for seg := range strings.SplitSeq(dir, "/") {
		parent := cur
		cur = filepath.Join(cur, seg)
		err := os.Mkdir(cur, dirMode)
		switch {
		case err == nil:
			if err := syncDir(parent); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			fi, serr := os.Stat(cur)
			if serr != nil {
				return fmt.Errorf("creating directory: %w", serr)
			}
			if !fi.IsDir() {
				return fmt.Errorf("%s is an object, not a directory: %w", s.rel(cur), storage.ErrExists)
			}
		default:
			return fmt.Errorf("creating directory: %w", err)
		}
	}
	return nil
}

// Open implements storage.Store. Info.SHA256 is empty: the local store keeps no
// digest beside the bytes.
func (s *Store) Open(ctx context.Context, name, version string) (io.ReadCloser, storage.Info, error) {
	if err := storage.CheckName(name); err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object: %w", err)
	}
	if version != "" {
		return nil, storage.Info{}, fmt.Errorf("opening object %s version %q: local store keeps no versions: %w", name, version, storage.ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: %w", name, err)
	}
	p := s.path(name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: %w", name, storage.ErrNotFound)
	}
	if err != nil {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, storage.Info{}, fmt.Errorf("opening object %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, storage.Info{}, fmt.Errorf("opening object %s: it is a directory: %w", name, storage.ErrNotFound)
	}
	return f, storage.Info{Name: name, Size: fi.Size(), Location: fileURL(p), Modified: fi.ModTime()}, nil
}

var _ storage.RangeOpener = (*Store)(nil)

// OpenRange implements storage.RangeOpener with a seek.
func (s *Store) OpenRange(ctx context.Context, name, version string, off, n int64) (io.ReadCloser, storage.Info, error) {
	if off < 0 || n < 0 {
		return nil, storage.Info{}, fmt.Errorf("opening object %s: negative range [%d, +%d)", name, off, n)
	}
	rc, info, err := s.Open(ctx, name, version)
	if err != nil {
		return nil, storage.Info{}, err
	}
	f := rc.(*os.File)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, storage.Info{}, fmt.Errorf("opening object %s at %d: %w", name, off, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, n), f}, info, nil
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	names, err := listUnder(ctx, s.objects, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing objects with prefix %q: %w", prefix, err)
	}
	return names, nil
}

// listUnder returns, sorted, the names (slash-separated, relative to base) of the
// regular files under base that start with prefix. It walks only the deepest directory
// the prefix names, when that is a valid name.
func listUnder(ctx context.Context, base, prefix string) ([]string, error) {
	root := base
	if i := strings.LastIndexByte(prefix, '/'); i > 0 && storage.CheckName(prefix[:i]) == nil {
		root = filepath.Join(base, filepath.FromSlash(prefix[:i]))
	}
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		r, _ := filepath.Rel(base, p)
		if name := filepath.ToSlash(r); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

func (s *Store) path(name string) string { return filepath.Join(s.objects, filepath.FromSlash(name)) }

func (s *Store) rel(p string) string {
	r, _ := filepath.Rel(s.objects, p)
	return filepath.ToSlash(r)
}

func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// isNotDir reports whether err says a path goes through a file as if it were a
// directory: the object is absent.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
