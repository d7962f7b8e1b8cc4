package gateway

import (
	"net/http"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
)

// The log endpoints let courts and monitors follow the custody log; any authenticated
// member may read them.

func (s *Server) trustRoot(w http.ResponseWriter, r *http.Request, _ exhibit.Principal) error {
	b, err := s.cfg.Exhibits.TrustRoot(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", custody.TrustRootMediaType)
	_, err = w.Write(b)
	return err
}

func (s *Server) trustRootChain(w http.ResponseWriter, r *http.Request, _ exhibit.Principal) error {
	b, err := s.cfg.Exhibits.TrustRootChain(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", custody.TrustRootChainMediaType)
	_, err = w.Write(b)
	return err
}

func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request, _ exhibit.Principal) error {
	cp, err := s.cfg.Exhibits.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(cp)
	return err
}

func (s *Server) logConsistency(w http.ResponseWriter, r *http.Request, _ exhibit.Principal) error {
	from, err := queryUint(r, "from")
	if err != nil {
		return err
	}
	to, err := queryUint(r, "to")
	if err != nil {
		return err
	}
	p, err := s.cfg.Exhibits.Consistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) logLeaves(w http.ResponseWriter, r *http.Request, _ exhibit.Principal) error {
	var q [3]uint64
	for i, name := range []string{"start", "count", "size"} {
		var err error
		if q[i], err = queryUint(r, name); err != nil {
			return err
		}
	}
	page, err := s.cfg.Exhibits.Leaves(r.Context(), q[0], q[1], q[2])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
