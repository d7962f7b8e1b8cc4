package exhibit

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/evidencegw/evidencegw/storage"
)

// partWriter seals the bytes of one write of an upload session into parts. While part
// n+1 is sealed and handed to the store, part n may still be on its way to it (an S3
// part uploads from its own buffer): two parts are in flight at most, and each is
// recorded, in order, once the store has it.
type partWriter struct {
	s    *Service
	p    Principal
	sess uploadSession
	ps   *storage.PartSealer
	last partRecord // the last durable, recorded part
}

// pendingPart is a part handed to the store: its result comes on ch.
type pendingPart struct {
	ch    chan partResult
	state storage.SealState // the state after it
}

type partResult struct {
	part storage.Part
	err  error
}

// errPartAbandoned ends a store's read of a part the writer gave up.
var errPartAbandoned = errors.New("part abandoned")

// run seals src into parts until the upload is complete or src ends. A src that ends
// inside a part (io.ErrUnexpectedEOF, as an HTTP body cut short) ends the write
// without an error: the parts before are durable, the one it was in is not.
func (w *partWriter) run(ctx context.Context, src io.Reader) error {
	up, sc, err := w.s.uploadStores()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	name := contentName(w.p.Jurisdiction, w.sess.EvidenceID)
	var inflight *pendingPart
	st, num := w.last.State, w.last.Part.Number
	var runErr error
	for !st.Final {
		plain := w.ps.PlainForSegments(st, w.sess.Segments)
		final := st.PlainSize+plain >= w.sess.Length
		if final {
			plain = w.sess.Length - st.PlainSize
		}
		part := storage.Part{Number: num + 1, Offset: st.CipherSize, Size: w.ps.CipherSize(st, plain, final)}
		pr, pw := io.Pipe()
		ch := make(chan partResult, 1)
		go func() {
			got, err := up.PutPart(ctx, name, w.sess.StoreUpload, part, pr)
			pr.CloseWithError(errPartAbandoned)
			ch <- partResult{got, err}
		}()
		next, sealErr := w.ps.SealPart(pw, src, st, plain, final)
		pw.CloseWithError(sealErr)
		if sealErr != nil {
			res := <-ch
			runErr = w.classify(sealErr, res.err)
			break
		}
		if err := w.record(ctx, sc, inflight); err != nil {
			cancel()
			<-ch
			return err
		}
		inflight = &pendingPart{ch: ch, state: next}
		st, num = next, num+1
	}
	if err := w.record(ctx, sc, inflight); err != nil {
		return err
	}
	return runErr
}

// classify returns what ended a part that could not be sealed whole: nothing if the
// input simply ended, the input's error if it failed, the store's if it failed first.
func (w *partWriter) classify(sealErr, storeErr error) error {
	if storeErr != nil && (errors.Is(sealErr, errPartAbandoned) || !errors.Is(storeErr, sealErr)) {
		// The store failed on its own; SealPart only saw the pipe close.
		return fmt.Errorf("storing a part of upload %s: %w", w.sess.UploadID, storeErr)
	}
	if errors.Is(sealErr, io.ErrUnexpectedEOF) {
		return nil
	}
	return fmt.Errorf("upload %s: %w", w.sess.UploadID, sealErr)
}

// record waits for a pending part and records it.
func (w *partWriter) record(ctx context.Context, sc storage.Scratch, pp *pendingPart) error {
	if pp == nil {
		return nil
	}
	res := <-pp.ch
	if res.err != nil {
		return fmt.Errorf("storing a part of upload %s: %w", w.sess.UploadID, res.err)
	}
	rec := partRecord{Part: res.part, State: pp.state}
	if err := putJSON(ctx, sc, partName(w.p.Jurisdiction, w.sess.UploadID, rec.Part.Number), rec); err != nil {
		return fmt.Errorf("recording part %d of upload %s: %w", rec.Part.Number, w.sess.UploadID, err)
	}
	w.last = rec
	w.s.step(StepPartStored)
	return nil
}
