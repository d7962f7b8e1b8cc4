package gateway

import (
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// evidenceState is what the custody chain of one exhibit says now. The gateway keeps no
// other state: it is recomputed from the stored chain on every request.
type evidenceState struct {
	chain    *ledger.Chain
	register custody.Event
	grants   []*grantState
	// held is set while the content is under legal hold.
	held bool
}

type grantState struct {
	custody.Grant
	Downloads int
	Accepted  bool
	Revoked   bool
}

// fold replays a chain into its state.
func fold(chain *ledger.Chain) *evidenceState {
	s := &evidenceState{chain: chain, register: chain.Records[0].Event}
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

func (s *evidenceState) grant(ref *custody.Grant) *grantState {
	if ref == nil {
		return nil
	}
	return s.grantByID(ref.ID)
}

func (s *evidenceState) grantByID(id string) *grantState {
	for _, g := range s.grants {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *evidenceState) owner() string { return s.register.Actor.Agency }

// policyEvidence is the view of the state that policies decide on.
func (s *evidenceState) policyEvidence() policy.Evidence {
	pe := policy.Evidence{ID: s.register.EvidenceID, Owner: s.owner(), Jurisdiction: s.register.Actor.Jurisdiction}
	for _, g := range s.grants {
		pe.Grants = append(pe.Grants, policy.Grant{
			ID: g.ID, To: g.To, ViewOnly: g.ViewOnly, Expires: g.Expires, MaxDownloads: g.MaxDownloads,
			Downloads: g.Downloads, Accepted: g.Accepted, Revoked: g.Revoked,
		})
	}
	return pe
}

// grantStatus names a grant's state at now.
func (g *grantState) status(now time.Time) string {
	switch {
	case g.Revoked:
		return "revoked"
	case !now.Before(g.Expires):
		return "expired"
	case g.MaxDownloads > 0 && g.Downloads >= g.MaxDownloads:
		return "exhausted"
	}
	return "active"
}
