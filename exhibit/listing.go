package exhibit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
)

// The listings read the catalog and filter every row through the same policies as a
// single read: an exhibit is listed when p may view it, a grant when p may view its
// exhibit (and sees that grant there), a request when p may view the request. The
// catalog's query returns candidates (what p's agency takes part in); rows the
// policies refuse are skipped, and a page is filled from further candidates. Nothing
// of a skipped row leaves: no count, and a cursor only ever names the last row
// returned.

// Page asks for one page of a listing.
type Page struct {
	// Cursor is the Next of the previous page, "" for the first.
	Cursor string
	// Limit is the page size, 1 to api.MaxPageSize; 0 means api.DefaultPageSize.
	Limit int
}

// maxCursor bounds an encoded cursor.
const maxCursor = 512

// cursor is the position after the last row of a page. Kind names the listing it
// belongs to, so that a cursor of one listing is refused by another.
type cursor struct {
	Kind string    `json:"k"`
	Time time.Time `json:"t"`
	ID   string    `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parsePage checks a page request and decodes its cursor for a listing of kind.
func parsePage(pg Page, kind string) (int, *cursor, error) {
	limit := pg.Limit
	switch {
	case limit == 0:
		limit = api.DefaultPageSize
	case limit < 0 || limit > api.MaxPageSize:
		return 0, nil, invalid("limit must be 1 to %d", api.MaxPageSize)
	}
	if pg.Cursor == "" {
		return limit, nil, nil
	}
	if len(pg.Cursor) > maxCursor {
		return 0, nil, invalid("cursor is longer than %d bytes", maxCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(pg.Cursor)
	var c cursor
	if err == nil {
		err = decodeStrictJSON(b, &c)
	}
	if err != nil || c.Kind != kind || c.ID == "" {
		return 0, nil, invalid("cursor is not one of this listing: pass the next value of its previous page")
	}
	return limit, &c, nil
}

func decodeStrictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// catalogReady returns the catalog, or ErrNoCatalog.
func (s *Service) catalogReady() (catalog.Catalog, error) {
	if s.cfg.Catalog == nil {
		return nil, ErrNoCatalog
	}
	return s.cfg.Catalog, nil
}

// batch is how many candidates a listing reads at a time: a little more than a page,
// since the policies may skip some.
func batch(limit int) int { return min(catalog.MaxLimit, limit+limit/4+8) }

// exhibitEvidence is the policies' view of a catalog row.
func exhibitEvidence(row catalog.ExhibitRow) policy.Evidence {
	pe := policy.Evidence{ID: row.EvidenceID, Owner: row.Owner, Jurisdiction: row.Jurisdiction}
	for _, g := range row.Grants {
		pe.Grants = append(pe.Grants, policy.Grant{ID: g.GrantID, To: g.To, ViewOnly: g.ViewOnly, Expires: g.Expires,
			MaxDownloads: g.MaxDownloads, Downloads: g.Downloads, Accepted: g.Accepted, Revoked: g.Revoked, Instrument: g.Instrument})
	}
	return pe
}

// mayView decides, as Show does, whether p may view the exhibit of a row.
func (s *Service) mayView(p Principal, row catalog.ExhibitRow, now time.Time) bool {
	return s.cfg.Policy.Decide(p.policy(), policy.ActionView, exhibitEvidence(row), now).Allow
}

// grantListing is the API's view of a grant row.
func grantListing(g catalog.Grant, now time.Time) api.GrantListing {
	gs := grantState{Grant: custody.Grant{ID: g.GrantID, To: g.To, LegalBasis: g.LegalBasis, Expires: g.Expires,
		MaxDownloads: g.MaxDownloads, ViewOnly: g.ViewOnly, Instrument: g.Instrument, RequestID: g.RequestID},
		Downloads: g.Downloads, Accepted: g.Accepted, Revoked: g.Revoked}
	return api.GrantListing{GrantView: gs.view(now), EvidenceID: g.EvidenceID, CaseID: g.CaseID, Owner: g.Owner, GrantedAt: g.GrantedAt}
}

// exhibitListing is the API's view of an exhibit row for p: the owner sees every
// grant, others their own.
func exhibitListing(p Principal, row catalog.ExhibitRow, now time.Time) api.ExhibitListing {
	e := row.Exhibit
	l := api.ExhibitListing{EvidenceID: e.EvidenceID, CaseID: e.CaseID, Description: e.Description, SHA256: e.SHA256,
		Size: e.Size, Owner: e.Owner, Jurisdiction: e.Jurisdiction, RegisteredAt: e.RegisteredAt, UpdatedAt: e.UpdatedAt,
		EventCount: e.Events, Held: e.Held, Damaged: e.Damaged, ExhibitNumber: e.ExhibitNumber, RetainUntil: e.RetainUntil,
		Disposed: !e.DisposedAt.IsZero(), DisposedAt: e.DisposedAt, Grants: []api.GrantListing{}}
	for _, g := range row.Grants {
		if p.Agency == e.Owner || g.To == p.Agency {
			l.Grants = append(l.Grants, grantListing(g, now))
		}
	}
	return l
}

// CaseExhibits lists the exhibits of a case that p may view, oldest first.
func (s *Service) CaseExhibits(ctx context.Context, p Principal, caseID string, pg Page) (api.ExhibitPage, error) {
	if !custody.ValidCaseID(caseID) {
		return api.ExhibitPage{}, invalid("invalid case id")
	}
	return s.listExhibits(ctx, p, catalog.ExhibitQuery{Agency: p.Agency, CaseID: caseID}, pg, "exhibits:"+caseID)
}

func (s *Service) listExhibits(ctx context.Context, p Principal, q catalog.ExhibitQuery, pg Page, kind string) (api.ExhibitPage, error) {
	cat, err := s.catalogReady()
	if err != nil {
		return api.ExhibitPage{}, err
	}
	limit, cur, err := parsePage(pg, kind)
	if err != nil {
		return api.ExhibitPage{}, err
	}
	if cur != nil {
		q.After = &catalog.ExhibitKey{RegisteredAt: cur.Time, EvidenceID: cur.ID}
	}
	now := s.cfg.Now()
	out := api.ExhibitPage{Exhibits: []api.ExhibitListing{}}
	q.Limit = batch(limit)
	for {
		rows, err := cat.Exhibits(ctx, q)
		if err != nil {
			return api.ExhibitPage{}, err
		}
		for _, row := range rows {
			if !s.mayView(p, row, now) {
				continue
			}
			if len(out.Exhibits) == limit {
				last := out.Exhibits[limit-1]
				out.Next = cursor{Kind: kind, Time: last.RegisteredAt, ID: last.EvidenceID}.encode()
				return out, nil
			}
			out.Exhibits = append(out.Exhibits, exhibitListing(p, row, now))
		}
		if len(rows) < q.Limit {
			return out, nil
		}
		last := rows[len(rows)-1]
		q.After = &catalog.ExhibitKey{RegisteredAt: last.RegisteredAt, EvidenceID: last.EvidenceID}
	}
}

// Case summarizes what p may see of a case: its exhibits p may view (counted, with
// their owners), and the requests p takes part in that name it. A case of which p may
// see nothing is ErrNotFound.
func (s *Service) Case(ctx context.Context, p Principal, caseID string) (api.CaseView, error) {
	cat, err := s.catalogReady()
	if err != nil {
		return api.CaseView{}, err
	}
	if !custody.ValidCaseID(caseID) {
		return api.CaseView{}, invalid("invalid case id")
	}
	v := api.CaseView{CaseID: caseID, Owners: []string{}}
	now := s.cfg.Now()
	q := catalog.ExhibitQuery{Agency: p.Agency, CaseID: caseID, Limit: catalog.MaxLimit}
	for {
		rows, err := cat.Exhibits(ctx, q)
		if err != nil {
			return api.CaseView{}, err
		}
		for _, row := range rows {
			if !s.mayView(p, row, now) {
				continue
			}
			v.Exhibits++
			if !slices.Contains(v.Owners, row.Owner) {
				v.Owners = append(v.Owners, row.Owner)
			}
			if v.FirstRegisteredAt.IsZero() {
				v.FirstRegisteredAt = row.RegisteredAt
			}
			if row.UpdatedAt.After(v.LastActivityAt) {
				v.LastActivityAt = row.UpdatedAt
			}
		}
		if len(rows) < q.Limit {
			break
		}
		last := rows[len(rows)-1]
		q.After = &catalog.ExhibitKey{RegisteredAt: last.RegisteredAt, EvidenceID: last.EvidenceID}
	}
	reqs, err := s.listRequests(ctx, p, catalog.RequestQuery{Agency: p.Agency, CaseID: caseID}, Page{Limit: api.MaxPageSize}, "case-requests")
	if err != nil {
		return api.CaseView{}, err
	}
	v.Requests = len(reqs.Requests)
	for _, r := range reqs.Requests {
		if r.UpdatedAt.After(v.LastActivityAt) {
			v.LastActivityAt = r.UpdatedAt
		}
	}
	if v.Exhibits == 0 && v.Requests == 0 {
		return api.CaseView{}, ErrCaseNotFound
	}
	slices.Sort(v.Owners)
	return v, nil
}

// Cases lists, by id, the cases that hold an exhibit p may view.
func (s *Service) Cases(ctx context.Context, p Principal, pg Page) (api.CasePage, error) {
	cat, err := s.catalogReady()
	if err != nil {
		return api.CasePage{}, err
	}
	limit, cur, err := parsePage(pg, "cases")
	if err != nil {
		return api.CasePage{}, err
	}
	q := catalog.CaseQuery{Agency: p.Agency, Limit: batch(limit)}
	if cur != nil {
		q.After = cur.ID
	}
	out := api.CasePage{Cases: []string{}}
	for {
		ids, err := cat.Cases(ctx, q)
		if err != nil {
			return api.CasePage{}, err
		}
		for _, id := range ids {
			ok, err := s.anyVisible(ctx, p, id)
			if err != nil {
				return api.CasePage{}, err
			}
			if !ok {
				continue
			}
			if len(out.Cases) == limit {
				out.Next = cursor{Kind: "cases", ID: out.Cases[limit-1]}.encode()
				return out, nil
			}
			out.Cases = append(out.Cases, id)
		}
		if len(ids) < q.Limit {
			return out, nil
		}
		q.After = ids[len(ids)-1]
	}
}

// anyVisible reports whether p may view an exhibit of the case.
func (s *Service) anyVisible(ctx context.Context, p Principal, caseID string) (bool, error) {
	page, err := s.listExhibits(ctx, p, catalog.ExhibitQuery{Agency: p.Agency, CaseID: caseID}, Page{Limit: 1}, "any")
	return len(page.Exhibits) > 0, err
}

// RequestFilter selects requests in a listing.
type RequestFilter struct {
	// Box is "inbox" (addressed to p's agency), "outbox" (from it) or "" (both).
	Box          string
	Counterparty string
	States       []string
	Open         bool
	CaseID       string
	Instrument   string
	// DueBefore and DueAfter bound the deadline, if set.
	DueBefore, DueAfter time.Time
}

var requestStates = []string{api.RequestOpen, api.RequestAcknowledged, api.RequestFulfilled, api.RequestPartiallyFulfilled,
	api.RequestRefused, api.RequestWithdrawn}

// Requests lists the requests p may view, most urgent deadline first.
func (s *Service) Requests(ctx context.Context, p Principal, f RequestFilter, pg Page) (api.RequestPage, error) {
	q := catalog.RequestQuery{Agency: p.Agency, States: f.States, Open: f.Open, CaseID: f.CaseID, Instrument: f.Instrument,
		DeadlineBefore: f.DueBefore, DeadlineAfter: f.DueAfter}
	switch f.Box {
	case "inbox":
		q.To, q.From = p.Agency, f.Counterparty
	case "outbox":
		q.From, q.To = p.Agency, f.Counterparty
	case "":
		if f.Counterparty != "" {
			// Either party may be the counterparty; the other is p's agency.
			return s.requestsWith(ctx, p, q, f.Counterparty, pg)
		}
	default:
		return api.RequestPage{}, invalid("box must be inbox or outbox")
	}
	for _, st := range f.States {
		if !slices.Contains(requestStates, st) {
			return api.RequestPage{}, invalid("unknown state %q: want one of %v", st, requestStates)
		}
	}
	if f.CaseID != "" && !custody.ValidCaseID(f.CaseID) {
		return api.RequestPage{}, invalid("invalid case id")
	}
	return s.listRequests(ctx, p, q, pg, "requests")
}

// requestsWith lists the requests between p's agency and another, in either direction.
func (s *Service) requestsWith(ctx context.Context, p Principal, q catalog.RequestQuery, other string, pg Page) (api.RequestPage, error) {
	if other == p.Agency {
		return api.RequestPage{Requests: []api.RequestView{}}, nil
	}
	// The catalog's candidates are requests from or to p; restrict them to those
	// whose other party is other by filtering the page's rows.
	return s.listRequestsWhere(ctx, p, q, pg, "requests-with:"+other, func(r catalog.Request) bool {
		return r.From == other || r.To == other
	})
}

func (s *Service) listRequests(ctx context.Context, p Principal, q catalog.RequestQuery, pg Page, kind string) (api.RequestPage, error) {
	return s.listRequestsWhere(ctx, p, q, pg, kind, nil)
}

func (s *Service) listRequestsWhere(ctx context.Context, p Principal, q catalog.RequestQuery, pg Page, kind string,
	keep func(catalog.Request) bool) (api.RequestPage, error) {
	cat, err := s.catalogReady()
	if err != nil {
		return api.RequestPage{}, err
	}
	limit, cur, err := parsePage(pg, kind)
	if err != nil {
		return api.RequestPage{}, err
	}
	if cur != nil {
		q.After = &catalog.RequestKey{Deadline: cur.Time, RequestID: cur.ID}
	}
	now := s.cfg.Now()
	out := api.RequestPage{Requests: []api.RequestView{}}
	q.Limit = batch(limit)
	for {
		rows, err := cat.Requests(ctx, q)
		if err != nil {
			return api.RequestPage{}, err
		}
		for i := range rows {
			r := &rows[i]
			if keep != nil && !keep(*r) {
				continue
			}
			pr := policy.Request{ID: r.RequestID, From: r.From, To: r.To, Instrument: r.Instrument, Emergency: r.Emergency,
				Deadline: r.Deadline, State: r.State}
			if !s.cfg.Policy.DecideRequest(p.policy(), policy.ActionViewRequest, pr, now).Allow {
				continue
			}
			if len(out.Requests) == limit {
				last := out.Requests[limit-1]
				out.Next = cursor{Kind: kind, Time: last.Deadline, ID: last.RequestID}.encode()
				return out, nil
			}
			out.Requests = append(out.Requests, s.requestView(r, nil, now))
		}
		if len(rows) < q.Limit {
			return out, nil
		}
		last := rows[len(rows)-1]
		q.After = &catalog.RequestKey{Deadline: last.Deadline, RequestID: last.RequestID}
	}
}

// GrantFilter selects grants in a listing.
type GrantFilter struct {
	// Box is "inbox" (grants to p's agency), "outbox" (grants of its exhibits) or ""
	// (both).
	Box string
	// Counterparty is the other agency: the owner in the inbox, the grantee in the
	// outbox.
	Counterparty string
	// State is "" (any), "active" (neither revoked nor expired, of an exhibit not
	// disposed of), "awaiting" (active, not accepted) or "accepted" (active,
	// accepted).
	State      string
	CaseID     string
	Instrument string
	RequestID  string
}

// Grants lists the grants p may see, by expiry: a grant is listed when p may view its
// exhibit and sees that grant there (the owner every grant, a partner its own).
func (s *Service) Grants(ctx context.Context, p Principal, f GrantFilter, pg Page) (api.GrantPage, error) {
	q := catalog.GrantQuery{Agency: p.Agency, CaseID: f.CaseID, Instrument: f.Instrument, RequestID: f.RequestID, Now: s.cfg.Now()}
	switch f.Box {
	case "inbox":
		q.To, q.Owner = p.Agency, f.Counterparty
	case "outbox":
		q.Owner, q.To = p.Agency, f.Counterparty
	case "":
		if f.Counterparty != "" {
			return api.GrantPage{}, invalid("counterparty needs box inbox or outbox")
		}
	default:
		return api.GrantPage{}, invalid("box must be inbox or outbox")
	}
	switch f.State {
	case "":
	case "active":
		q.Open = true
	case "awaiting":
		q.Open, q.Unaccepted = true, true
	case "accepted":
		q.Open = true
	default:
		return api.GrantPage{}, invalid("state must be active, awaiting or accepted")
	}
	if f.CaseID != "" && !custody.ValidCaseID(f.CaseID) {
		return api.GrantPage{}, invalid("invalid case id")
	}
	if f.RequestID != "" && !custody.ValidRequestID(f.RequestID) {
		return api.GrantPage{}, invalid("invalid request id")
	}
	var keep func(catalog.Grant) bool
	if f.State == "accepted" {
		keep = func(g catalog.Grant) bool { return g.Accepted }
	}
	return s.listGrants(ctx, p, q, pg, "grants:"+f.Box+":"+f.State, keep)
}

func (s *Service) listGrants(ctx context.Context, p Principal, q catalog.GrantQuery, pg Page, kind string,
	keep func(catalog.Grant) bool) (api.GrantPage, error) {
	cat, err := s.catalogReady()
	if err != nil {
		return api.GrantPage{}, err
	}
	limit, cur, err := parsePage(pg, kind)
	if err != nil {
		return api.GrantPage{}, err
	}
	if cur != nil {
		q.After = &catalog.GrantKey{Expires: cur.Time, GrantID: cur.ID}
	}
	now := q.Now
	out := api.GrantPage{Grants: []api.GrantListing{}}
	q.Limit = batch(limit)
	for {
		gs, err := cat.Grants(ctx, q)
		if err != nil {
			return api.GrantPage{}, err
		}
		visible, err := s.viewableExhibits(ctx, cat, p, gs, now)
		if err != nil {
			return api.GrantPage{}, err
		}
		for _, g := range gs {
			e := visible[g.EvidenceID]
			if e == nil || (p.Agency != g.Owner && g.To != p.Agency) || (keep != nil && !keep(g)) {
				continue
			}
			if q.Open && !e.DisposedAt.IsZero() {
				continue // nothing is accepted or downloaded under it any more: not open
			}
			if len(out.Grants) == limit {
				last := out.Grants[limit-1]
				out.Next = cursor{Kind: kind, Time: last.Expires, ID: last.GrantID}.encode()
				return out, nil
			}
			out.Grants = append(out.Grants, grantListing(g, now))
		}
		if len(gs) < q.Limit {
			return out, nil
		}
		last := gs[len(gs)-1]
		q.After = &catalog.GrantKey{Expires: last.Expires, GrantID: last.GrantID}
	}
}

// viewableExhibits returns the rows of the exhibits of the grants that p may view, by
// evidence id.
func (s *Service) viewableExhibits(ctx context.Context, cat catalog.Reader, p Principal, gs []catalog.Grant, now time.Time) (map[string]*catalog.Exhibit, error) {
	var ids []string
	for _, g := range gs {
		if !slices.Contains(ids, g.EvidenceID) {
			ids = append(ids, g.EvidenceID)
		}
	}
	visible := map[string]*catalog.Exhibit{}
	if len(ids) == 0 {
		return visible, nil
	}
	rows, err := cat.Exhibits(ctx, catalog.ExhibitQuery{Agency: p.Agency, IDs: ids, Limit: catalog.MaxLimit})
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if s.mayView(p, row, now) {
			visible[row.EvidenceID] = &row.Exhibit
		}
	}
	return visible, nil
}

// inboxSize is the page size of each part of the inbox.
const inboxSize = 20

// Inbox returns what awaits p's agency: the open requests addressed to it, the grants
// to it awaiting acceptance, its active accepted grants, and the deadlines of every
// open request it takes part in. Each part is a first page: its Next continues it in
// GET /v1/requests or /v1/grants with the same filter (docs/api.md).
func (s *Service) Inbox(ctx context.Context, p Principal, limit int) (api.Inbox, error) {
	if limit == 0 {
		limit = inboxSize
	}
	pg := Page{Limit: limit}
	in := api.Inbox{Agency: p.Agency}
	var err error
	if in.Requests, err = s.Requests(ctx, p, RequestFilter{Box: "inbox", Open: true}, pg); err != nil {
		return api.Inbox{}, err
	}
	if in.AwaitingAcceptance, err = s.Grants(ctx, p, GrantFilter{Box: "inbox", State: "awaiting"}, pg); err != nil {
		return api.Inbox{}, err
	}
	if in.ActiveGrants, err = s.Grants(ctx, p, GrantFilter{Box: "inbox", State: "accepted"}, pg); err != nil {
		return api.Inbox{}, err
	}
	if in.Deadlines, err = s.Requests(ctx, p, RequestFilter{Open: true}, pg); err != nil {
		return api.Inbox{}, err
	}
	return in, nil
}

// Instruments returns the legal instruments requests may rest on.
func (s *Service) Instruments() []api.InstrumentView {
	var out []api.InstrumentView
	for _, in := range s.cfg.Instruments.All() {
		out = append(out, api.InstrumentView{ID: in.ID, Name: in.Name, Law: in.Law, Kind: in.Kind,
			DeadlineSeconds: int64(in.Deadline / time.Second), EmergencyDeadlineSeconds: int64(in.EmergencyDeadline / time.Second),
			AllowsDownload: in.AllowsDownload, GrantDays: in.GrantDays})
	}
	return out
}
