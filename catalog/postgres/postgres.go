// Package postgres is the catalog on PostgreSQL, through jackc/pgx (its database/sql
// adapter), on the SQL of catalog/sqlcatalog. Several gateways share one database.
//
// It may import the catalog packages and pgx; nothing else of the module.
package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/evidencegw/evidencegw/catalog/sqlcatalog"
)

// connectTimeout bounds the first connection at start-up.
const connectTimeout = 30 * time.Second

// Open connects to the PostgreSQL database of url (a libpq URL or key=value string,
// such as "postgres://evidencegw@127.0.0.1:5432/evidencegw_catalog") and migrates it to
// the latest schema.
func Open(ctx context.Context, url string) (*sqlcatalog.Catalog, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("catalog database URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the catalog database %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	c, err := sqlcatalog.New(ctx, db, sqlcatalog.Postgres)
	if err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}
