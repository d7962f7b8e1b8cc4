package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/ledger"
)

// The log endpoints let courts and monitors follow the custody log: its latest signed
// checkpoint, consistency proofs between sizes, and its leaves (which reveal no case
// data). Any authenticated member may read them.

func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cp, err := s.Log.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(cp)
	return err
}

// logSize is the size of the latest published checkpoint.
func (s *Server) logSize(ctx context.Context) (uint64, error) {
	cp, err := s.Log.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	lines := strings.SplitN(string(cp), "\n", 3)
	if len(lines) < 3 {
		return 0, errors.New("malformed checkpoint")
	}
	return strconv.ParseUint(lines[1], 10, 64)
}

func queryUint(r *http.Request, name string) (uint64, error) {
	v, err := strconv.ParseUint(r.URL.Query().Get(name), 10, 64)
	if err != nil {
		return 0, invalid("query parameter %s must be a non-negative integer", name)
	}
	return v, nil
}

func (s *Server) logConsistency(w http.ResponseWriter, r *http.Request, _ Principal) error {
	from, err := queryUint(r, "from")
	if err != nil {
		return err
	}
	to, err := queryUint(r, "to")
	if err != nil {
		return err
	}
	size, err := s.logSize(r.Context())
	if err != nil {
		return err
	}
	if from > to || to > size {
		return invalid("want 0 <= from <= to <= %d (the latest checkpoint's size)", size)
	}
	p := api.ConsistencyProof{From: from, To: to, Hashes: [][]byte{}}
	if from > 0 && from < to {
		if p.Hashes, err = s.Log.ConsistencyProof(r.Context(), from, to); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) logLeaves(w http.ResponseWriter, r *http.Request, _ Principal) error {
	lr, ok := s.Log.(ledger.LeafReader)
	if !ok {
		return &badRequest{status: http.StatusNotImplemented, kind: "not-implemented", msg: "this log backend does not serve its leaves"}
	}
	start, err := queryUint(r, "start")
	if err != nil {
		return err
	}
	count, err := queryUint(r, "count")
	if err != nil {
		return err
	}
	size, err := queryUint(r, "size")
	if err != nil {
		return err
	}
	latest, err := s.logSize(r.Context())
	if err != nil {
		return err
	}
	if count == 0 || count > api.MaxLeafPage || size > latest || start >= size {
		return invalid("want 1 <= count <= %d and start < size <= %d (the latest checkpoint's size)", api.MaxLeafPage, latest)
	}
	count = min(count, size-start)
	leaves, err := lr.Leaves(r.Context(), start, count, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.LeafPage{Start: start, Size: size, Leaves: leaves})
	return nil
}
