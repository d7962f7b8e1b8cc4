package main

import (
	"strings"
	"testing"
)

// TestLockDataDir: a second gateway on a data directory in use is refused with a clear
// message, and the directory is free again once the first lets go.
func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use by another gateway process") {
		t.Fatalf("second lock: got %v, want the directory in use", err)
	}
	unlock()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}
