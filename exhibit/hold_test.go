package exhibit_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

func TestHold(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, _ := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	steps := []struct {
		name       string
		who        exhibittest.Member
		on         bool
		reason     string
		wantAction custody.Action // "" when refused
		want       errWant
	}{
		{name: "release before any hold", who: env.Investigator, want: conflictOf(exhibit.ConflictHoldState)},
		{name: "hold", who: env.Investigator, on: true, reason: "appeal pending", wantAction: custody.ActionLegalHold},
		{name: "hold again", who: env.Investigator, on: true, want: conflictOf(exhibit.ConflictHoldState)},
		{name: "partner releases", who: env.Partner, want: deniedBy()},
		{name: "stranger releases", who: env.Stranger, want: isErr(exhibit.ErrNotFound)},
		{name: "reason with a control character", who: env.Investigator, reason: "\a", want: invalidInput()},
		{name: "release", who: env.Investigator, wantAction: custody.ActionLegalHoldRelease},
		{name: "release again", who: env.Investigator, want: conflictOf(exhibit.ConflictHoldState)},
		{name: "partner holds", who: env.Partner, on: true, want: deniedBy()},
		{name: "court holds", who: env.Court, on: true, want: isErr(exhibit.ErrNotFound)},
	}
	for _, s := range steps {
		rc, err := env.Service.Hold(t.Context(), env.HoldAct(t, s.who, id, s.on, s.reason), id, s.on, s.reason)
		if s.wantAction == "" {
			checkErr(t, s.name, err, s.want)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		// memstore keeps legal holds: the event records the reason alone.
		if ev := exhibittest.Event(t, rc); ev.Action != s.wantAction || ev.Detail != s.reason || ev.Storage == nil {
			t.Errorf("%s: got %s event with detail %q, want %s with detail %q", s.name, ev.Action, ev.Detail, s.wantAction, s.reason)
		}
		if got := env.Show(t, env.Investigator, id).LegalHold; got != s.on {
			t.Errorf("%s: show says legal hold %t, want %t", s.name, got, s.on)
		}
	}
	env.VerifyBundle(t, env.Investigator, id, nil)
}

// heldObjects returns, for each stored object of exhibit id (content, data keys,
// custody records), whether the store holds it.
func heldObjects(t *testing.T, env *exhibittest.Env, id string) map[string]bool {
	t.Helper()
	names, err := env.Store.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		if !strings.Contains(n, id) {
			continue
		}
		l, err := env.Store.Lock(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = l.LegalHold
	}
	return out
}

// TestHoldCoversEveryObject: a legal hold holds the content, every version of the
// data key and every custody record, the hold event's own and those recorded while it
// lasts included; a release lifts it from all of them.
func TestHoldCoversEveryObject(t *testing.T) {
	t.Parallel()
	rot := exhibittest.NewKeyManager()
	env := exhibittest.New(t, exhibittest.Options{DataKeys: rot, Rotator: rot})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	if _, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, "appeal pending"), id, true, "appeal pending"); err != nil {
		t.Fatal(err)
	}
	// Recorded while held: a bundle export, and a key rotation's new data key.
	env.VerifyBundle(t, env.Investigator, id, nil)
	if _, err := env.Service.RotateKeys(t.Context(), "NL", custody.Party{Agency: "operator", Jurisdiction: "NL"}); err != nil {
		t.Fatal(err)
	}
	held := heldObjects(t, env, id)
	var kinds = map[string]int{}
	for name, h := range held {
		for _, k := range []string{"/sealed", "/datakey/", ".dsse", ".index"} {
			if strings.Contains(name, k) {
				kinds[k]++
			}
		}
		if !h {
			t.Errorf("under legal hold, %s is not held", name)
		}
	}
	// register, hold, bundle-export, key-rewrap: four events with their indexes; two
	// data-key versions.
	if want := map[string]int{"/sealed": 1, "/datakey/": 2, ".dsse": 4, ".index": 4}; !maps.Equal(kinds, want) {
		t.Errorf("objects of the exhibit by kind = %v, want %v", kinds, want)
	}
	if _, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, false, "appeal decided"), id, false, "appeal decided"); err != nil {
		t.Fatal(err)
	}
	for name, h := range heldObjects(t, env, id) {
		if h {
			t.Errorf("after the release, %s is still held", name)
		}
	}
}

// TestHoldOnAStoreWithoutLegalHold: a store that keeps no legal hold gets the hold in
// custody only, and the event says so.
func TestHoldOnAStoreWithoutLegalHold(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{WrapStore: func(m *memstore.Store) storage.Store {
		return struct{ storage.Store }{m}
	}})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	rc, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, "appeal pending"), id, true, "appeal pending")
	if err != nil {
		t.Fatal(err)
	}
	if ev := exhibittest.Event(t, rc); !strings.HasPrefix(ev.Detail, "appeal pending; ") || !strings.Contains(ev.Detail, "the object store has no legal hold") {
		t.Errorf("got detail %q, want the reason and that the store has no legal hold", ev.Detail)
	}
}

// holdingStore is a memory store with an S3-like legal hold.
type holdingStore struct {
	*memstore.Store
	mu    sync.Mutex
	held  map[string]bool
	fault error
}

var _ storage.LegalHolder = (*holdingStore)(nil)

func (s *holdingStore) SetLegalHold(_ context.Context, name, _ string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault != nil {
		return s.fault
	}
	s.held[name] = on
	return nil
}

func TestHoldOnAStoreWithLegalHold(t *testing.T) {
	t.Parallel()
	var hs *holdingStore
	env := exhibittest.New(t, exhibittest.Options{WrapStore: func(m *memstore.Store) storage.Store {
		hs = &holdingStore{Store: m, held: map[string]bool{}}
		return hs
	}})
	res := env.Register(t, env.Investigator, []byte("content"))
	id, name := res.Evidence.EvidenceID, exhibittest.SealedObject(t, res)
	rc, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, "appeal pending"), id, true, "appeal pending")
	if err != nil {
		t.Fatal(err)
	}
	if ev := exhibittest.Event(t, rc); ev.Detail != "appeal pending" {
		t.Errorf("got detail %q, want only the reason", ev.Detail)
	}
	if !hs.held[name] {
		t.Errorf("the content object %s is not under legal hold", name)
	}

	errLocked := errors.New("object lock configuration missing")
	hs.fault = errLocked
	_, err = env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, false, ""), id, false, "")
	checkErr(t, "a release the store refuses", err, isErr(errLocked))
	if got := env.Actions(t, id); len(got) != 2 {
		t.Errorf("a release the store refused was recorded: %q", got)
	}
}
