package gateway

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit"
)

// withAct decodes the member's signed act of a change (the Custody-Act header of a
// POST) into p. A malformed header is a 400; whether the act is the caller's and
// names the change is the use case's to check.
func withAct(r *http.Request, p *exhibit.Principal) error {
	if r.Method != http.MethodPost {
		return nil
	}
	act, err := api.ParseAct(r.Header.Values(api.HeaderCustodyAct)...)
	if err != nil {
		return malformed("%v", err)
	}
	p.Act = act
	return nil
}

// received records the member's signed receipt of a download.
func (s *Server) received(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var none struct{}
	if err := decodeJSON(w, r, &none, true); err != nil {
		return err
	}
	rc, err := s.cfg.Exhibits.Received(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc)
	return nil
}
