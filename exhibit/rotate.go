package exhibit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// ErrNoRotation is returned by RotateKeys when the key manager cannot rotate keys.
var ErrNoRotation = errors.New("the key manager does not rotate key-encryption keys")

// errDisposed is an exhibit a rotation passes over: it was disposed of.
var errDisposed = errors.New("the evidence was disposed of")

// RotateKeys rotates the key-encryption key of a jurisdiction, then rewraps the data key
// of every exhibit kept there to the new version, without touching any ciphertext. Each
// rewrap writes the next version of the exhibit's data-key record (the old one stays,
// write-once) and is recorded as a key-rewrap custody event by actor. Safe to run while
// gateways serve: a concurrent custody append is retried, and exhibits uploaded
// meanwhile keep a key that still unwraps. It returns how many exhibits were rewrapped,
// also when it fails part way.
func (s *Service) RotateKeys(ctx context.Context, jurisdiction string, actor custody.Party) (int, error) {
	if s.cfg.Rotator == nil {
		return 0, ErrNoRotation
	}
	if err := s.cfg.Rotator.Rotate(ctx, jurisdiction); err != nil {
		return 0, fmt.Errorf("rotating the key-encryption key of %s: %w", jurisdiction, err)
	}
	names, err := s.cfg.Store.List(ctx, contentPrefix+jurisdiction+"/")
	if err != nil {
		return 0, fmt.Errorf("listing the content of %s: %w", jurisdiction, err)
	}
	// Each rewrap waits for its custody event to be logged: run several at once, as
	// concurrent requests would, or a store of thousands of exhibits takes as many log
	// round trips end to end.
	var n atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rotateWorkers)
	for _, id := range exhibitsWithDataKeys(jurisdiction, names) {
		g.Go(func() error {
			err := s.withChain(gctx, id, func() error { return s.rewrap(gctx, jurisdiction, id, actor) })
			if errors.Is(err, ErrNotFound) {
				// An orphan upload (Sweep quarantines it): no exhibit, nobody's evidence.
				s.cfg.Logger.InfoContext(ctx, "not rewrapping the data key of an orphan upload", "evidence_id", id)
				return nil
			}
			if errors.Is(err, errDisposed) {
				// Its data keys are being destroyed: a new version would outlive them.
				s.cfg.Logger.InfoContext(ctx, "not rewrapping the data key of disposed evidence", "evidence_id", id)
				return nil
			}
			if err != nil {
				return fmt.Errorf("rewrapping the data key of %s: %w", id, err)
			}
			n.Add(1)
			return nil
		})
	}
	err = g.Wait()
	return int(n.Load()), err
}

// rotateWorkers is how many exhibits a rotation rewraps at once: enough to keep the log
// busy, few enough that the proofs of the chains it loads do not exhaust the log's
// database connections beside the gateways' own.
const rotateWorkers = 8

// exhibitsWithDataKeys returns the evidence ids that have a data-key record, in order.
func exhibitsWithDataKeys(jurisdiction string, names []string) []string {
	var ids []string
	for _, name := range names {
		id, _, ok := parseDataKeyName(jurisdiction, name)
		if ok && custody.ValidEvidenceID(id) && (len(ids) == 0 || ids[len(ids)-1] != id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// rewrap writes the next data-key record of one exhibit, rewrapped to the latest
// key-encryption key, and records it. A version written meanwhile by another rotation
// is ledger.ErrConflict: the caller starts again.
func (s *Service) rewrap(ctx context.Context, j, id string, actor custody.Party) error {
	st, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if st.disposal != nil {
		return errDisposed
	}
	dk, version, err := s.latestDataKey(ctx, j, id)
	if err != nil {
		return err
	}
	wrapped, err := s.cfg.Rotator.Rewrap(ctx, dk.KeyRef, dk.Wrapped, []byte(id))
	if err != nil {
		return fmt.Errorf("rewrapping under %s: %w", dk.KeyRef, err)
	}
	err = s.putDataKey(ctx, j, id, version+1, dataKey{KeyRef: dk.KeyRef, Wrapped: wrapped})
	if errors.Is(err, storage.ErrExists) {
		return ledger.ErrConflict // another rotation wrote that version: start again
	}
	if err != nil {
		return err
	}
	// The new version is kept, and held, like the first.
	if err := s.retain(ctx, s.retainUntil(st), dataKeyName(j, id, version+1)); err != nil {
		return err
	}
	if lh, ok := s.cfg.Store.(storage.LegalHolder); ok && st.held {
		if err := lh.SetLegalHold(ctx, dataKeyName(j, id, version+1), "", true); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("holding data key %d of %s: %w", version+1, id, err)
		}
	}
	facts := *st.register.Storage
	_, err = s.record(ctx, st, custody.Event{Action: custody.ActionKeyRewrap, Actor: actor, Storage: &facts,
		Detail: fmt.Sprintf("data key rewrapped to the latest version of %s (wrapped key version %d); ciphertext untouched", dk.KeyRef, version+1)})
	if err != nil {
		return fmt.Errorf("recording the rewrap: %w", err)
	}
	s.cfg.Logger.InfoContext(ctx, "data key rewrapped", "evidence_id", id, "version", version+1)
	return nil
}
