package exhibit

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
)

// Share grants a partner agency access to an exhibit, as a share event.
func (s *Service) Share(ctx context.Context, p Principal, id string, req api.ShareRequest) (api.GrantResult, error) {
	now := s.cfg.Now()
	to, ok := s.agency(req.To)
	switch {
	case !ok:
		return api.GrantResult{}, invalid("unknown agency %q", req.To)
	case req.To == p.Agency:
		return api.GrantResult{}, invalid("an agency cannot share with itself")
	case !req.Expires.After(now):
		return api.GrantResult{}, invalid("expires must be in the future")
	case req.Expires.After(now.Add(maxGrantLifetime)):
		return api.GrantResult{}, invalid("expires is more than %d days away", int(maxGrantLifetime.Hours()/24))
	case req.MaxDownloads < 0:
		return api.GrantResult{}, invalid("max_downloads must not be negative")
	}
	if err := checkText("legal_basis", req.LegalBasis, maxLegalBasis, true); err != nil {
		return api.GrantResult{}, err
	}
	return s.share(ctx, p, id, shareSpec{to: to.ID, legalBasis: req.LegalBasis, expires: req.Expires.UTC(),
		maxDownloads: req.MaxDownloads, viewOnly: req.ViewOnly})
}

// shareSpec is a checked grant to make.
type shareSpec struct {
	to, legalBasis string
	expires        time.Time
	maxDownloads   int
	viewOnly       bool
	// instrument and requestID are set for a share in answer to a request.
	instrument, requestID string
}

// share records a share event of exhibit id under its lock.
func (s *Service) share(ctx context.Context, p Principal, id string, sp shareSpec) (api.GrantResult, error) {
	to, _ := s.agency(sp.to)
	return change(ctx, s, id, func() (api.GrantResult, error) {
		st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionShare, locked: true})
		if err != nil {
			return api.GrantResult{}, err
		}
		g := custody.Grant{ID: newGrantID(), To: to.ID, LegalBasis: sp.legalBasis, Expires: sp.expires,
			MaxDownloads: sp.maxDownloads, ViewOnly: sp.viewOnly, Instrument: sp.instrument, RequestID: sp.requestID}
		ev := custody.Event{Action: custody.ActionShare, Actor: p.party(),
			Counterparty: &custody.Party{Agency: to.ID, Jurisdiction: to.Jurisdiction}, LegalBasis: g.LegalBasis, Grant: &g,
			RequestID: sp.requestID}
		if ev.Act, err = s.checkShareAct(p, st, ev, sp); err != nil {
			return api.GrantResult{}, err
		}
		rc, err := s.record(ctx, st, ev)
		if err != nil {
			return api.GrantResult{}, err
		}
		return api.GrantResult{Grant: (&grantState{Grant: g}).view(s.cfg.Now()), Custody: rc}, nil
	})
}

// Revoke ends a grant, as a revoke event.
func (s *Service) Revoke(ctx context.Context, p Principal, id, grantID, reason string) (api.GrantResult, error) {
	if err := checkText("reason", reason, maxReason, false); err != nil {
		return api.GrantResult{}, err
	}
	if !custody.ValidGrantID(grantID) {
		return api.GrantResult{}, invalid("invalid grant id")
	}
	return change(ctx, s, id, func() (api.GrantResult, error) {
		st, _, err := s.authorized(ctx, id, p, access{action: policy.ActionRevoke, locked: true})
		if err != nil {
			return api.GrantResult{}, err
		}
		g := st.grantByID(grantID)
		if g == nil {
			return api.GrantResult{}, ErrGrantNotFound
		}
		if g.Revoked {
			return api.GrantResult{}, &ConflictError{Kind: ConflictAlreadyRevoked, Msg: "the grant is already revoked"}
		}
		to, _ := s.agency(g.To)
		ev := custody.Event{Action: custody.ActionRevoke, Actor: p.party(),
			Counterparty: &custody.Party{Agency: g.To, Jurisdiction: to.Jurisdiction}, LegalBasis: g.LegalBasis,
			Grant: &g.Grant, Detail: reason}
		if ev.Act, err = s.checkAct(p, st, ev, st.register.Exhibit.SHA256); err != nil {
			return api.GrantResult{}, err
		}
		rc, err := s.record(ctx, st, ev)
		if err != nil {
			return api.GrantResult{}, err
		}
		g.Revoked = true
		return api.GrantResult{Grant: g.view(s.cfg.Now()), Custody: rc}, nil
	})
}

// errGrantNotAcceptable names a grant the caller cannot accept.
var errGrantNotAcceptable = &ConflictError{Kind: ConflictGrantNotAcceptable,
	Msg: "that grant is not an active, unaccepted grant to your agency"}

// Accept records a partner's acceptance of a grant with its signed accept act (and the
// first release's signed receipt, if the request carries one).
func (s *Service) Accept(ctx context.Context, p Principal, id string, req api.AcceptRequest) (api.GrantResult, error) {
	if !custody.ValidGrantID(req.GrantID) {
		return api.GrantResult{}, invalid("invalid grant id")
	}
	return change(ctx, s, id, func() (api.GrantResult, error) {
		st, d, err := s.authorized(ctx, id, p, access{action: policy.ActionAccept, grant: req.GrantID, locked: true})
		if err != nil {
			return api.GrantResult{}, err
		}
		g := st.grantByID(req.GrantID)
		if g == nil || g.To != p.Agency || d.Grant == nil || d.Grant.ID != g.ID {
			return api.GrantResult{}, errGrantNotAcceptable
		}
		ev := custody.Event{Action: custody.ActionAccept, Actor: p.party(),
			Counterparty: st.ownerParty(), LegalBasis: g.LegalBasis, Grant: &g.Grant}
		if req.Receipt != nil {
			if ev.Receipt, err = checkReceipt(*req.Receipt, p, id, g.ID, st.register.Exhibit.SHA256, s.cfg.Now()); err != nil {
				return api.GrantResult{}, err
			}
		}
		if ev.Act, err = s.checkAct(p, st, ev, st.register.Exhibit.SHA256); err != nil {
			return api.GrantResult{}, err
		}
		rc, err := s.record(ctx, st, ev)
		if err != nil {
			return api.GrantResult{}, err
		}
		g.Accepted = true
		return api.GrantResult{Grant: g.view(s.cfg.Now()), Custody: rc}, nil
	})
}

// receiptSkew bounds how far a receipt's time may be from the gateway's clock: a
// receipt is signed just before it is sent, so an older one is a replay or a wrong
// clock, either of which the record must not carry.
const receiptSkew = 5 * time.Minute

// checkReceipt verifies that the partner signed, with its client certificate's key, a
// receipt for exactly this evidence, grant and content digest, just now.
func checkReceipt(sr api.SignedReceipt, p Principal, id, grantID, sha string, now time.Time) (*custody.Receipt, error) {
	if len(sr.Statement) == 0 || len(sr.Statement) > 4096 {
		return nil, invalid("receipt statement missing or too long")
	}
	var st api.ReceiptStatement
	dec := json.NewDecoder(bytes.NewReader(sr.Statement))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, invalid("malformed receipt statement: %v", err)
	}
	if st.Type != api.ReceiptStatementType || st.EvidenceID != id || st.GrantID != grantID || st.SHA256 != sha {
		return nil, invalid("the receipt statement does not name this evidence, grant and content digest")
	}
	if d := st.Time.Sub(now); d > receiptSkew || d < -receiptSkew {
		return nil, invalid("the receipt is dated %s, more than %v from the gateway's clock (%s): sign it now, with a clock that is right",
			st.Time.UTC().Format(time.RFC3339), receiptSkew, now.UTC().Format(time.RFC3339))
	}
	if p.Cert == nil {
		return nil, invalid("no client certificate to check the receipt against")
	}
	rc := &custody.Receipt{Statement: sr.Statement, Signature: sr.Signature, Certificate: p.Cert.Raw}
	if err := rc.Verify(); err != nil {
		return nil, invalid("the receipt signature does not verify with your client certificate's key")
	}
	return rc, nil
}

// checkShareAct checks the member's signed act of a share. A share made in answer to a
// request (sp.requestID set) is part of the answer, which the member asks for as a
// whole: it records the answer's act, which names the request, the exhibits it shares
// and the terms of their grants (custody.CheckActEvent).
func (s *Service) checkShareAct(p Principal, st *state, ev custody.Event, sp shareSpec) (*custody.SignedAct, error) {
	return s.checkAct(p, st, ev, st.register.Exhibit.SHA256)
}
