//go:build js && wasm

package main

import (
	"errors"
	"io"
	"syscall/js"
)

// streamReader reads a JavaScript ReadableStream through its default reader, chunk by
// chunk, so that an evidence file of any size is hashed without being held in memory.
// It must not be used from a JavaScript callback's own goroutine: each Read waits for a
// promise, which resolves only once the event loop runs.
type streamReader struct {
	reader   js.Value // ReadableStreamDefaultReader
	pending  []byte
	done     int64
	total    int64
	progress js.Value // function(done, total), or undefined
}

var _ io.Reader = (*streamReader)(nil)

func (s *streamReader) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		chunk, err := await(s.reader.Call("read"))
		if err != nil {
			return 0, err
		}
		if chunk.Get("done").Bool() {
			return 0, io.EOF
		}
		v := chunk.Get("value")
		s.pending = make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(s.pending, v)
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	s.done += int64(n)
	if s.progress.Type() == js.TypeFunction {
		s.progress.Invoke(float64(s.done), float64(s.total))
	}
	return n, nil
}

// await waits for a JavaScript promise to settle.
func await(promise js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	onResolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{v: args[0]}
		return nil
	})
	onReject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{err: errors.New("reading the evidence file: " + js.Global().Get("String").Invoke(args[0]).String())}
		return nil
	})
	defer onResolve.Release()
	defer onReject.Release()
	promise.Call("then", onResolve, onReject)
	s := <-ch
	return s.v, s.err
}
