package exhibit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
)

// The catalog is a derived view (docs/catalog.md): the rows of a subject are a pure
// fold of its custody chain, written after every event the record path appends
// (appendEvent), healed from the chains after a crash (HealCatalog), and recomputed
// whole by RebuildCatalog. The fold knows the actions it folds and ignores the others,
// so actions added later never break it.

// healAge is how old an intent whose event is not stored must be before HealCatalog
// drops it: a change in flight (on this replica or another) takes seconds, not a
// minute.
const healAge = time.Minute

// intend records in the catalog that event seq of subject id is about to be recorded.
func (s *Service) intend(ctx context.Context, id string, seq uint64) error {
	if s.cfg.Catalog == nil {
		return nil
	}
	if err := s.cfg.Catalog.Intend(ctx, id, seq, s.cfg.Now()); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "catalog unavailable: refusing the custody change", "subject", id, "err", err)
		return fmt.Errorf("%w: %w", ErrCatalogUnavailable, err)
	}
	return nil
}

// refresh writes the rows folded from chain, the chain of subject id as it now
// stands, and clears the intents it covers. A failure is logged: the intent stays
// and HealCatalog retries it.
func (s *Service) refresh(ctx context.Context, id string, chain *ledger.Chain) {
	if s.cfg.Catalog == nil {
		return
	}
	sub := subjectRows(id, chain)
	err := s.cfg.Catalog.Put(ctx, sub)
	if err == nil {
		err = s.cfg.Catalog.Done(ctx, id, sub.Seq)
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "catalog not updated; it heals from the custody chain later", "subject", id, "err", err)
	}
}

// refreshState writes the rows of an exhibit from its state after an event it just
// recorded (no damage: a damaged chain is refreshed from the whole chain), and clears
// the intents they cover; as refresh, a failure is logged and left to HealCatalog.
func (s *Service) refreshState(ctx context.Context, st *state) {
	if s.cfg.Catalog == nil {
		return
	}
	sub := catalog.Subject{ID: st.id(), Seq: st.tip.Head.Event.Seq, Exhibit: st.row(), Grants: st.grantRows()}
	err := s.cfg.Catalog.Put(ctx, sub)
	if err == nil {
		err = s.cfg.Catalog.Done(ctx, sub.ID, sub.Seq)
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "catalog not updated; it heals from the custody chain later", "subject", sub.ID, "err", err)
	}
}

// subjectRows folds a chain into the catalog rows of its subject.
func subjectRows(id string, chain *ledger.Chain) catalog.Subject {
	sub := catalog.Subject{ID: id, Seq: chain.Head().Event.Seq}
	if n := len(chain.Records); n > 0 && chain.Records[n-1].Event.Seq < uint64(n-1) {
		sub.Seq = uint64(n - 1) // an unreadable last event: count it by position
	}
	if chain.Damage != nil && chain.Damage.Seq == 0 {
		return sub // nothing verified: no row but the subject's
	}
	if custody.ValidRequestID(id) {
		sub.Request = foldRequest(chain).row()
		return sub
	}
	st := fold(chain)
	sub.Exhibit, sub.Grants = st.row(), st.grantRows()
	return sub
}

// lastVerified returns the time of the last event that verified.
func lastVerified(chain *ledger.Chain) time.Time {
	recs := chain.Records
	if d := chain.Damage; d != nil {
		recs = recs[:d.Seq]
	}
	return recs[len(recs)-1].Event.Time
}

// row is the catalog row of an exhibit.
func (s *state) row() *catalog.Exhibit {
	reg := s.register
	e := &catalog.Exhibit{EvidenceID: reg.EvidenceID, CaseID: reg.CaseID, Owner: s.owner(), Jurisdiction: s.jurisdiction(),
		Description: reg.Exhibit.Description, SHA256: reg.Exhibit.SHA256, Size: reg.Exhibit.Size, RegisteredAt: reg.Time,
		Events: s.eventCount(), UpdatedAt: s.updated, Held: s.held, Damaged: s.damage != nil}
	if a := reg.Exhibit.Acquisition; a != nil {
		e.ExhibitNumber = a.ExhibitNumber
	}
	if reg.RetainUntil != nil {
		e.RetainUntil = *reg.RetainUntil
	}
	if d := s.disposal; d != nil {
		e.DisposedAt = d.Event.Time
	}
	return e
}

// grantRows are the catalog rows of an exhibit's grants.
func (s *state) grantRows() []catalog.Grant {
	var out []catalog.Grant
	for _, g := range s.grants {
		out = append(out, catalog.Grant{GrantID: g.ID, EvidenceID: s.id(), CaseID: s.register.CaseID, Owner: s.owner(),
			To: g.To, LegalBasis: g.LegalBasis, Instrument: g.Instrument, RequestID: g.RequestID, GrantedAt: g.GrantedAt,
			Expires: g.Expires, MaxDownloads: g.MaxDownloads, Downloads: g.Downloads, ViewOnly: g.ViewOnly,
			Accepted: g.Accepted, Revoked: g.Revoked})
	}
	return out
}

// loadSubject reads and folds the chain of subject id into its catalog rows; found is
// false when no event of it is stored.
func (s *Service) loadSubject(ctx context.Context, id string) (catalog.Subject, bool, error) {
	chain, err := s.ledger.Load(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return catalog.Subject{}, false, nil
	}
	if err != nil {
		return catalog.Subject{}, false, fmt.Errorf("loading custody chain of %s: %w", id, err)
	}
	return subjectRows(id, chain), true, nil
}

// resync writes the rows of subject id from its stored chain, or removes them if it
// has none.
func (s *Service) resync(ctx context.Context, id string) (uint64, error) {
	sub, found, err := s.loadSubject(ctx, id)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, s.cfg.Catalog.Delete(ctx, id)
	}
	return sub.Seq, s.cfg.Catalog.Put(ctx, sub)
}

// HealCatalog resolves the catalog's intents: the custody events that were, or were
// about to be, recorded when a gateway stopped or the catalog failed. Each subject's
// rows are written again from its stored chain; an intent is cleared once the chain
// holds its event, or once it is older than a minute (its event was never stored: the
// change failed or its gateway stopped before). An intent of a change still in flight
// stays (its rows are refreshed all the same: folding a chain again is harmless). It returns how many intents it resolved. The gateway runs it at start and
// then every minute.
func (s *Service) HealCatalog(ctx context.Context) (int, error) {
	if s.cfg.Catalog == nil {
		return 0, nil
	}
	now := s.cfg.Now()
	pending, err := s.cfg.Catalog.Pending(ctx, now.Add(time.Nanosecond))
	if err != nil {
		return 0, fmt.Errorf("reading catalog intents: %w", err)
	}
	n := 0
	for _, in := range pending {
		sub, found, err := s.loadSubject(ctx, in.ID)
		if err != nil {
			return n, fmt.Errorf("healing the catalog rows of %s: %w", in.ID, err)
		}
		if found {
			err = s.cfg.Catalog.Put(ctx, sub)
		} else {
			err = s.cfg.Catalog.Delete(ctx, in.ID)
		}
		stored := found && sub.Seq >= in.Seq
		if err != nil || (!stored && now.Sub(in.Since) < healAge) {
			if err == nil {
				continue // in flight, on this replica or another: rows refreshed, intent kept
			}
			return n, fmt.Errorf("healing the catalog rows of %s: %w", in.ID, err)
		}
		if err := s.cfg.Catalog.Done(ctx, in.ID, in.Seq); err != nil {
			return n, fmt.Errorf("healing the catalog rows of %s: %w", in.ID, err)
		}
		s.cfg.Logger.InfoContext(ctx, "catalog healed from the custody chain", "subject", in.ID, "seq", in.Seq, "event_stored", stored)
		n++
	}
	return n, nil
}

// storedSubjects lists every custody subject the store holds: exhibits and requests.
func (s *Service) storedSubjects(ctx context.Context) ([]string, error) {
	var ids []string
	for _, prefix := range []string{evidencePrefix, requestPrefix} {
		names, err := s.cfg.Store.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", prefix, err)
		}
		for _, name := range names {
			id, ok := parseEvidenceID(name)
			if prefix == requestPrefix {
				id, ok = parseRequestID(name)
			}
			if ok && custody.ValidSubjectID(id) && (len(ids) == 0 || ids[len(ids)-1] != id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// RebuildCatalog recomputes every row of the catalog from the stored custody chains,
// and removes the rows of subjects no chain holds. progress, if set, hears how many
// subjects are done out of how many. It returns the number of subjects.
func (s *Service) RebuildCatalog(ctx context.Context, progress func(done, total int)) (int, error) {
	if s.cfg.Catalog == nil {
		return 0, ErrNoCatalog
	}
	ids, err := s.storedSubjects(ctx)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if _, err := s.resync(ctx, id); err != nil {
			return i, fmt.Errorf("rebuilding the catalog rows of %s: %w", id, err)
		}
		if progress != nil {
			progress(i+1, len(ids))
		}
	}
	have, err := s.cfg.Catalog.Subjects(ctx)
	if err != nil {
		return len(ids), err
	}
	for _, id := range have {
		if _, found := slices.BinarySearch(ids, id); !found {
			if err := s.cfg.Catalog.Delete(ctx, id); err != nil {
				return len(ids), err
			}
		}
	}
	return len(ids), nil
}

// CatalogDifference is one subject whose catalog rows differ from its chain's fold.
type CatalogDifference struct {
	ID string
	// Reason says how: "missing", "extra" or "stale".
	Reason string
}

// CheckCatalog compares the catalog with a fold of every stored chain and returns the
// subjects whose rows differ; it changes nothing.
func (s *Service) CheckCatalog(ctx context.Context) ([]CatalogDifference, error) {
	if s.cfg.Catalog == nil {
		return nil, ErrNoCatalog
	}
	ids, err := s.storedSubjects(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := s.cfg.Catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	live := map[string]catalog.Subject{}
	for _, sub := range snap.Subjects {
		live[sub.ID] = sub
	}
	var diffs []CatalogDifference
	for _, id := range ids {
		want, found, err := s.loadSubject(ctx, id)
		if err != nil {
			return nil, err
		}
		got, ok := live[id]
		delete(live, id)
		switch {
		case !found:
		case !ok:
			diffs = append(diffs, CatalogDifference{ID: id, Reason: "missing"})
		case !SameRows(got, want):
			diffs = append(diffs, CatalogDifference{ID: id, Reason: "stale"})
		}
	}
	for id := range live {
		diffs = append(diffs, CatalogDifference{ID: id, Reason: "extra"})
	}
	slices.SortFunc(diffs, func(a, b CatalogDifference) int { return compareStrings(a.ID, b.ID) })
	return diffs, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SameRows reports whether two folds of a subject hold the same rows, times compared
// as instants.
func SameRows(a, b catalog.Subject) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}

// normalized returns a copy of sub whose times are in one canonical form.
func normalized(sub catalog.Subject) catalog.Subject {
	t := func(x *time.Time) {
		if !x.IsZero() {
			*x = time.Unix(0, x.UnixNano()).UTC()
		}
	}
	if sub.Exhibit != nil {
		e := *sub.Exhibit
		t(&e.RegisteredAt)
		t(&e.UpdatedAt)
		t(&e.RetainUntil)
		t(&e.DisposedAt)
		sub.Exhibit = &e
	}
	grants := make([]catalog.Grant, len(sub.Grants))
	for i, g := range sub.Grants {
		t(&g.GrantedAt)
		t(&g.Expires)
		grants[i] = g
	}
	sub.Grants = grants
	if sub.Request != nil {
		r := *sub.Request
		t(&r.Deadline)
		t(&r.FiledAt)
		t(&r.UpdatedAt)
		r.Shares = append([]catalog.Share{}, r.Shares...)
		sub.Request = &r
	}
	return sub
}
