package exhibit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// A request for evidence under a legal instrument (docs/exchange.md) is a custody
// subject of its own: its chain starts with request-filed, carrying the request's
// facts, and records each step of the exchange (acknowledged, fulfilled with which
// exhibits and grants, partially fulfilled, refused, withdrawn, overdue). It is
// signed, logged and exported like an exhibit's chain.

// Request input bounds.
const (
	maxReference        = 256
	maxIssuingAuthority = 512
	maxSought           = 2048
	// maxRequestLifetime bounds how far in the future a deadline may be.
	maxRequestLifetime = 5 * 365 * 24 * time.Hour
	// maxShares bounds the exhibits one answer shares.
	maxShares = 64
)

// requestState is what a request's chain says now, folded from its verified events.
type requestState struct {
	chain  *ledger.Chain
	filed  custody.Event
	state  string
	reason string
	// overdue is set once a request-overdue event is recorded.
	overdue bool
	shares  []custody.AnswerShare
	damage  *ledger.Damage
	// acts holds the digests of the acts the chain records, with their events.
	acts map[string]uint64
}

// foldRequest replays the verified events of a request's chain. The chain must have a
// verified request-filed event.
func foldRequest(chain *ledger.Chain) *requestState {
	r := &requestState{chain: chain, filed: chain.Records[0].Event, state: catalog.RequestOpen, damage: chain.Damage,
		acts: map[string]uint64{}}
	verified := chain.Records
	if d := chain.Damage; d != nil {
		verified = chain.Records[:d.Seq]
	}
	for _, rec := range verified {
		if d := actDigest(rec.Event); d != "" {
			r.acts[d] = rec.Event.Seq
		}
	}
	for _, rec := range verified[1:] {
		ev := rec.Event
		switch ev.Action {
		case custody.ActionRequestAcknowledged:
			if r.state == catalog.RequestOpen {
				r.state = catalog.RequestAcknowledged
			}
		case custody.ActionRequestFulfilled, custody.ActionRequestPartiallyFulfilled:
			r.state = catalog.RequestFulfilled
			if ev.Action == custody.ActionRequestPartiallyFulfilled {
				r.state = catalog.RequestPartiallyFulfilled
			}
			if ev.Answer != nil {
				r.shares = append(r.shares, ev.Answer.Shares...)
			}
			r.reason = ev.Detail
		case custody.ActionRequestRefused:
			r.state, r.reason = catalog.RequestRefused, ev.Detail
		case custody.ActionRequestWithdrawn:
			r.state, r.reason = catalog.RequestWithdrawn, ev.Detail
		case custody.ActionRequestOverdue:
			r.overdue = true
		}
	}
	return r
}

func (r *requestState) id() string              { return r.filed.EvidenceID }
func (r *requestState) facts() *custody.Request { return r.filed.Request }

// digest is the request's subject digest, which the acts on it name.
func (r *requestState) digest() string { return r.filed.SubjectDigest() }

// closed reports whether the request takes no more answer.
func (r *requestState) closed() bool {
	switch r.state {
	case catalog.RequestFulfilled, catalog.RequestRefused, catalog.RequestWithdrawn:
		return true
	}
	return false
}

func (r *requestState) policy() policy.Request {
	f := r.facts()
	return policy.Request{ID: r.id(), From: f.From, To: f.To, Instrument: f.Instrument, Emergency: f.Emergency,
		Deadline: f.Deadline, State: r.state}
}

// row is the catalog row of the request.
func (r *requestState) row() *catalog.Request {
	f := r.facts()
	row := &catalog.Request{RequestID: r.id(), CaseID: r.filed.CaseID, From: f.From, To: f.To, Instrument: f.Instrument,
		Reference: f.Reference, IssuingAuthority: f.IssuingAuthority, Sought: f.Sought, Deadline: f.Deadline,
		Emergency: f.Emergency, State: r.state, Overdue: r.overdue, FiledAt: r.filed.Time, UpdatedAt: lastVerified(r.chain),
		Reason: r.reason, Events: len(r.chain.Records), Damaged: r.damage != nil}
	for _, sh := range r.shares {
		row.Shares = append(row.Shares, catalog.Share{EvidenceID: sh.EvidenceID, GrantID: sh.GrantID})
	}
	return row
}

// view renders the request for the API, with its subject digest.
func (r *requestState) view(s *Service) api.RequestView {
	v := s.requestView(r.row(), r.apiDamage(), s.cfg.Now())
	v.Digest = r.digest()
	return v
}

// requestView renders a catalog row of a request for the API.
func (s *Service) requestView(row *catalog.Request, damage *api.Damage, now time.Time) api.RequestView {
	v := api.RequestView{RequestID: row.RequestID, CaseID: row.CaseID, From: row.From, To: row.To, Instrument: row.Instrument,
		Reference: row.Reference, IssuingAuthority: row.IssuingAuthority, Sought: row.Sought, Deadline: row.Deadline,
		Emergency: row.Emergency, State: row.State, FiledAt: row.FiledAt, UpdatedAt: row.UpdatedAt, Reason: row.Reason,
		EventCount: row.Events, Shares: []api.RequestShare{}, Damage: damage}
	if in, ok := s.cfg.Instruments.Get(row.Instrument); ok {
		v.InstrumentName = in.Name
	}
	open := row.State == catalog.RequestOpen || row.State == catalog.RequestAcknowledged || row.State == catalog.RequestPartiallyFulfilled
	v.Overdue = row.Overdue || (open && !now.Before(row.Deadline))
	for _, sh := range row.Shares {
		v.Shares = append(v.Shares, api.RequestShare{EvidenceID: sh.EvidenceID, GrantID: sh.GrantID})
	}
	return v
}

func (r *requestState) apiDamage() *api.Damage {
	if r.damage == nil {
		return nil
	}
	return &api.Damage{Seq: r.damage.Seq, Digest: r.damage.Digest, Reason: r.damage.Reason}
}

func newRequestID() string { return newID("rq-", 16)[:3+26] }

// FileRequest files a request for evidence under a legal instrument, from p's agency
// to another, as the request-filed event of a new request chain.
func (s *Service) FileRequest(ctx context.Context, p Principal, req api.FileRequest) (api.RequestResult, error) {
	now := s.cfg.Now()
	facts, err := s.checkFiling(p, req, now)
	if err != nil {
		return api.RequestResult{}, err
	}
	id := newRequestID()
	pr := policy.Request{ID: id, From: p.Agency, To: facts.To, Instrument: facts.Instrument, Emergency: facts.Emergency,
		Deadline: facts.Deadline, State: catalog.RequestOpen}
	if d := s.cfg.Policy.DecideRequest(p.policy(), policy.ActionFileRequest, pr, now); !d.Allow {
		s.audit(ctx, p, policy.ActionFileRequest, id, d)
		return api.RequestResult{}, &DeniedError{Action: string(policy.ActionFileRequest), Policies: d.Policies,
			Reason: denialReason(policy.ActionFileRequest, d)}
	}
	tagKey := make([]byte, 32)
	rand.Read(tagKey)
	facts.TagKey = hex.EncodeToString(tagKey)
	to, _ := s.agency(facts.To)
	ev := custody.Event{EvidenceID: id, CaseID: req.CaseID, Action: custody.ActionRequestFiled, Actor: p.party(),
		Counterparty: &custody.Party{Agency: to.ID, Jurisdiction: to.Jurisdiction},
		LegalBasis:   legalBasis(facts.Instrument, facts.Reference), Request: facts}
	if ev.Act, err = s.checkRequestAct(p, nil, ev); err != nil {
		return api.RequestResult{}, err
	}
	if stmt, _ := actStatement(p); (stmt.Predicate.Request.Deadline == nil) != (req.Deadline == nil) {
		return api.RequestResult{}, actRefused("your act does not name this request: it names a deadline if and only if the request does")
	}
	rec, err := s.appendEvent(ctx, nil, ev.SubjectDigest(), ev)
	if err != nil {
		return api.RequestResult{}, fmt.Errorf("filing request %s: %w", id, err)
	}
	st := foldRequest(&ledger.Chain{Records: []ledger.Record{rec}})
	return api.RequestResult{Request: st.view(s), Custody: receipt(rec)}, nil
}

// legalBasis is the legal basis text of an event under a request's instrument.
func legalBasis(instrument, reference string) string { return instrument + " " + reference }

// checkFiling checks a filing and returns the request's facts, with its deadline.
func (s *Service) checkFiling(p Principal, req api.FileRequest, now time.Time) (*custody.Request, error) {
	in, ok := s.cfg.Instruments.Get(req.Instrument)
	switch {
	case !ok:
		return nil, invalid("unknown instrument %q: want one of %s", req.Instrument, strings.Join(s.cfg.Instruments.IDs(), ", "))
	case req.To == p.Agency:
		return nil, invalid("an agency cannot send a request to itself")
	case req.CaseID != "" && !custody.ValidCaseID(req.CaseID):
		return nil, invalid("case_id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if _, ok := s.agency(req.To); !ok {
		return nil, invalid("unknown agency %q", req.To)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"reference", req.Reference, maxReference}, {"issuing_authority", req.IssuingAuthority, maxIssuingAuthority}, {"sought", req.Sought, maxSought}} {
		if err := checkText(f.name, f.v, f.max, true); err != nil {
			return nil, err
		}
	}
	deadline := now.Add(in.Deadline)
	if req.Emergency && in.EmergencyDeadline > 0 {
		deadline = now.Add(in.EmergencyDeadline)
	}
	if req.Deadline != nil {
		deadline = *req.Deadline
		switch {
		case !deadline.After(now):
			return nil, invalid("the deadline %s is in the past", deadline.UTC().Format(time.RFC3339))
		case deadline.After(now.Add(maxRequestLifetime)):
			return nil, invalid("the deadline is more than %d days away", int(maxRequestLifetime.Hours()/24))
		}
	}
	return &custody.Request{Instrument: in.ID, Reference: req.Reference, IssuingAuthority: req.IssuingAuthority,
		Sought: req.Sought, From: p.Agency, To: req.To, Deadline: deadline.UTC().Truncate(time.Second), Emergency: req.Emergency}, nil
}

// loadRequest reads, verifies and folds a request's chain.
func (s *Service) loadRequest(ctx context.Context, id string) (*requestState, error) {
	chain, err := s.ledger.Load(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, ErrRequestNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading custody chain of %s: %w", id, err)
	}
	if d := chain.Damage; d != nil && d.Seq == 0 {
		s.metrics.chainDamage.Inc()
		s.cfg.Logger.ErrorContext(ctx, "request chain failed verification at its first event", "alert", true,
			"request_id", id, "digest", d.Digest, "reason", d.Reason)
		return nil, fmt.Errorf("loading custody chain of %s: %w: %w", id, d, ErrIntegrity)
	}
	return foldRequest(chain), nil
}

// authorizedRequest loads a request and asks the policy whether p may do a on it. A
// request p may not see is ErrRequestNotFound, like one that does not exist.
func (s *Service) authorizedRequest(ctx context.Context, id string, p Principal, a policy.Action) (*requestState, error) {
	if !custody.ValidRequestID(id) {
		return nil, invalid("invalid request id: want \"rq-\" followed by 26 letters a-z or digits 2-7")
	}
	r, err := s.loadRequest(ctx, id)
	if errors.Is(err, ErrRequestNotFound) {
		s.audit(ctx, p, a, id, policy.Decision{})
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	d := s.cfg.Policy.DecideRequest(p.policy(), a, r.policy(), s.cfg.Now())
	if !d.Visible {
		s.audit(ctx, p, a, id, d)
		return nil, ErrRequestNotFound
	}
	if !d.Allow {
		s.audit(ctx, p, a, id, d)
		return nil, &DeniedError{Action: string(a), Policies: d.Policies, Reason: denialReason(a, d)}
	}
	return r, nil
}

// ShowRequest returns a request p may see.
func (s *Service) ShowRequest(ctx context.Context, p Principal, id string) (api.RequestView, error) {
	r, err := s.authorizedRequest(ctx, id, p, policy.ActionViewRequest)
	if err != nil {
		return api.RequestView{}, err
	}
	return r.view(s), nil
}

// RequestHistory returns every custody event of a request p may see: a request is
// between its two parties only, so both see all of it.
func (s *Service) RequestHistory(ctx context.Context, p Principal, id string) (api.RequestHistory, error) {
	r, err := s.authorizedRequest(ctx, id, p, policy.ActionViewRequest)
	if err != nil {
		return api.RequestHistory{}, err
	}
	h := api.RequestHistory{RequestID: r.id(), Events: []api.HistoryEvent{}, Damage: r.apiDamage()}
	for _, rec := range r.chain.Records {
		h.Events = append(h.Events, historyEvent(rec))
	}
	return h, nil
}

// historyEvent is the API's view of one recorded event.
func historyEvent(rec ledger.Record) api.HistoryEvent {
	ev := rec.Event
	he := api.HistoryEvent{Seq: ev.Seq, Action: string(ev.Action), Time: ev.Time, Actor: ev.Actor,
		Counterparty: ev.Counterparty, LegalBasis: ev.LegalBasis, Grant: ev.Grant, Transfer: ev.Transfer, Detail: ev.Detail,
		RequestID: ev.RequestID, Answer: ev.Answer, Digest: rec.Digest, LogIndex: rec.LogIndex, Failure: rec.Failure}
	if len(rec.Envelope.Signatures) > 0 {
		he.KeyID = rec.Envelope.Signatures[0].KeyID
	}
	return he
}

// recordRequest appends ev to a request's chain.
func (s *Service) recordRequest(ctx context.Context, r *requestState, ev custody.Event) (ledger.Record, error) {
	ev.EvidenceID, ev.CaseID = r.id(), r.filed.CaseID
	if ev.LegalBasis == "" && ev.Action != custody.ActionBundleExport {
		ev.LegalBasis = legalBasis(r.facts().Instrument, r.facts().Reference)
	}
	return s.appendEvent(ctx, r.chain, "", ev)
}

// changeRequest runs a change of a request under its lock: authorize, check the
// state, record one event; it answers with the request after the event.
func (s *Service) changeRequest(ctx context.Context, p Principal, id string, a policy.Action,
	f func(r *requestState) (custody.Event, error)) (api.RequestResult, error) {
	return change(ctx, s, id, func() (api.RequestResult, error) {
		r, err := s.authorizedRequest(ctx, id, p, a)
		if err != nil {
			return api.RequestResult{}, err
		}
		if r.damage != nil {
			return api.RequestResult{}, &FrozenError{Seq: r.damage.Seq, Reason: r.damage.Reason}
		}
		ev, err := f(r)
		if err != nil {
			return api.RequestResult{}, err
		}
		ev.Actor = p.party()
		if ev.Act, err = s.checkRequestAct(p, r, ev); err != nil {
			return api.RequestResult{}, err
		}
		rec, err := s.recordRequest(ctx, r, ev)
		if err != nil {
			return api.RequestResult{}, err
		}
		r.chain = &ledger.Chain{Records: append(append([]ledger.Record(nil), r.chain.Records...), rec)}
		r = foldRequest(r.chain)
		return api.RequestResult{Request: r.view(s), Custody: receipt(rec)}, nil
	})
}

// errClosed refuses a change of a request that was answered or withdrawn.
func errClosed(r *requestState) error {
	return &ConflictError{Kind: ConflictRequestClosed, Msg: fmt.Sprintf("the request is already %s", r.state)}
}

// AcknowledgeRequest records that the addressee received the request.
func (s *Service) AcknowledgeRequest(ctx context.Context, p Principal, id, note string) (api.RequestResult, error) {
	if err := checkText("reason", note, maxReason, false); err != nil {
		return api.RequestResult{}, err
	}
	return s.changeRequest(ctx, p, id, policy.ActionAcknowledgeRequest, func(r *requestState) (custody.Event, error) {
		switch {
		case r.closed():
			return custody.Event{}, errClosed(r)
		case r.state != catalog.RequestOpen:
			return custody.Event{}, &ConflictError{Kind: ConflictRequestState, Msg: "the request is already acknowledged"}
		}
		return custody.Event{Action: custody.ActionRequestAcknowledged, Counterparty: s.party(r.facts().From), Detail: note}, nil
	})
}

// WithdrawRequest records that the requester withdrew its request.
func (s *Service) WithdrawRequest(ctx context.Context, p Principal, id, reason string) (api.RequestResult, error) {
	if err := checkText("reason", reason, maxReason, false); err != nil {
		return api.RequestResult{}, err
	}
	return s.changeRequest(ctx, p, id, policy.ActionWithdrawRequest, func(r *requestState) (custody.Event, error) {
		if r.closed() {
			return custody.Event{}, errClosed(r)
		}
		return custody.Event{Action: custody.ActionRequestWithdrawn, Counterparty: s.party(r.facts().To), Detail: reason}, nil
	})
}

// party names a configured agency as a counterparty.
func (s *Service) party(agency string) *custody.Party {
	a, _ := s.agency(agency)
	return &custody.Party{Agency: agency, Jurisdiction: a.Jurisdiction}
}

// RespondRequest answers a request as its addressee: it refuses it with a reason, or
// shares exhibits with the requester under the request's instrument (each share event
// cites the request, and its grant carries the instrument), then records the answer
// naming every exhibit and grant. Every exhibit is authorized before any is shared.
func (s *Service) RespondRequest(ctx context.Context, p Principal, id string, req api.RespondRequest) (api.RequestResult, error) {
	if err := s.checkResponse(req); err != nil {
		return api.RequestResult{}, err
	}
	if !custody.ValidRequestID(id) {
		return api.RequestResult{}, invalid("invalid request id: want \"rq-\" followed by 26 letters a-z or digits 2-7")
	}
	var grants []api.GrantResult
	res, err := s.changeRequest(ctx, p, id, policy.ActionRespondRequest, func(r *requestState) (custody.Event, error) {
		if r.closed() {
			return custody.Event{}, errClosed(r)
		}
		if req.Refuse {
			return custody.Event{Action: custody.ActionRequestRefused, Counterparty: s.party(r.facts().From), Detail: req.Reason}, nil
		}
		// The act names the answer as a whole: check it before any exhibit is shared.
		planned := &custody.Answer{}
		for _, ev := range req.Share {
			planned.Shares = append(planned.Shares, custody.AnswerShare{EvidenceID: ev})
		}
		if _, err := s.checkRequestAct(p, r, custody.Event{Action: answerAction(req), Actor: p.party(), Answer: planned, Detail: req.Reason}); err != nil {
			return custody.Event{}, err
		}
		if stmt, _ := actStatement(p); (stmt.Predicate.Answer.Expires == nil) != (req.Expires == nil) {
			return custody.Event{}, actRefused("your act does not name this request: it names an expiry of the grants if and only if the answer does")
		}
		var err error
		if grants, err = s.shareInAnswer(ctx, p, r, req); err != nil {
			return custody.Event{}, err
		}
		answer := &custody.Answer{}
		for i, g := range grants {
			answer.Shares = append(answer.Shares, custody.AnswerShare{EvidenceID: req.Share[i], GrantID: g.Grant.GrantID})
		}
		return custody.Event{Action: answerAction(req), Counterparty: s.party(r.facts().From), Answer: answer, Detail: req.Reason}, nil
	})
	res.Grants = grants
	return res, err
}

// answerAction is the action of an answer that shares exhibits.
func answerAction(req api.RespondRequest) custody.Action {
	if req.Partial {
		return custody.ActionRequestPartiallyFulfilled
	}
	return custody.ActionRequestFulfilled
}

// checkResponse checks an answer's shape before anything is read.
func (s *Service) checkResponse(req api.RespondRequest) error {
	switch {
	case req.Refuse && len(req.Share) > 0:
		return invalid("an answer either shares exhibits or refuses, not both")
	case !req.Refuse && len(req.Share) == 0:
		return invalid("an answer shares at least one exhibit, or refuses with a reason")
	case req.Refuse && req.Partial:
		return invalid("a refusal is not partial")
	case len(req.Share) > maxShares:
		return invalid("an answer shares at most %d exhibits", maxShares)
	case req.MaxDownloads < 0:
		return invalid("max_downloads must not be negative")
	}
	if err := checkText("reason", req.Reason, maxReason, req.Refuse); err != nil {
		return err
	}
	for i, ev := range req.Share {
		if !custody.ValidEvidenceID(ev) {
			return invalid("share[%d]: invalid evidence id: want \"ev-\" followed by 26 letters a-z or digits 2-7", i)
		}
		if slices.Contains(req.Share[:i], ev) {
			return invalid("share[%d]: %s is listed twice", i, ev)
		}
	}
	return nil
}

// shareInAnswer shares each exhibit of the answer with the requester, under the
// request's instrument. Every exhibit must be the caller's to share before any is.
func (s *Service) shareInAnswer(ctx context.Context, p Principal, r *requestState, req api.RespondRequest) ([]api.GrantResult, error) {
	now := s.cfg.Now()
	if _, ok := s.agency(r.facts().From); !ok {
		return nil, invalid("the requesting agency %q is no longer configured: answer by refusing", r.facts().From)
	}
	in, ok := s.cfg.Instruments.Get(r.facts().Instrument)
	if !ok {
		return nil, invalid("the request's instrument %q is no longer in the instrument table: answer by refusing, or share with a free-text legal basis", r.facts().Instrument)
	}
	expires := now.Add(time.Duration(in.GrantDays) * 24 * time.Hour)
	if req.Expires != nil {
		expires = req.Expires.UTC()
		if !expires.After(now) || expires.After(now.Add(maxGrantLifetime)) {
			return nil, invalid("expires must be in the future, at most %d days away", int(maxGrantLifetime.Hours()/24))
		}
	}
	for _, ev := range req.Share {
		if _, _, err := s.authorized(ctx, ev, p, access{action: policy.ActionShare}); err != nil {
			return nil, fmt.Errorf("%s: %w", ev, err)
		}
	}
	share := shareSpec{to: r.facts().From, legalBasis: legalBasis(in.ID, r.facts().Reference), expires: expires,
		maxDownloads: req.MaxDownloads, viewOnly: req.ViewOnly, instrument: in.ID, requestID: r.id()}
	var out []api.GrantResult
	for _, ev := range req.Share {
		g, err := s.share(ctx, p, ev, share)
		if err != nil {
			return nil, fmt.Errorf("sharing %s in answer to %s: %w", ev, r.id(), err)
		}
		out = append(out, g)
	}
	return out, nil
}

// DueRequests records a request-overdue event on every request still open past its
// deadline, once. Run by the gateway every minute; it returns how many it marked.
func (s *Service) DueRequests(ctx context.Context) (int, error) {
	if s.cfg.Catalog == nil {
		return 0, nil
	}
	ids, err := s.cfg.Catalog.Overdue(ctx, s.cfg.Now(), catalog.MaxLimit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.withChain(ctx, id, func() error {
			r, err := s.loadRequest(ctx, id)
			if err != nil || r.closed() || r.overdue || r.damage != nil || s.cfg.Now().Before(r.facts().Deadline) {
				return err
			}
			_, err = s.recordRequest(ctx, r, custody.Event{Action: custody.ActionRequestOverdue, Actor: deadlineWatch,
				Counterparty: s.party(r.facts().To),
				Detail:       fmt.Sprintf("the deadline %s passed with the request %s", r.facts().Deadline.Format(time.RFC3339), r.state)})
			if err == nil {
				n++
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("marking %s overdue: %w", id, err)
		}
	}
	return n, nil
}

// deadlineWatch is the actor of request-overdue events: the gateway itself.
var deadlineWatch = custody.Party{Agency: "evidencegw", Person: "deadline-watch", Role: "system"}

// RequestBundle records a bundle-export event on a request's chain and returns its
// court bundle, verified offline like an exhibit's (docs/bundle.md, "Requests").
func (s *Service) RequestBundle(ctx context.Context, p Principal, id string) ([]byte, api.CustodyReceipt, error) {
	var out []byte
	rc, err := change(ctx, s, id, func() (api.CustodyReceipt, error) {
		r, err := s.authorizedRequest(ctx, id, p, policy.ActionBundleRequest)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		rec, err := s.recordRequest(ctx, r, custody.Event{Action: custody.ActionBundleExport, Actor: p.party()})
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		chain, err := s.ledger.Load(ctx, id)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		b, err := s.ledger.Bundle(ctx, chain)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		out, err = b.Marshal()
		return receipt(rec), err
	})
	if err != nil {
		return nil, api.CustodyReceipt{}, err
	}
	return out, rc, nil
}
