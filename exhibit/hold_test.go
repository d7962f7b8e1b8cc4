package exhibit_test

import (
	"context"
	"errors"
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
		ev := exhibittest.Event(t, rc)
		// memstore has no legal hold of its own: the event says the hold is in custody only.
		if ev.Action != s.wantAction || !strings.HasPrefix(ev.Detail, s.reason) ||
			!strings.Contains(ev.Detail, "the object store has no legal hold") || ev.Storage == nil {
			t.Errorf("%s: got %s event with detail %q, want %s saying %q and that the store has no legal hold",
				s.name, ev.Action, ev.Detail, s.wantAction, s.reason)
		}
	}
	env.VerifyBundle(t, env.Investigator, id, nil)
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
