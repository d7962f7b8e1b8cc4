package exhibit

import (
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// state is what the custody chain of one exhibit says now. The gateway keeps no other
// state: it is folded from the stored chain.
type state struct {
	chain    *ledger.Chain
	register custody.Event
	grants   []*grantState
	// held is set while the exhibit is under legal hold.
	held bool
}

type grantState struct {
	custody.Grant
	Downloads int
	Accepted  bool
	Revoked   bool
}

// fold replays a chain into its state.
func fold(chain *ledger.Chain) *state {
	s := &state{chain: chain, register: chain.Records[0].Event}
	for _, rec := range chain.Records[1:] {
		ev := rec.Event
		switch ev.Action {
		case custody.ActionShare:
			if ev.Grant != nil {
				s.grants = append(s.grants, &grantState{Grant: *ev.Grant})
			}
		case custody.ActionAccept:
			if g := s.grant(ev.Grant); g != nil {
				g.Accepted = true
			}
		case custody.ActionRevoke:
			if g := s.grant(ev.Grant); g != nil {
				g.Revoked = true
			}
		case custody.ActionDownload:
			if g := s.grant(ev.Grant); g != nil {
				g.Downloads++
			}
		case custody.ActionLegalHold:
			s.held = true
		case custody.ActionLegalHoldRelease:
			s.held = false
		}
	}
	return s
}

func (s *state) grant(ref *custody.Grant) *grantState {
	if ref == nil {
		return nil
	}
	return s.grantByID(ref.ID)
}

func (s *state) grantByID(id string) *grantState {
	for _, g := range s.grants {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *state) id() string           { return s.register.EvidenceID }
func (s *state) owner() string        { return s.register.Actor.Agency }
func (s *state) jurisdiction() string { return s.register.Actor.Jurisdiction }

func (s *state) ownerParty() *custody.Party {
	return &custody.Party{Agency: s.owner(), Jurisdiction: s.jurisdiction()}
}

// policyEvidence is the view of the state that policies decide on.
func (s *state) policyEvidence() policy.Evidence {
	pe := policy.Evidence{ID: s.id(), Owner: s.owner(), Jurisdiction: s.jurisdiction()}
	for _, g := range s.grants {
		pe.Grants = append(pe.Grants, policy.Grant{
			ID: g.ID, To: g.To, ViewOnly: g.ViewOnly, Expires: g.Expires, MaxDownloads: g.MaxDownloads,
			Downloads: g.Downloads, Accepted: g.Accepted, Revoked: g.Revoked,
		})
	}
	return pe
}

// status names a grant's state at now.
func (g *grantState) status(now time.Time) string {
	switch {
	case g.Revoked:
		return api.GrantRevoked
	case !now.Before(g.Expires):
		return api.GrantExpired
	case g.MaxDownloads > 0 && g.Downloads >= g.MaxDownloads:
		return api.GrantExhausted
	}
	return api.GrantActive
}

// view renders the state for p: the owner sees every grant, others only their own.
func (s *state) view(p Principal, now time.Time) api.EvidenceView {
	reg := s.register
	v := api.EvidenceView{
		EvidenceID: reg.EvidenceID, CaseID: reg.CaseID, Description: reg.Exhibit.Description,
		SHA256: reg.Exhibit.SHA256, Size: reg.Exhibit.Size, Owner: s.owner(), Jurisdiction: s.jurisdiction(),
		RegisteredAt: reg.Time, EventCount: len(s.chain.Records), Grants: []api.GrantView{},
	}
	for _, g := range s.grants {
		if p.Agency == s.owner() || g.To == p.Agency {
			v.Grants = append(v.Grants, g.view(now))
		}
	}
	return v
}

func (g *grantState) view(now time.Time) api.GrantView {
	return api.GrantView{
		GrantID: g.ID, To: g.To, LegalBasis: g.LegalBasis, Expires: g.Expires, MaxDownloads: g.MaxDownloads,
		Downloads: g.Downloads, ViewOnly: g.ViewOnly, Accepted: g.Accepted, Revoked: g.Revoked, State: g.status(now),
	}
}
