package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/catalog/catalogtest"
	"github.com/evidencegw/evidencegw/catalog/sqlite"
)

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Catalog {
		c, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}

// TestReopen: a catalog file opened again keeps its rows and is not migrated twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(t.Context(), catalogtest.ExhibitSubject(1, "CASE-1", "agency-nl")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ids, err := c.Subjects(t.Context())
	if err != nil || len(ids) != 1 {
		t.Fatalf("after reopening: got %q, %v; want one subject", ids, err)
	}
}
