package sqlcatalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/catalog"
)

// where collects the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// equal adds "col = v" when v is set.
func (w *where) equal(col, v string) {
	if v != "" {
		w.add(col+" = ?", v)
	}
}

// in adds "col IN (?, ?...)" for a non-empty set.
func (w *where) in(col string, vals []string) {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	w.add(col+" IN ("+marks+")", args...)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

const exhibitCols = `e.evidence_id, e.case_id, e.owner, e.jurisdiction, e.description, e.sha256, e.size,
	e.registered_at, e.events, e.updated_at, e.held, e.damaged, e.exhibit_number, e.retain_until, e.disposed_at`

const grantCols = `g.grant_id, g.evidence_id, g.case_id, g.owner, g.grantee, g.legal_basis, g.instrument, g.request_id,
	g.granted_at, g.expires, g.max_downloads, g.downloads, g.view_only, g.accepted, g.revoked`

const requestCols = `r.request_id, r.case_id, r.requester, r.addressee, r.instrument, r.reference, r.issuing_authority,
	r.sought, r.deadline, r.emergency, r.state, r.overdue, r.filed_at, r.updated_at, r.reason, r.events, r.damaged`

// candidateExhibit is the condition that the agency (the first argument) owns the
// exhibit e or holds a grant of it.
const candidateExhibit = `(e.owner = ? OR EXISTS (SELECT 1 FROM grants cg WHERE cg.evidence_id = e.evidence_id AND cg.grantee = ?))`

// Exhibits implements catalog.Reader.
func (c *Catalog) Exhibits(ctx context.Context, q catalog.ExhibitQuery) ([]catalog.ExhibitRow, error) {
	if err := catalog.CheckLimit(q.Limit); err != nil || q.Agency == "" {
		return nil, catalog.ErrBadQuery
	}
	var w where
	w.add(candidateExhibit, q.Agency, q.Agency)
	if q.CaseID != "" {
		w.add("e.case_id = ?", q.CaseID)
	}
	if q.Owner != "" {
		w.add("e.owner = ?", q.Owner)
	}
	if q.IDs != nil {
		if len(q.IDs) == 0 {
			return nil, nil
		}
		w.in("e.evidence_id", q.IDs)
	}
	if a := q.After; a != nil {
		t := nanos(a.RegisteredAt)
		w.add("(e.registered_at > ? OR (e.registered_at = ? AND e.evidence_id > ?))", t, t, a.EvidenceID)
	}
	query := `SELECT ` + exhibitCols + ` FROM exhibits e WHERE ` + w.String() +
		` ORDER BY e.registered_at, e.evidence_id LIMIT ?`
	rows, err := c.db.QueryContext(ctx, c.q(query), append(w.args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("catalog: listing exhibits: %w", err)
	}
	var out []catalog.ExhibitRow
	for rows.Next() {
		e, err := scanExhibit(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog: listing exhibits: %w", err)
		}
		out = append(out, catalog.ExhibitRow{Exhibit: e})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: listing exhibits: %w", err)
	}
	return out, c.attachGrants(ctx, out)
}

// attachGrants reads every grant of the listed exhibits.
func (c *Catalog) attachGrants(ctx context.Context, rows []catalog.ExhibitRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]string, len(rows))
	at := make(map[string]int, len(rows))
	for i, r := range rows {
		ids[i], at[r.EvidenceID] = r.EvidenceID, i
	}
	var w where
	w.in("g.evidence_id", ids)
	gs, err := c.grants(ctx, `SELECT `+grantCols+` FROM grants g WHERE `+w.String()+` ORDER BY g.evidence_id, g.ord`, w.args)
	if err != nil {
		return err
	}
	for _, g := range gs {
		r := &rows[at[g.EvidenceID]]
		r.Grants = append(r.Grants, g)
	}
	return nil
}

// Grants implements catalog.Reader.
func (c *Catalog) Grants(ctx context.Context, q catalog.GrantQuery) ([]catalog.Grant, error) {
	if err := catalog.CheckLimit(q.Limit); err != nil || q.Agency == "" {
		return nil, catalog.ErrBadQuery
	}
	var w where
	w.add("(g.grantee = ? OR g.owner = ?)", q.Agency, q.Agency)
	w.equal("g.grantee", q.To)
	w.equal("g.owner", q.Owner)
	w.equal("g.case_id", q.CaseID)
	w.equal("g.instrument", q.Instrument)
	w.equal("g.request_id", q.RequestID)
	w.equal("g.evidence_id", q.EvidenceID)
	if q.Open {
		w.add("g.revoked = 0 AND g.expires > ?", nanos(q.Now))
	}
	if q.Unaccepted {
		w.add("g.accepted = 0")
	}
	if a := q.After; a != nil {
		t := nanos(a.Expires)
		w.add("(g.expires > ? OR (g.expires = ? AND g.grant_id > ?))", t, t, a.GrantID)
	}
	query := `SELECT ` + grantCols + ` FROM grants g WHERE ` + w.String() + ` ORDER BY g.expires, g.grant_id LIMIT ?`
	return c.grants(ctx, query, append(w.args, q.Limit))
}

func (c *Catalog) grants(ctx context.Context, query string, args []any) ([]catalog.Grant, error) {
	rows, err := c.db.QueryContext(ctx, c.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: listing grants: %w", err)
	}
	defer rows.Close()
	var out []catalog.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("catalog: listing grants: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Requests implements catalog.Reader.
func (c *Catalog) Requests(ctx context.Context, q catalog.RequestQuery) ([]catalog.Request, error) {
	if err := catalog.CheckLimit(q.Limit); err != nil || q.Agency == "" {
		return nil, catalog.ErrBadQuery
	}
	var w where
	w.add("(r.requester = ? OR r.addressee = ?)", q.Agency, q.Agency)
	w.equal("r.requester", q.From)
	w.equal("r.addressee", q.To)
	w.equal("r.case_id", q.CaseID)
	w.equal("r.instrument", q.Instrument)
	if len(q.States) > 0 {
		w.in("r.state", q.States)
	}
	if q.Open {
		w.in("r.state", []string{catalog.RequestOpen, catalog.RequestAcknowledged, catalog.RequestPartiallyFulfilled})
	}
	if !q.DeadlineBefore.IsZero() {
		w.add("r.deadline < ?", nanos(q.DeadlineBefore))
	}
	if !q.DeadlineAfter.IsZero() {
		w.add("r.deadline > ?", nanos(q.DeadlineAfter))
	}
	if q.IDs != nil {
		if len(q.IDs) == 0 {
			return nil, nil
		}
		w.in("r.request_id", q.IDs)
	}
	if a := q.After; a != nil {
		t := nanos(a.Deadline)
		w.add("(r.deadline > ? OR (r.deadline = ? AND r.request_id > ?))", t, t, a.RequestID)
	}
	query := `SELECT ` + requestCols + ` FROM requests r WHERE ` + w.String() + ` ORDER BY r.deadline, r.request_id LIMIT ?`
	out, err := c.requests(ctx, query, append(w.args, q.Limit))
	if err != nil {
		return nil, err
	}
	return out, c.attachShares(ctx, out)
}

func (c *Catalog) requests(ctx context.Context, query string, args []any) ([]catalog.Request, error) {
	rows, err := c.db.QueryContext(ctx, c.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: listing requests: %w", err)
	}
	defer rows.Close()
	var out []catalog.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("catalog: listing requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// attachShares reads the shares of the listed requests.
func (c *Catalog) attachShares(ctx context.Context, reqs []catalog.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	ids := make([]string, len(reqs))
	at := make(map[string]int, len(reqs))
	for i, r := range reqs {
		ids[i], at[r.RequestID] = r.RequestID, i
	}
	var w where
	w.in("request_id", ids)
	rows, err := c.db.QueryContext(ctx, c.q(`SELECT request_id, evidence_id, grant_id FROM request_shares WHERE `+
		w.String()+` ORDER BY request_id, ord`), w.args...)
	if err != nil {
		return fmt.Errorf("catalog: listing request shares: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var sh catalog.Share
		if err := rows.Scan(&id, &sh.EvidenceID, &sh.GrantID); err != nil {
			return fmt.Errorf("catalog: listing request shares: %w", err)
		}
		r := &reqs[at[id]]
		r.Shares = append(r.Shares, sh)
	}
	return rows.Err()
}

// Cases implements catalog.Reader.
func (c *Catalog) Cases(ctx context.Context, q catalog.CaseQuery) ([]string, error) {
	if err := catalog.CheckLimit(q.Limit); err != nil || q.Agency == "" {
		return nil, catalog.ErrBadQuery
	}
	var w where
	w.add(candidateExhibit, q.Agency, q.Agency)
	if q.After != "" {
		w.add("e.case_id > ?", q.After)
	}
	rows, err := c.db.QueryContext(ctx, c.q(`SELECT DISTINCT e.case_id FROM exhibits e WHERE `+w.String()+
		` ORDER BY e.case_id LIMIT ?`), append(w.args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("catalog: listing cases: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: listing cases: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Snapshot implements catalog.Admin.
func (c *Catalog) Snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	subjects := map[string]*catalog.Subject{}
	var order []string
	rows, err := c.db.QueryContext(ctx, `SELECT id, seq FROM subjects ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("catalog: snapshot: %w", err)
	}
	for rows.Next() {
		var s catalog.Subject
		var seq int64
		if err := rows.Scan(&s.ID, &seq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog: snapshot: %w", err)
		}
		s.Seq = uint64(seq)
		subjects[s.ID] = &s
		order = append(order, s.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: snapshot: %w", err)
	}
	if err := c.snapshotExhibits(ctx, subjects); err != nil {
		return nil, err
	}
	reqs, err := c.requests(ctx, `SELECT `+requestCols+` FROM requests r ORDER BY r.request_id`, nil)
	if err != nil {
		return nil, err
	}
	if err := c.attachShares(ctx, reqs); err != nil {
		return nil, err
	}
	for i := range reqs {
		if s := subjects[reqs[i].RequestID]; s != nil {
			s.Request = &reqs[i]
		}
	}
	snap := &catalog.Snapshot{}
	for _, id := range order {
		snap.Subjects = append(snap.Subjects, *subjects[id])
	}
	return snap, nil
}

func (c *Catalog) snapshotExhibits(ctx context.Context, subjects map[string]*catalog.Subject) error {
	rows, err := c.db.QueryContext(ctx, `SELECT `+exhibitCols+` FROM exhibits e ORDER BY e.evidence_id`)
	if err != nil {
		return fmt.Errorf("catalog: snapshot: %w", err)
	}
	for rows.Next() {
		e, err := scanExhibit(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("catalog: snapshot: %w", err)
		}
		if s := subjects[e.EvidenceID]; s != nil {
			s.Exhibit = &e
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("catalog: snapshot: %w", err)
	}
	gs, err := c.grants(ctx, `SELECT `+grantCols+` FROM grants g ORDER BY g.evidence_id, g.ord`, nil)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if s := subjects[g.EvidenceID]; s != nil {
			s.Grants = append(s.Grants, g)
		}
	}
	return nil
}

func scanExhibit(rows *sql.Rows) (catalog.Exhibit, error) {
	var e catalog.Exhibit
	var registered, updated, retainUntil, disposedAt int64
	var held, damaged int
	err := rows.Scan(&e.EvidenceID, &e.CaseID, &e.Owner, &e.Jurisdiction, &e.Description, &e.SHA256, &e.Size,
		&registered, &e.Events, &updated, &held, &damaged, &e.ExhibitNumber, &retainUntil, &disposedAt)
	e.RegisteredAt, e.UpdatedAt, e.Held, e.Damaged = fromNanos(registered), fromNanos(updated), held != 0, damaged != 0
	e.RetainUntil, e.DisposedAt = fromNanos(retainUntil), fromNanos(disposedAt)
	return e, err
}

func scanGrant(rows *sql.Rows) (catalog.Grant, error) {
	var g catalog.Grant
	var granted, expires int64
	var viewOnly, accepted, revoked int
	err := rows.Scan(&g.GrantID, &g.EvidenceID, &g.CaseID, &g.Owner, &g.To, &g.LegalBasis, &g.Instrument, &g.RequestID,
		&granted, &expires, &g.MaxDownloads, &g.Downloads, &viewOnly, &accepted, &revoked)
	g.GrantedAt, g.Expires = fromNanos(granted), fromNanos(expires)
	g.ViewOnly, g.Accepted, g.Revoked = viewOnly != 0, accepted != 0, revoked != 0
	return g, err
}

func scanRequest(rows *sql.Rows) (catalog.Request, error) {
	var r catalog.Request
	var deadline, filed, updated int64
	var emergency, overdue, damaged int
	err := rows.Scan(&r.RequestID, &r.CaseID, &r.From, &r.To, &r.Instrument, &r.Reference, &r.IssuingAuthority,
		&r.Sought, &deadline, &emergency, &r.State, &overdue, &filed, &updated, &r.Reason, &r.Events, &damaged)
	r.Deadline, r.FiledAt, r.UpdatedAt = fromNanos(deadline), fromNanos(filed), fromNanos(updated)
	r.Emergency, r.Overdue, r.Damaged = emergency != 0, overdue != 0, damaged != 0
	return r, err
}

// Overdue implements catalog.Admin.
func (c *Catalog) Overdue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, err
	}
	var w where
	w.in("r.state", []string{catalog.RequestOpen, catalog.RequestAcknowledged, catalog.RequestPartiallyFulfilled})
	w.add("r.overdue = 0 AND r.deadline < ?", nanos(now))
	rows, err := c.db.QueryContext(ctx, c.q(`SELECT r.request_id FROM requests r WHERE `+w.String()+
		` ORDER BY r.deadline, r.request_id LIMIT ?`), append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("catalog: listing overdue requests: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: listing overdue requests: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
