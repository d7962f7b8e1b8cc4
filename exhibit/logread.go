package exhibit

import (
	"context"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/ledger"
)

// The log's public reads let courts and monitors follow the custody log: its latest
// signed checkpoint, consistency proofs between sizes, and its leaves (which reveal no
// case data). Any authenticated member may call them.

// Checkpoint returns the log's latest signed checkpoint.
func (s *Service) Checkpoint(ctx context.Context) ([]byte, error) {
	cp, err := s.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	return cp.Note, nil
}

// Consistency returns the consistency proof between two tree sizes of the log, both at
// most the latest checkpoint's.
func (s *Service) Consistency(ctx context.Context, from, to uint64) (api.ConsistencyProof, error) {
	cp, err := s.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return api.ConsistencyProof{}, err
	}
	if from > to || to > cp.Size {
		return api.ConsistencyProof{}, invalid("want 0 <= from <= to <= %d (the latest checkpoint's size)", cp.Size)
	}
	p := api.ConsistencyProof{From: from, To: to, Hashes: [][]byte{}}
	if from > 0 && from < to {
		if p.Hashes, err = s.cfg.Log.ConsistencyProof(ctx, from, to); err != nil {
			return api.ConsistencyProof{}, err
		}
	}
	return p, nil
}

// Leaves returns up to count leaves of the log from start, in the tree of size size.
func (s *Service) Leaves(ctx context.Context, start, count, size uint64) (api.LeafPage, error) {
	if _, ok := s.cfg.Log.(ledger.LeafReader); !ok {
		return api.LeafPage{}, ErrNotImplemented
	}
	cp, err := s.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return api.LeafPage{}, err
	}
	if count == 0 || count > api.MaxLeafPage || size > cp.Size || start >= size {
		return api.LeafPage{}, invalid("want 1 <= count <= %d and start < size <= %d (the latest checkpoint's size)", api.MaxLeafPage, cp.Size)
	}
	count = min(count, size-start)
	leaves, err := s.ledger.Leaves(ctx, start, count, size)
	if err != nil {
		return api.LeafPage{}, err
	}
	return api.LeafPage{Start: start, Size: size, Leaves: leaves}, nil
}
