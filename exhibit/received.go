package exhibit

import (
	"context"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// Received records the member's signed receipt of what a download delivered, as a
// received event: the received act names the download (by the digest of a
// first-release download event, or of the start or resume event of a transfer), the
// SHA-256 of the bytes received and their number. The download must be one of the
// caller's agency, not yet acknowledged (a transfer is acknowledged once, whichever of
// its events the act names).
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
		if a.Action != custody.ActionReceived || dl == nil || !custody.Acknowledgeable(dl.Event.Action) || dl.Event.Actor.Agency != p.Agency {
			return api.CustodyReceipt{}, actRefused("your act acknowledges no download of your agency of this evidence")
		}
		if seq, ok := st.received.get(ackKey(dl)); ok {
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

// ackKey is what a receipt acknowledges when it names the download event rec: the
// transfer rec belongs to, or rec itself (a first-release download event).
func ackKey(rec *ledger.Record) string {
	if t := rec.Event.Transfer; t != nil {
		return "transfer " + t.ID
	}
	return rec.Digest
}
