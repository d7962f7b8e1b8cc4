// Package sqlite is the catalog of the embedded default: a SQLite database file in the
// data directory, through modernc.org/sqlite (pure Go, no cgo), on the SQL of
// catalog/sqlcatalog.
//
// It may import the catalog packages and the SQLite driver; nothing else of the module.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/evidencegw/evidencegw/catalog/sqlcatalog"
)

// busyTimeoutMS is how long a writer waits for another's lock on the database file
// before it fails: writes are single-row transactions of a few milliseconds.
const busyTimeoutMS = 10000

// Open opens (creating it if need be) the catalog database at path and migrates it to
// the latest schema. The file is in WAL mode: readers do not wait for the writer.
func Open(ctx context.Context, path string) (*sqlcatalog.Catalog, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening the catalog %s: %w", path, err)
	}
	// One writer at a time is SQLite's rule; a few connections let reads run beside it.
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the catalog %s: %w", path, err)
	}
	c, err := sqlcatalog.New(ctx, db, sqlcatalog.SQLite)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the catalog %s: %w", path, err)
	}
	return c, nil
}
