package storage_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// place routes "content/<J>/..." to J, as the application layer's names do.
func place(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "content/")
	j, _, _ := strings.Cut(rest, "/")
	return j, ok
}

func TestRouterKeepsContentInItsJurisdiction(t *testing.T) {
	def, nl, us := memstore.New(), memstore.New(), memstore.New()
	r := &storage.Router{Default: def, Jurisdictions: map[string]storage.Store{"NL": nl, "US": us}, Place: place}
	ctx := t.Context()
	name := "content/NL/ev-x/sealed"
	if _, err := r.Create(ctx, name, bytes.NewReader([]byte("c"))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, "evidence/ev-x/events/00000000.dsse", bytes.NewReader([]byte("e"))); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		store storage.Store
		name  string
		want  int
	}{{nl, "content/NL/", 1}, {us, "content/US/", 0}, {def, "evidence/", 1}, {def, "content/", 0}} {
		got, err := tt.store.List(ctx, tt.name)
		if err != nil || len(got) != tt.want {
			t.Errorf("List(%q) = %v, %v; want %d names", tt.name, got, err, tt.want)
		}
	}
	if _, err := r.Create(ctx, "content/FR/ev-x/sealed", bytes.NewReader(nil)); !errors.Is(err, storage.ErrInvalidName) {
		t.Errorf("content of an unconfigured jurisdiction: got %v, want ErrInvalidName", err)
	}
}
