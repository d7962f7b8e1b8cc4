package storage_test

import (
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/memstore"
	"github.com/evidencegw/evidencegw/storage/storetest"
)

// openOnly hides the RangeOpener of the store it wraps.
type openOnly struct{ storage.Store }

// TestOpenRangeFallback runs the conformance suite on a store without RangeOpener, so
// that storage.OpenRange reads ranges by discarding what comes before them.
func TestOpenRangeFallback(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store { return openOnly{memstore.New()} })
}
