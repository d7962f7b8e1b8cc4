package storage

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

func TestBufPipe(t *testing.T) {
	data := make([]byte, 100000)
	rand.NewChaCha8([32]byte{1}).Read(data)
	tests := []struct {
		name              string
		chunks, chunkSize int
		writeSize         int
	}{
		{"small writes", 2, 1000, 7},
		{"writes span chunks", 2, 1000, 2500},
		{"one chunk", 1, 4096, 4096},
		{"chunk larger than data", 3, 1 << 20, 33333},
	}
	for _, tt := range tests {
		p := newBufPipe(tt.chunks, tt.chunkSize)
		go func() {
			for b := data; len(b) > 0; {
				k := min(tt.writeSize, len(b))
				if n, err := p.Write(b[:k]); n != k || err != nil {
					p.CloseWithError(err)
					return
				}
				b = b[k:]
			}
			p.Close()
		}()
		got, err := io.ReadAll(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, %v; want %d bytes back, nil", tt.name, len(got), err, len(data))
		}
	}
}

func TestBufPipeWriterError(t *testing.T) {
	errW := errors.New("writer failed")
	p := newBufPipe(2, 10)
	go func() {
		p.Write([]byte("0123456789abc"))
		p.CloseWithError(errW)
	}()
	got, err := io.ReadAll(p)
	// The unsent partial chunk is dropped: an error ends the stream where it is.
	if string(got) != "0123456789" || !errors.Is(err, errW) {
		t.Errorf("ReadAll = %q, %v; want %q, %v", got, err, "0123456789", errW)
	}
}

func TestBufPipeReaderGone(t *testing.T) {
	errR := errors.New("reader gave up")
	p := newBufPipe(1, 10)
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := p.Write(make([]byte, 10)); err != nil {
				done <- err
				return
			}
		}
	}()
	buf := make([]byte, 5)
	if _, err := p.Read(buf); err != nil {
		t.Fatal(err)
	}
	p.CloseRead(errR)
	select {
	case err := <-done:
		if !errors.Is(err, errR) {
			t.Errorf("Write after CloseRead = %v, want %v", err, errR)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Write still blocked 10s after CloseRead")
	}
}
