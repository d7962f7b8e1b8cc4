package gateway

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// noHoldDetail is recorded when the store has no legal hold of its own (the local
// store never deletes objects, so the custody record is the hold).
const noHoldDetail = "the object store has no legal hold; the hold is recorded in custody only"

func (s *Server) hold(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.setHold(w, r, p, true)
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.setHold(w, r, p, false)
}

// setHold puts the content under legal hold or releases it, as a custody event.
func (s *Server) setHold(w http.ResponseWriter, r *http.Request, p Principal, on bool) error {
	var req api.RevokeRequest // {"reason": "..."}
	if err := decodeJSON(r, w, &req); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, maxReason, false); err != nil {
		return err
	}
	ctx, id := r.Context(), mux.Vars(r)["id"]
	return s.change(w, r, id, http.StatusOK, func() (any, error) {
		st, _, err := s.authorized(ctx, id, p, policy.ActionHold)
		if err != nil {
			return nil, err
		}
		if st.held == on {
			msg := "the evidence is already under legal hold"
			if !on {
				msg = "the evidence is not under legal hold"
			}
			return nil, &badRequest{status: http.StatusConflict, kind: "hold-state", msg: msg}
		}
		action, detail := custody.ActionLegalHold, req.Reason
		if !on {
			action = custody.ActionLegalHoldRelease
		}
		f := st.register.Storage
		if lh, ok := s.Store.(storage.LegalHolder); ok {
			err := lh.SetLegalHold(ctx, contentName(st.register.Actor.Jurisdiction, id), f.Version, on)
			switch {
			case errors.Is(err, errors.ErrUnsupported):
				detail = joinDetail(detail, noHoldDetail)
			case err != nil:
				return nil, err
			}
		} else {
			detail = joinDetail(detail, noHoldDetail)
		}
		return s.record(ctx, st, custody.Event{Action: action, Actor: party(p), Storage: f, Detail: detail})
	})
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
