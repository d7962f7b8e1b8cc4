package trillianlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/types"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evidencegw/evidencegw/ledger"
)

// register records an append waiting for the leaf with Merkle hash h. It must happen
// before the leaf is queued: the follower then cannot scan past the leaf unseen.
func (l *Log) register(h []byte) *waiter {
	w := &waiter{hash: h, done: make(chan result, 1)}
	l.mu.Lock()
	l.pending[string(h)] = append(l.pending[string(h)], w)
	l.mu.Unlock()
	return w
}

// forget removes w, whether it was answered or gave up.
func (l *Log) forget(w *waiter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.located, w)
	ws := l.pending[string(w.hash)]
	for i, o := range ws {
		if o == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(l.pending, string(w.hash))
	} else {
		l.pending[string(w.hash)] = ws
	}
}

func (l *Log) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *Log) waiting() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)+len(l.located) > 0
}

// follow refreshes the root every pollInterval while appends wait, and sleeps otherwise.
func (l *Log) follow(ctx context.Context) {
	defer close(l.done)
	failing := false
	timer := time.NewTimer(pollInterval)
	defer timer.Stop()
	for {
		if !l.waiting() {
			select {
			case <-l.kick:
			case <-ctx.Done():
				return
			}
		}
		err := l.refresh(ctx)
		switch {
		case err == nil && failing:
			l.cfg.Logger.InfoContext(ctx, "trillian log reachable again", "tree_id", l.cfg.TreeID)
		case err != nil && !failing && ctx.Err() == nil:
			l.cfg.Logger.WarnContext(ctx, "refreshing trillian root", "tree_id", l.cfg.TreeID, "err", err)
		}
		failing = err != nil
		timer.Reset(pollInterval)
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
}

// root is a Trillian log root, unsigned as far as the gateway is concerned.
type root struct {
	size uint64
	hash []byte
}

// refresh reads Trillian's latest root and, if it is larger than the last signed
// checkpoint, verifies it extends that checkpoint, matches the new leaves with waiting
// appends, signs it and releases the appends it covers. One refresh runs at a time. A
// security error is also delivered to every waiting append.
func (l *Log) refresh(ctx context.Context) error {
	select {
	case l.refreshing <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	defer func() { <-l.refreshing }()
	err := l.advance(ctx)
	if errors.Is(err, ErrSecurity) {
		if !l.alarmed {
			l.cfg.Logger.ErrorContext(ctx, "trillian log inconsistency: refusing to sign", "tree_id", l.cfg.TreeID, "err", err)
		}
		l.alarmed = true
		l.failAll(err)
		return err
	}
	if errors.Is(err, ledger.ErrWitnessQuorum) {
		// Fail closed, and fast: the appends waiting now are answered with the
		// refusal instead of waiting for their deadline. Their leaves stay queued,
		// so a retry returns their index under the next cosigned checkpoint.
		l.failAll(err)
		return err
	}
	if err == nil {
		l.alarmed = false
	}
	l.release()
	return err
}

func (l *Log) advance(ctx context.Context) error {
	l.mu.Lock()
	last := l.signed
	l.mu.Unlock()
	var from uint64
	if last != nil {
		from = last.size
	}
	r, hashes, err := l.latestRootWithProof(ctx, from)
	if err != nil {
		return err
	}
	if last != nil {
		if r.size < last.size {
			// A lagging read (or a rolled-back database): nothing to sign until the
			// tree grows again, and then only a root consistent with last.
			return fmt.Errorf("trillian root of size %d is behind the signed checkpoint of size %d", r.size, last.size)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, last.size, r.size, hashes, last.hash, r.hash); err != nil {
			return &InconsistentRootError{Signed: last.note, OldSize: last.size, OldHash: last.hash,
				NewSize: r.size, NewHash: r.hash, Proof: hashes, Err: err}
		}
		if r.size == last.size {
			return nil
		}
	}
	b, err := l.scan(ctx, r)
	if err != nil {
		return err
	}
	cp, err := l.publish(ctx, r.size, r.hash)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.signed = cp
	if b != nil && b.end-b.begin <= maxKeptBatchLeaves {
		l.batches = append(l.batches, b)
		if len(l.batches) > keptBatches {
			l.batches = slices.Delete(l.batches, 0, len(l.batches)-keptBatches)
		}
	}
	l.mu.Unlock()
	l.cfg.Logger.DebugContext(ctx, "checkpoint published", "tree_id", l.cfg.TreeID, "size", cp.size)
	return nil
}

// latestRootWithProof returns Trillian's latest root and, if from > 0, the consistency
// proof from size from, read in one snapshot.
func (l *Log) latestRootWithProof(ctx context.Context, from uint64) (root, [][]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	req := &trillian.GetLatestSignedLogRootRequest{LogId: l.cfg.TreeID, FirstTreeSize: int64(from)}
	resp, err := l.client.GetLatestSignedLogRoot(rctx, req)
	if status.Code(err) == codes.InvalidArgument && from > 0 {
		// Trillian's tree is smaller than from: read the root alone, for the caller
		// to report.
		r, err := l.latestRoot(ctx)
		return r, nil, err
	}
	if err != nil {
		return root{}, nil, fmt.Errorf("reading latest root of trillian tree %d: %w", l.cfg.TreeID, err)
	}
	r, err := parseRoot(resp.GetSignedLogRoot())
	if err != nil {
		return root{}, nil, err
	}
	if from > 0 && resp.GetProof() == nil {
		return root{}, nil, fmt.Errorf("trillian tree %d: no consistency proof from size %d to %d", l.cfg.TreeID, from, r.size)
	}
	return r, resp.GetProof().GetHashes(), nil
}

// latestRoot returns Trillian's latest root.
func (l *Log) latestRoot(ctx context.Context) (root, error) {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := l.client.GetLatestSignedLogRoot(rctx, &trillian.GetLatestSignedLogRootRequest{LogId: l.cfg.TreeID})
	if err != nil {
		return root{}, fmt.Errorf("reading latest root of trillian tree %d: %w", l.cfg.TreeID, err)
	}
	return parseRoot(resp.GetSignedLogRoot())
}

func parseRoot(slr *trillian.SignedLogRoot) (root, error) {
	var lr types.LogRootV1
	if err := lr.UnmarshalBinary(slr.GetLogRoot()); err != nil {
		return root{}, fmt.Errorf("parsing trillian log root: %w", err)
	}
	if len(lr.RootHash) != rfc6962.DefaultHasher.Size() {
		return root{}, fmt.Errorf("trillian log root hash of %d bytes", len(lr.RootHash))
	}
	return root{size: lr.TreeSize, hash: lr.RootHash}, nil
}

// locate asks Trillian for the index of w's leaf among the leaves already scanned, for
// a leaf that was queued before w was registered. A leaf not found there is left to
// the follower's scan.
func (l *Log) locate(ctx context.Context, w *waiter) error {
	l.mu.Lock()
	size := l.scanned
	l.mu.Unlock()
	if size == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := l.client.GetInclusionProofByHash(rctx, &trillian.GetInclusionProofByHashRequest{
		LogId: l.cfg.TreeID, LeafHash: w.hash, TreeSize: int64(size), OrderBySequence: true})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up leaf %x in trillian tree %d: %w", w.hash, l.cfg.TreeID, err)
	}
	if len(resp.GetProof()) == 0 || resp.GetProof()[0].GetLeafIndex() < 0 {
		return fmt.Errorf("looking up leaf %x in trillian tree %d: no index in the answer", w.hash, l.cfg.TreeID)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ws := l.pending[string(w.hash)]
	if len(ws) == 0 {
		return nil // located meanwhile
	}
	for _, o := range ws {
		o.index = uint64(resp.GetProof()[0].GetLeafIndex())
		l.located[o] = struct{}{}
	}
	delete(l.pending, string(w.hash))
	l.releaseLocked()
	return nil
}

// release answers the located appends that the signed checkpoint covers.
func (l *Log) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked()
}

func (l *Log) releaseLocked() {
	if l.signed == nil {
		return
	}
	for w := range l.located {
		if w.index < l.signed.size {
			w.done <- result{index: w.index, checkpoint: l.signed.parsed(l.origin)}
			delete(l.located, w)
		}
	}
}

// failAll answers every waiting append with err.
func (l *Log) failAll(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for w := range l.located {
		w.done <- result{err: err}
	}
	clear(l.located)
	for _, ws := range l.pending {
		for _, w := range ws {
			w.done <- result{err: err}
		}
	}
	clear(l.pending)
}
