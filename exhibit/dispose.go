package exhibit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// maxAuthority bounds the authority a disposal names.
const maxAuthority = 512

// Dispose destroys the content of an exhibit and every version of its data key once
// its retention period has ended, under the authority p names (a court order, the
// retention schedule), and records a dispose event. The custody chain stays: show,
// history and bundle keep working, and the bundle shows the disposal.
//
// It refuses, recording nothing, a disposal the policies do not allow, of an exhibit
// under legal hold (ConflictUnderLegalHold) or inside its retention period
// (ConflictRetained), as the custody chain says and as the store's own locks say.
//
// Crypto-shredding: the data-key records are destroyed first, every version, so that
// whatever happens to the ciphertext no stored copy of its key remains
// (docs/keys.md, "Disposal"); then the content. The dispose event is recorded before
// anything is destroyed, so that nothing is ever destroyed unrecorded: if the store
// refuses (its clock says the retention has not ended; S3 Object Lock keeps even the
// gateway from deleting early) or fails, the error says so, the exhibit counts as
// disposed of (its content is no longer served), and calling Dispose again destroys
// what is left and answers with the same event.
func (s *Service) Dispose(ctx context.Context, p Principal, id, authority string) (api.DisposalResult, error) {
	if err := checkText("authority", authority, maxAuthority, true); err != nil {
		return api.DisposalResult{}, err
	}
	rt, ok := s.retainer()
	if !ok {
		return api.DisposalResult{}, errNoRetention
	}
	return change(ctx, s, id, func() (api.DisposalResult, error) {
		st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionDispose, locked: true, authority: authority})
		if err != nil {
			return api.DisposalResult{}, err
		}
		objects, err := s.disposable(ctx, st)
		if err != nil {
			return api.DisposalResult{}, err
		}
		ev := custody.Event{Action: custody.ActionDispose, Actor: p.party(),
			LegalBasis: authority, Storage: st.register.Storage, Detail: disposalDetail(len(objects.keys))}
		// The member signs every disposal they ask for, a repeated one too; only the
		// first is recorded, with its act.
		if ev.Act, err = s.checkAct(p, st, ev, st.register.Exhibit.SHA256); err != nil {
			return api.DisposalResult{}, err
		}
		if st.disposal == nil {
			if err := s.checkDisposable(ctx, rt, st, objects); err != nil {
				return api.DisposalResult{}, err
			}
			rec, err := s.recordEvent(ctx, st, ev)
			if err != nil {
				return api.DisposalResult{}, err
			}
			st.disposal = &rec
			s.cfg.Logger.InfoContext(ctx, "evidence disposal recorded", "audit", true, "evidence_id", id, "principal", p, "seq", rec.Event.Seq)
		}
		res := api.DisposalResult{Custody: receipt(*st.disposal)}
		err = s.destroy(ctx, rt, objects, &res)
		if err == nil {
			// A key rotation on another replica that read the chain before the
			// disposal may have written one more version meanwhile.
			err = s.destroyLateKeys(ctx, rt, st, &res)
		}
		if err != nil {
			return api.DisposalResult{}, &DisposalUnfinishedError{ID: id, Seq: st.disposal.Event.Seq, Err: err}
		}
		return res, nil
	})
}

// disposalDetail is the detail of a dispose event.
func disposalDetail(keys int) string {
	return fmt.Sprintf("the sealed content and every version of its wrapped data key (%d stored) are destroyed: "+
		"no stored copy of the data key remains, so no copy of the ciphertext can be decrypted", keys)
}

// disposalObjects are the stored objects a disposal destroys.
type disposalObjects struct {
	keys    []string // data-key records, oldest first
	content string
}

// disposable lists the objects of an exhibit that a disposal destroys.
func (s *Service) disposable(ctx context.Context, st *state) (disposalObjects, error) {
	keys, err := s.dataKeyNames(ctx, st.jurisdiction(), st.id())
	if err != nil {
		return disposalObjects{}, err
	}
	return disposalObjects{keys: keys, content: contentName(st.jurisdiction(), st.id())}, nil
}

// checkDisposable refuses the disposal of an exhibit under legal hold or inside its
// retention period: as its custody chain says, then as the store's locks on each of
// its objects say.
func (s *Service) checkDisposable(ctx context.Context, rt storage.Retainer, st *state, objects disposalObjects) error {
	now := s.cfg.Now()
	if st.held {
		return &ConflictError{Kind: ConflictUnderLegalHold,
			Msg: "the evidence is under legal hold: it cannot be disposed of until the hold is released"}
	}
	if until := s.retainUntil(st); now.Before(until) {
		return retainedError(until, "its case's retention period")
	}
	for _, name := range append([]string{objects.content}, objects.keys...) {
		l, err := rt.Lock(ctx, name)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the retention of %s: %w", name, err)
		}
		if l.LegalHold {
			return &ConflictError{Kind: ConflictUnderLegalHold,
				Msg: "a stored object of the evidence is under legal hold in the object store, though its custody record holds no hold: place and release the hold again to clear it"}
		}
		if now.Before(l.RetainUntil) {
			return retainedError(l.RetainUntil, "the object store's retention of its objects")
		}
	}
	return nil
}

func retainedError(until time.Time, what string) error {
	return &ConflictError{Kind: ConflictRetained,
		Msg: fmt.Sprintf("the evidence is retained until %s (%s): it cannot be disposed of before", until.UTC().Format(time.RFC3339), what)}
}

// destroyLateKeys destroys data-key records stored after the disposal listed them.
func (s *Service) destroyLateKeys(ctx context.Context, rt storage.Retainer, st *state, res *api.DisposalResult) error {
	late, err := s.dataKeyNames(ctx, st.jurisdiction(), st.id())
	if err != nil || len(late) == 0 {
		return err
	}
	s.cfg.Logger.WarnContext(ctx, "data keys stored during a disposal: destroying them too", "evidence_id", st.id(), "objects", late)
	return s.destroy(ctx, rt, disposalObjects{keys: late, content: contentName(st.jurisdiction(), st.id())}, res)
}

// destroy destroys the data-key records, oldest first, then the content, counting in
// res what it destroyed. Destroying an absent object is no error, so a repeated
// disposal finishes an interrupted one.
func (s *Service) destroy(ctx context.Context, rt storage.Retainer, objects disposalObjects, res *api.DisposalResult) error {
	for _, name := range objects.keys {
		if err := rt.Destroy(ctx, name); err != nil {
			return err
		}
		res.DataKeysDestroyed++
	}
	if _, err := rt.Lock(ctx, objects.content); errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err := rt.Destroy(ctx, objects.content); err != nil {
		return err
	}
	res.ContentDestroyed = true
	return nil
}
