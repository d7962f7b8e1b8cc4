package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dataLockName is the lock file a serving gateway holds in its data directory.
const dataLockName = "gateway.lock"

// lockDataDir takes the data directory for this process: a second gateway on the same
// directory would run a second writer of the embedded log (Tessera's POSIX log has a
// single writer) and of the local store. The lock is an flock(2) on <data>/gateway.lock,
// released by the kernel when the process ends, however it ends. It returns the
// function that releases it.
func lockDataDir(dataDir string) (func(), error) {
	p := filepath.Join(dataDir, dataLockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the data directory's lock %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("the data directory %s is in use by another gateway process (%s is locked): each gateway needs its own data directory, and several gateways must share a Trillian log, not the embedded one (docs/deploy.md)", dataDir, p)
		}
		return nil, fmt.Errorf("locking the data directory %s: %w", dataDir, err)
	}
	return func() { f.Close() }, nil
}
