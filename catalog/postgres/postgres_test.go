package postgres_test

// The tests run against a real PostgreSQL server, never a mock. Where it is:
//
//	EVIDENCEGW_CATALOG_URL   a PostgreSQL URL whose role may create schemas in its
//	                         database; default: the URL deploy/local/up writes to
//	                         $EVIDENCEGW_STACK_DIR/postgres/catalog-url
//	                         (default /var/lib/evidencegw-stack)
//
// Each test works in a fresh schema, dropped when it ends. If the server is
// unreachable the tests skip, except with CI=true, where they fail: a missing service
// must never pass CI silently.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/catalog/catalogtest"
	"github.com/evidencegw/evidencegw/catalog/postgres"
)

// serverURL returns the test server's URL, skipping (or failing, under CI=true) when
// it cannot be reached.
func serverURL(t testing.TB) string {
	t.Helper()
	u, err := findURL()
	if err == nil {
		err = ping(t.Context(), u)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable and CI=true: %v", err)
		}
		t.Skipf("PostgreSQL unreachable, skipping (run deploy/local/up or set EVIDENCEGW_CATALOG_URL): %v", err)
	}
	return u
}

func findURL() (string, error) {
	if u := os.Getenv("EVIDENCEGW_CATALOG_URL"); u != "" {
		return u, nil
	}
	dir := os.Getenv("EVIDENCEGW_STACK_DIR")
	if dir == "" {
		dir = "/var/lib/evidencegw-stack"
	}
	b, err := os.ReadFile(filepath.Join(dir, "postgres", "catalog-url"))
	return strings.TrimSpace(string(b)), err
}

func ping(ctx context.Context, u string) error {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = 5 * time.Second
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	return db.PingContext(ctx)
}

// freshSchema creates a schema of its own for one test and returns the URL that uses
// it; the schema is dropped when the test ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := serverURL(t)
	schema := "test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Catalog {
		c, err := postgres.Open(t.Context(), freshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

// TestConcurrentMigrations: gateways starting together migrate the schema once.
func TestConcurrentMigrations(t *testing.T) {
	u := freshSchema(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			c, err := postgres.Open(t.Context(), u)
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err == nil || !strings.Contains(err.Error(), "connecting to the catalog database") {
		t.Fatalf("got %v, want a connection error", err)
	}

}
