package exhibit

import (
	"testing"
	"time"
)

// FuzzParsePage: a cursor is outside input; whatever it holds, parsing it never
// panics, and a cursor it accepts names its listing and re-encodes to one that decodes
// the same.
func FuzzParsePage(f *testing.F) {
	f.Add(cursor{Kind: "cases", ID: "CASE-1"}.encode(), 10)
	f.Add(cursor{Kind: "requests", Time: time.Unix(1700000000, 5).UTC(), ID: "rq-aaaaaaaaaaaaaaaaaaaaaaaaaa"}.encode(), 0)
	f.Add("e30", 1)
	f.Add("!!", -1)
	f.Fuzz(func(t *testing.T, raw string, limit int) {
		n, c, err := parsePage(Page{Cursor: raw, Limit: limit}, "requests")
		if err != nil {
			return
		}
		if n < 1 || n > 500 {
			t.Fatalf("limit %d accepted as %d", limit, n)
		}
		if c == nil {
			return
		}
		if c.Kind != "requests" || c.ID == "" {
			t.Fatalf("accepted a cursor of listing %q with id %q", c.Kind, c.ID)
		}
		_, again, err := parsePage(Page{Cursor: c.encode()}, "requests")
		if err != nil || !again.Time.Equal(c.Time) || again.ID != c.ID {
			t.Fatalf("re-encoded cursor: %+v, %v; want %+v", again, err, c)
		}
	})
}
