package exhibit

import (
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// Download transfers (docs/api.md, "Resumable downloads"; docs/bundle.md, "Download
// transfers"). A transfer is one download of an exhibit's content by one member, in one
// or more requests (a resumed download continues its transfer). It is counted against
// its grant's limit when it is delivered, and holds one of the grant's downloads (a
// reservation) from the request that starts it until it is delivered or abandoned, or
// until its reservation lapses: a gateway that dies mid-transfer records nothing more,
// and the lease ends the reservation it held. Everything is in the custody chain: the
// gateway keeps no transfer state of its own, so any replica continues any transfer.

// Transfer timing.
const (
	// defaultTransferLease is how long a reservation holds after the request that
	// opened or last renewed it. A request still sending renews it once half of it is
	// gone (a download-progress event), so only a transfer nobody serves any more
	// (its gateway died, or its client went quiet after a partial range) loses it.
	// It is the longest a gateway crash can keep a download of a grant from others;
	// the client whose transfer it was resumes it at once.
	defaultTransferLease = 30 * time.Minute
	// renewRetry spaces the attempts to renew a reservation that failed to renew
	// (the log or store briefly unavailable) until it lapses.
	renewRetry = 30 * time.Second
)

// transferState is what the chain says of one transfer.
type transferState struct {
	id string
	// grant is the grant it runs under, "" for the owner's own downloads.
	grant          string
	agency, person string
	// request is the seq of the start or resume event of its latest request; open
	// is set while that request has not ended.
	request uint64
	open    bool
	lease   time.Time
	// delivered is set once a request sent the content's last byte.
	delivered bool
}

// holds reports whether t holds a download of its grant at now.
func (t *transferState) holds(now time.Time) bool {
	return t.open && !t.delivered && now.Before(t.lease)
}

// ownedBy reports whether p is the member who started t.
func (t *transferState) ownedBy(p Principal) bool {
	return t.agency == p.Agency && t.person == p.Person
}

// foldTransfer applies one download-* event to the state.
func (s *state) foldTransfer(ev custody.Event) {
	tr := ev.Transfer
	t := s.transfer(tr.ID)
	switch ev.Action {
	case custody.ActionDownloadStart, custody.ActionDownloadResume:
		if t == nil {
			t = &transferState{id: tr.ID, agency: ev.Actor.Agency, person: ev.Actor.Person}
			if ev.Grant != nil {
				t.grant = ev.Grant.ID
			}
			s.transfers = append(s.transfers, t)
			if g := s.grantByID(t.grant); g != nil {
				g.transfers = append(g.transfers, t)
			}
		}
		t.request, t.open, t.lease = ev.Seq, true, tr.LeaseUntil
	case custody.ActionDownloadProgress:
		if t != nil && t.open && tr.Request == t.request {
			t.lease = tr.LeaseUntil
		}
	case custody.ActionDownloadDeliver:
		if t == nil {
			return
		}
		if !t.delivered {
			t.delivered = true
			if g := s.grantByID(t.grant); g != nil {
				g.Downloads++
			}
		}
		if tr.Request == t.request {
			t.open = false
		}
	case custody.ActionDownloadAbandon:
		if t != nil && (tr.Request == t.request || tr.Request == 0) {
			t.open = false
		}
	}
}

func (s *state) transfer(id string) *transferState {
	for _, t := range s.transfers {
		if t.id == id {
			return t
		}
	}
	return nil
}

// reserved counts the transfers under g that hold one of its downloads at now, but
// the one named except (a request continuing its own transfer).
func (g *grantState) reserved(now time.Time, except string) int {
	n := 0
	for _, t := range g.transfers {
		if t.id != except && t.holds(now) {
			n++
		}
	}
	return n
}

// lapsed returns the transfers whose reservation expired while a request was open:
// their gateway stopped serving them without recording an end.
func (s *state) lapsed(now time.Time) []*transferState {
	var out []*transferState
	for _, t := range s.transfers {
		if t.open && !t.delivered && !now.Before(t.lease) {
			out = append(out, t)
		}
	}
	return out
}

// newTransferID returns a fresh random transfer id (128 bits).
func newTransferID() string { return newID("tr-", 16)[:3+26] }

// ownTransfer returns id if it names a transfer p started, "" otherwise.
func (s *state) ownTransfer(id string, p Principal) string {
	if t := s.transfer(id); t != nil && t.ownedBy(p) {
		return id
	}
	return ""
}
