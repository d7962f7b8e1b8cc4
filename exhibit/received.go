package exhibit

import (
	"context"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
)

// Received records the member's signed receipt of what a download delivered, as a
// received event: the received act names the download event (its digest), the SHA-256
// of the bytes received and their number. The download must be one of the caller's
// agency, not yet acknowledged.
func (s *Service) Received(ctx context.Context, p Principal, id string) (api.CustodyReceipt, error) {
	stmt, err := actStatement(p)
	if err != nil {
		return api.CustodyReceipt{}, err
	}
	return change(ctx, s, id, func() (api.CustodyReceipt, error) {
		st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionReceive, locked: true})
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		a := stmt.Predicate
		dl := st.recordByDigest(a.Download)
		if a.Action != custody.ActionReceived || dl == nil || dl.Event.Action != custody.ActionDownload || dl.Event.Actor.Agency != p.Agency {
			return api.CustodyReceipt{}, actRefused("your act acknowledges no download of your agency of this evidence")
		}
		if seq, ok := st.received[a.Download]; ok {
			return api.CustodyReceipt{}, actRefused("the download of event %d is already acknowledged, by event %d", dl.Event.Seq, seq)
		}
		ev := custody.Event{Action: custody.ActionReceived, Actor: p.party(), Counterparty: st.ownerParty(),
			Grant: dl.Event.Grant, LegalBasis: dl.Event.LegalBasis}
		if ev.Act, err = s.checkAct(p, st, ev, st.register.Exhibit.SHA256); err != nil {
			return api.CustodyReceipt{}, err
		}
		return s.record(ctx, st, ev)
	})
}
