package s3

import (
	"errors"
	"io"
	"testing"
)

func TestBodyRelease(t *testing.T) {
	buf := []byte("0123456789")
	b := newBody(buf)
	p := make([]byte, 4)
	if n, err := b.Read(p); n != 4 || err != nil || string(p) != "0123" {
		t.Fatalf("Read = %d, %v, %q", n, err, p)
	}
	if off, err := b.Seek(0, io.SeekStart); off != 0 || err != nil {
		t.Fatalf("Seek = %d, %v", off, err)
	}
	if all, err := io.ReadAll(b); err != nil || string(all) != string(buf) {
		t.Fatalf("ReadAll after rewinding = %q, %v", all, err)
	}
	b.release()
	if _, err := b.Read(p); !errors.Is(err, errBodyReleased) {
		t.Errorf("Read after release = %v, want errBodyReleased", err)
	}
	if _, err := b.Seek(0, io.SeekStart); !errors.Is(err, errBodyReleased) {
		t.Errorf("Seek after release = %v, want errBodyReleased", err)
	}
}
