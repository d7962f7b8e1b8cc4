package pki

import (
	"fmt"
	"os"
	"path/filepath"
)

// File modes of what this package writes. Modes are set explicitly after creation, so
// the process umask does not loosen or tighten them.
const (
	dirMode    os.FileMode = 0o700
	keyMode    os.FileMode = 0o600
	publicMode os.FileMode = 0o644
)

// ensureDir creates dir with mode 0700 if it does not exist. An existing directory is
// left as it is.
func ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("creating directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("setting mode of directory %s: %w", dir, err)
	}
	return nil
}

// writeTemp writes data with the given mode to a new temporary file next to path,
// synced to disk, and returns its name. The caller renames or links it into place.
func writeTemp(path string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("writing temporary file for %s: %w", path, err)
	}
	return tmp, nil
}

// writeFileAtomic replaces path with data, so that readers see either the old or the
// new content, never a mix.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming temporary file to %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeFileOnce creates path with data and fails, with an error matching
// [fs.ErrExist], if path already exists. The file appears complete or not at all.
func writeFileOnce(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s to sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
