package exhibit_test

import (
	"log/slog"
	"testing"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// stores are the object stores the ledger's ports run on in these tests: the memory
// store, and the local filesystem store of the embedded default.
var stores = []struct {
	name string
	open func(t *testing.T) storage.Store
}{
	{"memstore", func(*testing.T) storage.Store { return memstore.New() }},
	{"localfs", func(t *testing.T) storage.Store {
		s, err := localfs.New(t.Context(), localfs.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// TestRecordsConformance runs the ledger's conformance suites on the Records and
// CheckpointStore that exhibit keeps in an object store.
func TestRecordsConformance(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name+"/Records", func(t *testing.T) {
			t.Parallel()
			ledgertest.RunRecords(t, exhibit.NewRecords(s.open(t)))
		})
		t.Run(s.name+"/Checkpoints", func(t *testing.T) {
			t.Parallel()
			ledgertest.RunCheckpoints(t, exhibit.NewCheckpointStore(s.open(t)))
		})
	}
}
