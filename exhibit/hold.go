package exhibit

import (
	"context"
	"errors"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// noHoldDetail is recorded when the store has no legal hold of its own (the local
// store never deletes objects, so the custody record is the hold).
const noHoldDetail = "the object store has no legal hold; the hold is recorded in custody only"

// Hold puts an exhibit under legal hold (on) or releases it, as a custody event; on
// a store with Object Lock, the content object's legal hold is set too.
func (s *Service) Hold(ctx context.Context, p Principal, id string, on bool, reason string) (api.CustodyReceipt, error) {
	if err := checkText("reason", reason, maxReason, false); err != nil {
		return api.CustodyReceipt{}, err
	}
	return change(ctx, s, id, func() (api.CustodyReceipt, error) {
		st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionHold, locked: true})
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		if st.held == on {
			msg := "the evidence is already under legal hold"
			if !on {
				msg = "the evidence is not under legal hold"
			}
			return api.CustodyReceipt{}, &ConflictError{Kind: ConflictHoldState, Msg: msg}
		}
		action, detail := custody.ActionLegalHold, reason
		if !on {
			action = custody.ActionLegalHoldRelease
		}
		f := st.register.Storage
		err = errors.ErrUnsupported
		if lh, ok := s.cfg.Store.(storage.LegalHolder); ok {
			err = lh.SetLegalHold(ctx, contentName(st.jurisdiction(), id), f.Version, on)
		}
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			detail = joinDetail(detail, noHoldDetail)
		case err != nil:
			return api.CustodyReceipt{}, err
		}
		ev := custody.Event{Action: action, Actor: p.party(), Storage: f, Detail: detail}
		if ev.Act, err = s.checkAct(p, st, ev, st.register.Exhibit.SHA256); err != nil {
			return api.CustodyReceipt{}, err
		}
		return s.record(ctx, st, ev)
	})
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
