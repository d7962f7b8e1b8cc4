package exhibit

import (
	"context"
	"errors"
	"fmt"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// noHoldDetail is recorded when the store has no legal hold of its own.
const noHoldDetail = "the object store has no legal hold; the hold is recorded in custody only"

// Hold puts an exhibit under legal hold (on) or releases it, as a custody event.
//
// Where the store keeps legal holds (storage.LegalHolder: S3 Object Lock, and the lock
// records of the local and memory stores), the hold covers every object of the
// exhibit: its content, every version of its data key and its custody records (events
// and their log indexes), the hold event's own included; events recorded while the
// hold lasts are held as they are stored (record). The objects are held before the
// event is recorded and released before the release is: a failure in between leaves
// them held (or released) with the chain saying otherwise, and running the command
// again completes it.
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
		lh, holds := s.cfg.Store.(storage.LegalHolder)
		if !holds {
			detail = joinDetail(detail, noHoldDetail)
		}
		ev := custody.Event{Action: action, Actor: p.party(), Storage: st.register.Storage, Detail: detail}
		if ev.Act, err = s.checkAct(p, st, ev, st.register.Exhibit.SHA256); err != nil {
			return api.CustodyReceipt{}, err
		}
		if holds {
			if err := s.holdObjects(ctx, lh, st, on); err != nil {
				return api.CustodyReceipt{}, err
			}
		}
		rec, err := s.recordEvent(ctx, st, ev)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		if on && holds {
			s.holdNewRecord(ctx, id, rec.Event.Seq)
		}
		return receipt(rec), nil
	})
}

// holdObjects places (on) or lifts the legal hold on every stored object of an
// exhibit: content, data keys, custody records. A store without legal hold
// (errors.ErrUnsupported, from a Router whose store for the name has none) is passed
// over; an object already destroyed by a disposal is too.
func (s *Service) holdObjects(ctx context.Context, lh storage.LegalHolder, st *state, on bool) error {
	id, j := st.id(), st.jurisdiction()
	keys, err := s.dataKeyNames(ctx, j, id)
	if err != nil {
		return err
	}
	records, err := s.recordNames(ctx, id)
	if err != nil {
		return err
	}
	type object struct{ name, version string }
	objects := []object{{contentName(j, id), st.register.Storage.Version}}
	for _, n := range append(keys, records...) {
		objects = append(objects, object{n, ""})
	}
	for _, o := range objects {
		err := lh.SetLegalHold(ctx, o.name, o.version, on)
		if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, storage.ErrNotFound) && st.disposal != nil {
			continue
		}
		if err != nil {
			return fmt.Errorf("setting the legal hold of %s on %s to %t: %w", id, o.name, on, err)
		}
	}
	return nil
}

// holdNewRecord places the legal hold on the custody records of event seq of an
// exhibit under hold. The event is recorded already: a failure is logged, not
// returned (the record stays under the store's retention).
func (s *Service) holdNewRecord(ctx context.Context, id string, seq uint64) {
	lh, ok := s.cfg.Store.(storage.LegalHolder)
	if !ok {
		return
	}
	for _, name := range []string{eventName(id, seq), indexName(id, seq)} {
		err := lh.SetLegalHold(ctx, name, "", true)
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			s.cfg.Logger.ErrorContext(ctx, "placing the legal hold on a new custody record failed", "evidence_id", id, "seq", seq, "object", name, "err", err)
		}
	}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
