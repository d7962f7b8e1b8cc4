package exhibit

import (
	"fmt"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// state is what the custody chain of one exhibit says now. The gateway keeps no other
// state: it is folded from the stored chain, and a folded state is kept (folds.go) and
// extended by the events stored after it. A state is not changed once folded but for
// its tip, which record advances on the caller's own copy (load returns a copy):
// grants, transfers and the digest indexes are shared with the states folded after it.
type state struct {
	// tip is the chain's end, what the next event is appended to; first is its
	// register event's record.
	tip   *ledger.Tip
	first ledger.Record
	// chain is the whole chain, set only on a state folded from a whole chain just
	// loaded (a history, a damaged chain); nil on a state extended from the cache.
	chain    *ledger.Chain
	register custody.Event
	grants   []*grantState
	// transfers are the download transfers, in the order they started.
	transfers []*transferState
	// held is set while the exhibit is under legal hold.
	held bool
	// updated is the time of the last verified event folded.
	updated time.Time
	// disposal is the exhibit's dispose event, once it was disposed of.
	disposal *ledger.Record
	// damage is the first stored event that failed verification: the exhibit is
	// frozen, and only the events before it are folded. damageRecorded is set once a
	// signed integrity-failure event names it.
	damage         *ledger.Damage
	damageRecorded bool
	// acts maps the digest of every act the chain records to its event; received maps
	// every download acknowledged (ackKey) to the received event; downloads maps the
	// digest of every event a receipt may acknowledge to that event (its fields a
	// receipt needs only).
	acts      layered[uint64]
	received  layered[uint64]
	downloads layered[*ledger.Record]
}

type grantState struct {
	custody.Grant
	// GrantedAt is the time of the share event.
	GrantedAt time.Time
	// Downloads counts the downloads delivered: download events (of earlier
	// releases) and delivered transfers.
	Downloads int
	Accepted  bool
	Revoked   bool
	// transfers are the transfers under the grant.
	transfers []*transferState
}

// fold replays the verified events of a whole chain into its state. The chain must
// have a verified register event.
func fold(chain *ledger.Chain) *state {
	s := &state{tip: chain.Tip(), first: chain.Records[0], chain: chain, register: chain.Records[0].Event, damage: chain.Damage}
	verified := chain.Records
	if d := chain.Damage; d != nil {
		verified = chain.Records[:d.Seq]
		s.damageRecorded = damageRecorded(chain.Records[d.Seq+1:], d)
	}
	for i := range verified {
		s.apply(&verified[i])
	}
	return s
}

// extend returns the state after the verified records recs, which follow s's tip. s
// is left as it was: what extend changes, it copies first.
func (s *state) extend(recs []ledger.Record) *state {
	n := s.clone()
	for i := range recs {
		n.apply(&recs[i])
	}
	n.tip = s.tip.Next(recs[len(recs)-1])
	return n
}

// clone returns a copy of s that may be folded further without changing s: its grants
// and transfers are copied, its digest indexes share their frozen part. The whole chain
// is not carried over.
func (s *state) clone() *state {
	n := *s
	n.chain = nil
	n.acts, n.received, n.downloads = s.acts.clone(), s.received.clone(), s.downloads.clone()
	copied := make(map[*transferState]*transferState, len(s.transfers))
	n.transfers = make([]*transferState, len(s.transfers))
	for i, t := range s.transfers {
		c := *t
		copied[t], n.transfers[i] = &c, &c
	}
	n.grants = make([]*grantState, len(s.grants))
	for i, g := range s.grants {
		c := *g
		c.transfers = make([]*transferState, len(g.transfers))
		for j, t := range g.transfers {
			c.transfers[j] = copied[t]
		}
		n.grants[i] = &c
	}
	return &n
}

// apply folds one verified record into the state.
func (s *state) apply(rec *ledger.Record) {
	ev := rec.Event
	if d := actDigest(ev); d != "" {
		s.acts.set(d, ev.Seq)
	}
	if custody.Acknowledgeable(ev.Action) {
		s.downloads.set(rec.Digest, &ledger.Record{Digest: rec.Digest, Event: custody.Event{Seq: ev.Seq, Action: ev.Action,
			Actor: ev.Actor, Grant: ev.Grant, LegalBasis: ev.LegalBasis, Transfer: ev.Transfer}})
	}
	switch ev.Action {
	case custody.ActionReceived:
		if st, err := custody.ParseActStatement(mustPayload(ev.Act)); err == nil {
			if dl := s.recordByDigest(st.Predicate.Download); dl != nil {
				s.received.set(ackKey(dl), ev.Seq)
			}
		}
	case custody.ActionShare:
		if ev.Grant != nil {
			s.grants = append(s.grants, &grantState{Grant: *ev.Grant, GrantedAt: ev.Time})
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
	case custody.ActionDownloadStart, custody.ActionDownloadResume, custody.ActionDownloadProgress,
		custody.ActionDownloadDeliver, custody.ActionDownloadAbandon:
		s.foldTransfer(ev)
	case custody.ActionLegalHold:
		s.held = true
	case custody.ActionLegalHoldRelease:
		s.held = false
	case custody.ActionDispose:
		if s.disposal == nil {
			r := *rec
			s.disposal = &r
		}
	}
	s.updated = ev.Time
}

// eventCount is the number of stored events of the chain.
func (s *state) eventCount() int {
	if s.chain != nil {
		return len(s.chain.Records)
	}
	return s.tip.Len()
}

// damageRecorded reports whether one of recs, the records after the damaged one, is a
// signed integrity-failure event that names the damage.
func damageRecorded(recs []ledger.Record, d *ledger.Damage) bool {
	prefix := damagePrefix(d)
	for _, r := range recs {
		if r.Signed && r.Event.Action == custody.ActionIntegrityFailure && strings.HasPrefix(r.Event.Detail, prefix) {
			return true
		}
	}
	return false
}

// damagePrefix starts the detail of the integrity-failure event of a damage.
func damagePrefix(d *ledger.Damage) string {
	return fmt.Sprintf("stored custody event %d (digest %s) failed verification", d.Seq, d.Digest)
}

// mustPayload returns the statement bytes of an act, nil if it has none.
func mustPayload(a *custody.SignedAct) []byte {
	if a == nil {
		return nil
	}
	b, _ := a.Envelope.PayloadBytes()
	return b
}

// recordByDigest returns the verified event of the chain with the given event digest
// that a receipt may acknowledge (a download), nil if there is none. Only the fields a
// receipt needs are set.
func (s *state) recordByDigest(digest string) *ledger.Record {
	rec, _ := s.downloads.get(digest)
	return rec
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

// policyEvidence is the view of the state that policies decide on at now. The
// transfer named except (one the caller continues) is not counted among those under
// way: it holds its download already.
func (s *state) policyEvidence(now time.Time, except string) policy.Evidence {
	pe := policy.Evidence{ID: s.id(), Owner: s.owner(), Jurisdiction: s.jurisdiction()}
	for _, g := range s.grants {
		pe.Grants = append(pe.Grants, policy.Grant{
			ID: g.ID, To: g.To, ViewOnly: g.ViewOnly, Expires: g.Expires, MaxDownloads: g.MaxDownloads,
			Downloads: g.Downloads, Reserved: g.reserved(now, except), Accepted: g.Accepted, Revoked: g.Revoked, Instrument: g.Instrument,
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
		RegisteredAt: reg.Time, EventCount: s.eventCount(), Grants: []api.GrantView{},
		Damage: s.apiDamage(), Acquisition: reg.Exhibit.Acquisition, RetainUntil: reg.RetainUntil, LegalHold: s.held,
	}
	if d := s.disposal; d != nil {
		v.Disposal = &api.DisposalView{Seq: d.Event.Seq, Time: d.Event.Time, By: d.Event.Actor, Authority: d.Event.LegalBasis}
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
		Downloads: g.Downloads, DownloadsInProgress: g.reserved(now, ""), ViewOnly: g.ViewOnly, Accepted: g.Accepted,
		Revoked: g.Revoked, State: g.status(now),
		LegalBasisKind: legalBasisKind(g.Instrument), Instrument: g.Instrument, RequestID: g.RequestID,
	}
}

// legalBasisKind says whether a grant rests on a request's instrument or on free text.
func legalBasisKind(instrument string) string {
	if instrument != "" {
		return api.LegalBasisInstrument
	}
	return api.LegalBasisFreeText
}

// apiDamage is the API's view of the damage; nil if the chain verified.
func (s *state) apiDamage() *api.Damage {
	if s.damage == nil {
		return nil
	}
	return &api.Damage{Seq: s.damage.Seq, Digest: s.damage.Digest, Reason: s.damage.Reason}
}
