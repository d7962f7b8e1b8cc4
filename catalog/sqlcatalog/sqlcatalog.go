// Package sqlcatalog implements the catalog port (package catalog) in SQL, on a
// database/sql handle to SQLite (catalog/sqlite) or PostgreSQL (catalog/postgres). The
// schema is the goose migrations of migrations/, portable between the two: adding a
// column is a new migration file. docs/catalog.md describes the tables.
//
// It imports the catalog port, database/sql and goose; the database drivers are the
// callers' (catalog/sqlite, catalog/postgres).
package sqlcatalog

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/evidencegw/evidencegw/catalog"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect names the SQL database behind a Catalog.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota
	Postgres
)

// Catalog is the catalog port over a SQL database. It is safe for concurrent use.
type Catalog struct {
	db      *sql.DB
	dialect Dialect
}

var _ catalog.Catalog = (*Catalog)(nil)

// New migrates db to the latest schema and returns the catalog over it. On
// PostgreSQL, concurrent migrations (several gateways starting at once) are serialized
// by an advisory lock.
func New(ctx context.Context, db *sql.DB, d Dialect) (*Catalog, error) {
	if err := Migrate(ctx, db, d); err != nil {
		return nil, err
	}
	return &Catalog{db: db, dialect: d}, nil
}

// Migrate applies the pending migrations of the schema.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if d == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("catalog migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("catalog migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating the catalog schema: %w", err)
	}
	return nil
}

// Close closes the database handle.
func (c *Catalog) Close() error { return c.db.Close() }

// DB returns the database handle, for tests and benchmarks.
func (c *Catalog) DB() *sql.DB { return c.db }

// q rewrites the ? placeholders of a query for the dialect ($1, $2... on PostgreSQL).
func (c *Catalog) q(query string) string {
	if c.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nanos encodes a time as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// inTx runs f in a transaction, committed if f succeeds.
func (c *Catalog) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("catalog: committing: %w", err)
	}
	return nil
}

// Intend implements catalog.Writer.
func (c *Catalog) Intend(ctx context.Context, id string, seq uint64, now time.Time) error {
	_, err := c.db.ExecContext(ctx, c.q(`INSERT INTO intents (id, seq, since) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq WHERE intents.seq < excluded.seq`), id, int64(seq), nanos(now))
	if err != nil {
		return fmt.Errorf("catalog: recording the intent of event %d of %s: %w", seq, id, err)
	}
	return nil
}

// Done implements catalog.Writer.
func (c *Catalog) Done(ctx context.Context, id string, seq uint64) error {
	_, err := c.db.ExecContext(ctx, c.q(`DELETE FROM intents WHERE id = ? AND seq <= ?`), id, int64(seq))
	if err != nil {
		return fmt.Errorf("catalog: clearing the intents of %s: %w", id, err)
	}
	return nil
}

// Pending implements catalog.Writer.
func (c *Catalog) Pending(ctx context.Context, before time.Time) ([]catalog.Intent, error) {
	rows, err := c.db.QueryContext(ctx, c.q(`SELECT id, seq, since FROM intents WHERE since < ? ORDER BY since, id`), nanos(before))
	if err != nil {
		return nil, fmt.Errorf("catalog: reading intents: %w", err)
	}
	defer rows.Close()
	var out []catalog.Intent
	for rows.Next() {
		var in catalog.Intent
		var seq, since int64
		if err := rows.Scan(&in.ID, &seq, &since); err != nil {
			return nil, fmt.Errorf("catalog: reading intents: %w", err)
		}
		in.Seq, in.Since = uint64(seq), fromNanos(since)
		out = append(out, in)
	}
	return out, rows.Err()
}

// Put implements catalog.Writer.
func (c *Catalog) Put(ctx context.Context, s catalog.Subject) error {
	err := c.inTx(ctx, func(tx *sql.Tx) error {
		// The upsert takes the subject's row lock; a stale fold updates nothing.
		res, err := tx.ExecContext(ctx, c.q(`INSERT INTO subjects (id, seq) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq WHERE subjects.seq <= excluded.seq`), s.ID, int64(s.Seq))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // stale: the catalog holds a later fold
		}
		if err := c.deleteRows(ctx, tx, s.ID); err != nil {
			return err
		}
		if s.Exhibit != nil {
			if err := c.insertExhibit(ctx, tx, s.Exhibit, s.Grants); err != nil {
				return err
			}
		}
		if s.Request != nil {
			return c.insertRequest(ctx, tx, s.Request)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: storing the rows of %s: %w", s.ID, err)
	}
	return nil
}

func (c *Catalog) deleteRows(ctx context.Context, tx *sql.Tx, id string) error {
	for _, stmt := range []string{
		`DELETE FROM exhibits WHERE evidence_id = ?`,
		`DELETE FROM grants WHERE evidence_id = ?`,
		`DELETE FROM requests WHERE request_id = ?`,
		`DELETE FROM request_shares WHERE request_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, c.q(stmt), id); err != nil {
			return err
		}
	}
	return nil
}

func (c *Catalog) insertExhibit(ctx context.Context, tx *sql.Tx, e *catalog.Exhibit, grants []catalog.Grant) error {
	_, err := tx.ExecContext(ctx, c.q(`INSERT INTO exhibits (evidence_id, case_id, owner, jurisdiction, description,
		sha256, size, registered_at, events, updated_at, held, damaged, exhibit_number, retain_until, disposed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.EvidenceID, e.CaseID, e.Owner, e.Jurisdiction, e.Description, e.SHA256, e.Size, nanos(e.RegisteredAt),
		e.Events, nanos(e.UpdatedAt), boolInt(e.Held), boolInt(e.Damaged), e.ExhibitNumber, nanos(e.RetainUntil),
		nanos(e.DisposedAt))
	if err != nil {
		return err
	}
	for i, g := range grants {
		_, err := tx.ExecContext(ctx, c.q(`INSERT INTO grants (grant_id, evidence_id, ord, case_id, owner, grantee,
			legal_basis, instrument, request_id, granted_at, expires, max_downloads, downloads, view_only, accepted, revoked)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			g.GrantID, e.EvidenceID, i, g.CaseID, g.Owner, g.To, g.LegalBasis, g.Instrument, g.RequestID,
			nanos(g.GrantedAt), nanos(g.Expires), g.MaxDownloads, g.Downloads, boolInt(g.ViewOnly),
			boolInt(g.Accepted), boolInt(g.Revoked))
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Catalog) insertRequest(ctx context.Context, tx *sql.Tx, r *catalog.Request) error {
	_, err := tx.ExecContext(ctx, c.q(`INSERT INTO requests (request_id, case_id, requester, addressee, instrument,
		reference, issuing_authority, sought, deadline, emergency, state, overdue, filed_at, updated_at, reason, events, damaged)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.RequestID, r.CaseID, r.From, r.To, r.Instrument, r.Reference, r.IssuingAuthority, r.Sought,
		nanos(r.Deadline), boolInt(r.Emergency), r.State, boolInt(r.Overdue), nanos(r.FiledAt), nanos(r.UpdatedAt),
		r.Reason, r.Events, boolInt(r.Damaged))
	if err != nil {
		return err
	}
	for i, sh := range r.Shares {
		_, err := tx.ExecContext(ctx, c.q(`INSERT INTO request_shares (request_id, ord, evidence_id, grant_id) VALUES (?, ?, ?, ?)`),
			r.RequestID, i, sh.EvidenceID, sh.GrantID)
		if err != nil {
			return err
		}
	}
	return nil
}

// Delete implements catalog.Admin.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	err := c.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, c.q(`DELETE FROM subjects WHERE id = ?`), id); err != nil {
			return err
		}
		return c.deleteRows(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("catalog: deleting the rows of %s: %w", id, err)
	}
	return nil
}

// Subjects implements catalog.Admin.
func (c *Catalog) Subjects(ctx context.Context) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT id FROM subjects ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("catalog: listing subjects: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: listing subjects: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
