package exhibit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// chainRetries bounds how often a change re-reads a chain that another replica (or a
// key rotation) appended to first.
const chainRetries = 5

// access is what a use case asks of an exhibit.
type access struct {
	action policy.Action
	// grant, if set, is the one grant the action is on (accepting it).
	grant string
	// locked is set when the caller holds the exhibit's lock (a change).
	locked bool
	// transfer, if set, is a download transfer the caller continues: if it is the
	// caller's, it is not counted among the transfers under way (it holds its
	// download already).
	transfer string
	// authority is the authority a disposal names.
	authority string
	// whole asks for the whole chain (st.chain), read and verified now.
	whole bool
}

// frozenActions are refused on an exhibit whose custody chain failed verification: no
// new grant, acceptance or download.
var frozenActions = map[policy.Action]bool{policy.ActionShare: true, policy.ActionAccept: true, policy.ActionDownload: true,
	policy.ActionDispose: true}

// goneActions need the content, which a disposal destroyed: they are refused on an
// exhibit that was disposed of.
var goneActions = map[policy.Action]bool{policy.ActionShare: true, policy.ActionAccept: true, policy.ActionDownload: true,
	policy.ActionHold: true}

// authorized loads an exhibit's state and asks the policy whether p may do the action.
// Evidence p may not see is ErrNotFound, exactly like evidence that does not exist;
// every denial is audited with the deciding policies. An exhibit whose chain failed
// verification gets its integrity-failure event now if it has none yet, and refuses
// the frozen actions with a *FrozenError.
func (s *Service) authorized(ctx context.Context, id string, p Principal, acc access) (*state, policy.Decision, error) {
	a := acc.action
	if !custody.ValidEvidenceID(id) {
		return nil, policy.Decision{}, invalid("invalid evidence id: want \"ev-\" followed by 26 letters a-z or digits 2-7")
	}
	load := s.load
	if acc.whole {
		load = s.loadWhole
	}
	st, err := load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		s.audit(ctx, p, a, id, policy.Decision{})
		return nil, policy.Decision{}, ErrNotFound
	}
	if err != nil {
		return nil, policy.Decision{}, err
	}
	now := s.cfg.Now()
	pe := st.policyEvidence(now, st.ownTransfer(acc.transfer, p))
	var d policy.Decision
	if a == policy.ActionDispose {
		d = s.cfg.Policy.DecideDisposal(p.policy(), pe, acc.authority, now)
	} else {
		d = s.cfg.Policy.Decide(p.policy(), a, pe, now)
	}
	if !d.Visible {
		s.audit(ctx, p, a, id, d)
		return nil, d, ErrNotFound
	}
	if st.damage != nil {
		if st, err = s.damaged(ctx, st, p, acc.locked); err != nil {
			return nil, d, err
		}
		if frozenActions[a] {
			return nil, d, &FrozenError{Seq: st.damage.Seq, Reason: st.damage.Reason}
		}
	}
	if acc.grant != "" && p.Agency != st.owner() {
		if g := st.grantByID(acc.grant); g == nil || g.To != p.Agency {
			return nil, d, errGrantNotAcceptable
		}
		d = s.cfg.Policy.DecideGrant(p.policy(), a, pe, acc.grant, now)
	}
	if !d.Allow {
		s.audit(ctx, p, a, id, d)
		return nil, d, &DeniedError{Action: string(a), Policies: d.Policies, Reason: denialReason(a, d)}
	}
	if r := st.disposal; r != nil && goneActions[a] {
		return nil, d, &DisposedError{Seq: r.Event.Seq, Time: r.Event.Time, Authority: r.Event.LegalBasis}
	}
	return st, d, nil
}

// damaged records, once, the integrity failure of a chain that failed verification,
// and returns the state after it. Holding the exhibit's lock (locked), it records at
// once and asks the caller to run again (ledger.ErrConflict), since the chain moved;
// otherwise it takes the lock to record.
func (s *Service) damaged(ctx context.Context, st *state, p Principal, locked bool) (*state, error) {
	if st.damageRecorded {
		return st, nil
	}
	if locked {
		s.recordDamage(ctx, st, p)
		return nil, ledger.ErrConflict
	}
	err := s.withChain(ctx, st.id(), func() error {
		cur, err := s.load(ctx, st.id())
		if err == nil && cur.damage != nil && !cur.damageRecorded {
			s.recordDamage(ctx, cur, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, st.id())
}

// recordDamage records an integrity-failure event naming the damaged stored event, and
// raises the alarm: the damage metric and an error log line.
func (s *Service) recordDamage(ctx context.Context, st *state, p Principal) {
	d := st.damage
	s.metrics.chainDamage.Inc()
	s.cfg.Logger.ErrorContext(ctx, "custody chain failed verification: exhibit frozen", "alert", true,
		"evidence_id", st.id(), "seq", d.Seq, "digest", d.Digest, "reason", d.Reason)
	s.integrityFailure(ctx, st, p, d)
}

// load returns the state of an exhibit's verified chain: the kept folded state
// (folds.go) extended by the events stored after it, or the whole chain read, verified
// and folded when none is kept, the kept one is due for its recheck, or an event after
// it failed verification. The state returned is the caller's own copy.
func (s *Service) load(ctx context.Context, id string) (*state, error) {
	kept, checked, ok := s.folds.get(id)
	if !ok || s.cfg.Now().Sub(checked) >= s.cfg.ChainRecheck {
		return s.loadWhole(ctx, id)
	}
	recs, damage, err := s.ledger.Extend(ctx, kept.tip)
	if err != nil {
		return nil, fmt.Errorf("loading custody chain of %s: %w", id, err)
	}
	if damage != nil {
		// The whole chain shows the damage with every event after it.
		s.folds.remove(id)
		return s.loadWhole(ctx, id)
	}
	if len(recs) > 0 {
		kept = kept.extend(recs)
		s.folds.put(kept, checked)
	}
	own := *kept
	return &own, nil
}

// loadWhole reads, verifies and folds an exhibit's whole chain, and keeps the state if
// the chain verified. A chain whose register event failed verification cannot be
// folded: that is an integrity failure of its own.
func (s *Service) loadWhole(ctx context.Context, id string) (*state, error) {
	now := s.cfg.Now()
	chain, err := s.ledger.Load(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		s.folds.remove(id)
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading custody chain of %s: %w", id, err)
	}
	if d := chain.Damage; d != nil && d.Seq == 0 {
		s.folds.remove(id)
		s.metrics.chainDamage.Inc()
		s.cfg.Logger.ErrorContext(ctx, "custody chain failed verification at its register event", "alert", true,
			"evidence_id", id, "digest", d.Digest, "reason", d.Reason)
		return nil, fmt.Errorf("loading custody chain of %s: %w: %w", id, d, ErrIntegrity)
	}
	st := fold(chain)
	s.replaced(ctx, chain)
	if st.damage != nil {
		s.folds.remove(id)
	} else {
		kept := *st
		kept.chain = nil // the records are not kept: the folded state is enough
		s.folds.put(&kept, now)
	}
	return st, nil
}

// replaced raises the alarm if the stored event at the place of the kept state's head
// is not the event this process verified there: a stored event was replaced after it
// was verified (the store is write-once).
func (s *Service) replaced(ctx context.Context, chain *ledger.Chain) {
	kept, _, ok := s.folds.get(chain.Records[0].Event.EvidenceID)
	if !ok {
		return
	}
	head := kept.tip.Head
	if seq := head.Event.Seq; seq < uint64(len(chain.Records)) && chain.Records[seq].Digest == head.Digest {
		return
	}
	if d := chain.Damage; d != nil && d.Seq <= head.Event.Seq {
		return // the damage itself raises the alarm
	}
	s.metrics.chainDamage.Inc()
	s.cfg.Logger.ErrorContext(ctx, "a custody event verified before is no longer stored as it was", "alert", true,
		"evidence_id", head.Event.EvidenceID, "seq", head.Event.Seq, "digest", head.Digest, "stored_events", len(chain.Records))
}

// audit logs a denial with the policies that decided it.
func (s *Service) audit(ctx context.Context, p Principal, a policy.Action, id string, d policy.Decision) {
	s.metrics.denials.WithLabelValues(string(a)).Inc()
	policies := d.Policies
	if len(policies) == 0 {
		policies = []string{"default-deny"}
	}
	s.cfg.Logger.WarnContext(ctx, "request denied", "audit", true, "principal", p, "action", string(a),
		"evidence_id", id, "visible", d.Visible, "policies", policies, "policy_errors", d.Errors)
}

// denialReason explains a denial to a caller who may know the evidence exists.
func denialReason(a policy.Action, d policy.Decision) string {
	if len(d.Policies) == 0 {
		return fmt.Sprintf("%s is not permitted: no policy allows it", a)
	}
	msg := fmt.Sprintf("%s is not permitted by policy %s", a, strings.Join(d.Policies, ", "))
	if len(d.Reasons) > 0 {
		msg += ": " + strings.Join(d.Reasons, "; ")
	}
	return msg
}

// record appends ev to the state's chain and returns the custody receipt. While the
// exhibit is under legal hold, the new custody record is held too.
func (s *Service) record(ctx context.Context, st *state, ev custody.Event) (api.CustodyReceipt, error) {
	rec, err := s.recordEvent(ctx, st, ev)
	if err != nil {
		return api.CustodyReceipt{}, err
	}
	return receipt(rec), nil
}

// recordEvent is record, returning the ledger's record: it names the exhibit and case
// on ev, records the intent in the catalog, appends the event after the state's tip,
// refreshes the exhibit's catalog rows from the state it leads to and, while the
// exhibit is under legal hold, holds the new custody record too. The kept state, if it
// ended where this change began, is extended by the event.
func (s *Service) recordEvent(ctx context.Context, st *state, ev custody.Event) (ledger.Record, error) {
	ev.EvidenceID, ev.CaseID = st.id(), st.register.CaseID
	prev := st.tip
	if err := s.intend(ctx, ev.EvidenceID, prev.Head.Event.Seq+1); err != nil {
		return ledger.Record{}, err
	}
	rec, err := s.ledger.Append(ctx, prev, "", ev)
	if err != nil {
		return ledger.Record{}, err
	}
	s.metrics.events.WithLabelValues(string(ev.Action)).Inc()
	// The chain now ends with rec: a further event of the same change follows it.
	next := st.extend([]ledger.Record{rec})
	st.tip = next.tip
	if st.chain != nil {
		c := *st.chain
		c.Records = append(c.Records[:len(c.Records):len(c.Records)], rec)
		st.chain = &c
		// A damaged chain's rows come from the whole chain, as HealCatalog folds it.
		s.refresh(ctx, ev.EvidenceID, st.chain)
	} else {
		s.refreshState(ctx, next)
	}
	if kept, checked, ok := s.folds.get(st.id()); ok && kept.tip.Head.Digest == prev.Head.Digest {
		s.folds.put(kept.extend([]ledger.Record{rec}), checked)
	}
	if st.held && ev.Action != custody.ActionLegalHoldRelease {
		s.holdNewRecord(ctx, st.id(), rec.Event.Seq)
	}
	return rec, nil
}

// appendEvent is the path of the custody events of a request and of a register event
// (chain nil for the first event, with its subject digest): it records the intent in
// the catalog, appends the event to the ledger, then refreshes the subject's catalog
// rows from the chain with the new event (catalog.go). If the intent cannot be
// recorded nothing is appended (ErrCatalogUnavailable): the catalog never misses an
// event silently. A failed refresh leaves the intent, which HealCatalog resolves. An
// exhibit's later events take recordEvent, the same steps from its folded state.
func (s *Service) appendEvent(ctx context.Context, chain *ledger.Chain, subject string, ev custody.Event) (ledger.Record, error) {
	var seq uint64
	var tip *ledger.Tip
	if chain != nil {
		seq, tip = chain.Head().Event.Seq+1, chain.Tip()
	}
	if err := s.intend(ctx, ev.EvidenceID, seq); err != nil {
		return ledger.Record{}, err
	}
	rec, err := s.ledger.Append(ctx, tip, subject, ev)
	if err != nil {
		return ledger.Record{}, err
	}
	s.metrics.events.WithLabelValues(string(ev.Action)).Inc()
	next := &ledger.Chain{Subject: subject, Damage: nil}
	if chain != nil {
		next = &ledger.Chain{Subject: chain.Subject, Damage: chain.Damage,
			Records: append(append([]ledger.Record(nil), chain.Records...), rec)}
	} else {
		next.Records = []ledger.Record{rec}
	}
	s.refresh(ctx, ev.EvidenceID, next)
	return rec, nil
}

// receipt is the API's view of a recorded event.
func receipt(rec ledger.Record) api.CustodyReceipt {
	cp := rec.Proof
	if i := strings.Index(cp, "\n\n"); i >= 0 {
		cp = cp[i+2:]
	}
	return api.CustodyReceipt{
		EvidenceID: rec.Event.EvidenceID, Seq: rec.Event.Seq, Action: string(rec.Event.Action), Digest: rec.Digest,
		Envelope: rec.Envelope, LogIndex: rec.LogIndex, Proof: rec.Proof, Checkpoint: cp,
	}
}

// withChain runs f under the exhibit's lock, running it again (with backoff) if another
// writer appended to the chain first: f must re-read the chain each time.
func (s *Service) withChain(ctx context.Context, id string, f func() error) error {
	unlock := s.locks.lock(id)
	defer unlock()
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := f()
		if err != nil && !errors.Is(err, ledger.ErrConflict) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(conflictBackOff()), backoff.WithMaxTries(chainRetries))
	return err
}

// change runs f like withChain and returns its result.
func change[T any](ctx context.Context, s *Service, id string, f func() (T, error)) (T, error) {
	var res T
	err := s.withChain(ctx, id, func() (err error) {
		res, err = f()
		return err
	})
	return res, err
}

// conflictBackOff spaces the retries of a change that lost a race: short, since the
// other writer has already finished.
func conflictBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = conflictRetryInterval, 20*conflictRetryInterval
	return b
}

// conflictRetryInterval is the first pause before re-running a change that lost a race.
const conflictRetryInterval = 5 * time.Millisecond

// keyedMutex serializes work per key (per exhibit) within this process. Across
// replicas, the write-once Records detect races (ledger.ErrConflict).
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
