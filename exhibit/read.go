package exhibit

import (
	"context"
	"errors"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// Show returns what p may see of an exhibit: the owner sees every grant, a partner only
// its own.
func (s *Service) Show(ctx context.Context, p Principal, id string) (api.EvidenceView, error) {
	st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionView})
	if err != nil {
		return api.EvidenceView{}, err
	}
	return st.view(p, s.cfg.Now()), nil
}

// History returns the custody events of an exhibit that p may see: every event for the
// owner and courts, the registration and the events it took part in for a partner.
func (s *Service) History(ctx context.Context, p Principal, id string) (api.History, error) {
	st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionView, whole: true})
	if err != nil {
		return api.History{}, err
	}
	h := api.History{EvidenceID: st.id(), Events: []api.HistoryEvent{}, Damage: st.apiDamage()}
	h.Partial = p.Agency != st.owner() && p.Role != RoleCourt
	for _, rec := range st.chain.Records {
		ev := rec.Event
		if h.Partial && ev.Seq != 0 && !concerns(ev, p.Agency) {
			continue
		}
		he := historyEvent(rec)
		st.describeAct(&he, rec)
		h.Events = append(h.Events, he)
	}
	return h, nil
}

// concerns reports whether an agency took part in an event.
func concerns(ev custody.Event, agency string) bool {
	return ev.Actor.Agency == agency || (ev.Counterparty != nil && ev.Counterparty.Agency == agency) ||
		(ev.Grant != nil && ev.Grant.To == agency)
}

// maxConsistencyFrom bounds the consistency proofs one bundle request may ask for.
const maxConsistencyFrom = 16

// Bundle records a bundle-export event and returns the court bundle of an exhibit (the
// encoded custody.Bundle) with that event. consistencyFrom lists tree sizes of
// checkpoints the caller already holds: the bundle carries consistency proofs from them.
func (s *Service) Bundle(ctx context.Context, p Principal, id string, consistencyFrom []uint64) ([]byte, api.CustodyReceipt, error) {
	if len(consistencyFrom) > maxConsistencyFrom {
		return nil, api.CustodyReceipt{}, invalid("at most %d sizes in consistency_from", maxConsistencyFrom)
	}
	if len(consistencyFrom) > 0 {
		// Checked before the export is recorded; the log only grows.
		cp, err := s.cfg.Log.Checkpoint(ctx)
		if err != nil {
			return nil, api.CustodyReceipt{}, err
		}
		for _, f := range consistencyFrom {
			if f == 0 || f > cp.Size {
				return nil, api.CustodyReceipt{}, invalid("consistency_from %d is not a tree size of the log (1 to %d)", f, cp.Size)
			}
		}
	}
	var out []byte
	rc, err := change(ctx, s, id, func() (api.CustodyReceipt, error) {
		st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionBundle, locked: true})
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		rc, err := s.record(ctx, st, custody.Event{Action: custody.ActionBundleExport, Actor: p.party()})
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		chain, err := s.ledger.Load(ctx, id)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		b, err := s.ledger.Bundle(ctx, chain, consistencyFrom...)
		if errors.Is(err, ledger.ErrBadSize) {
			return api.CustodyReceipt{}, invalid("%v", err)
		}
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		out, err = b.Marshal()
		return rc, err
	})
	if err != nil {
		return nil, api.CustodyReceipt{}, err
	}
	return out, rc, nil
}
