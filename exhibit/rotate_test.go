package exhibit_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/keys"
)

// operator is the actor of the rotation's events.
var operator = custody.Party{Agency: "gateway-operator", Jurisdiction: "NL", Person: "ops", Role: "operator"}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	km := exhibittest.NewKeyManager()
	env := exhibittest.New(t, exhibittest.Options{DataKeys: km, Rotator: km})
	var nl []string
	for i := range 3 {
		nl = append(nl, env.Register(t, env.Investigator, fmt.Appendf(nil, "exhibit %d", i)).Evidence.EvidenceID)
	}
	us := env.Register(t, env.Partner, []byte("a US exhibit")).Evidence.EvidenceID

	n, err := env.Service.RotateKeys(t.Context(), "NL", operator)
	if err != nil || n != len(nl) {
		t.Fatalf("RotateKeys(NL) = %d, %v; want %d, nil", n, err, len(nl))
	}
	// Only the new version unwraps from now on: every download below uses the
	// rewrapped key.
	if err := km.Retire("NL"); err != nil {
		t.Fatal(err)
	}
	for i, id := range nl {
		wrapped, version, err := env.Service.LatestDataKey(t.Context(), "NL", id)
		if err != nil {
			t.Fatal(err)
		}
		if kv, _ := exhibittest.WrappedVersion(wrapped); version != 2 || kv != 2 {
			t.Errorf("exhibit %d: data-key record version %d wrapped under KEK version %d, want 2 and 2", i, version, kv)
		}
		h, err := env.Service.History(t.Context(), env.Investigator.Principal, id)
		if err != nil {
			t.Fatal(err)
		}
		last := h.Events[len(h.Events)-1]
		if len(h.Events) != 2 || last.Action != string(custody.ActionKeyRewrap) || last.Actor != operator {
			t.Errorf("exhibit %d: got history ending with %s by %+v, want one key-rewrap by the operator", i, last.Action, last.Actor)
		}
		if got, _ := env.Download(t, env.Investigator, id); string(got) != fmt.Sprintf("exhibit %d", i) {
			t.Errorf("exhibit %d: downloaded %q after rotation", i, got)
		}
		env.VerifyBundle(t, env.Investigator, id, nil)
	}
	if _, version, _ := env.Service.LatestDataKey(t.Context(), "US", us); version != 1 {
		t.Errorf("the US exhibit's data key is at version %d, want 1: rotating NL touched it", version)
	}
	if h, err := env.Service.History(t.Context(), env.Partner.Principal, us); err != nil || len(h.Events) != 1 {
		t.Errorf("the US exhibit's history has %d events (%v), want only its registration", len(h.Events), err)
	}
}

func TestRotateKeysRefusals(t *testing.T) {
	t.Parallel()
	errDown := errors.New("vault sealed")
	t.Run("without a rotator", func(t *testing.T) {
		env := exhibittest.New(t, exhibittest.Options{})
		env.Register(t, env.Investigator, []byte("content"))
		if n, err := env.Service.RotateKeys(t.Context(), "NL", operator); n != 0 || !errors.Is(err, exhibit.ErrNoRotation) {
			t.Errorf("got %d, %v; want 0, ErrNoRotation", n, err)
		}
	})
	t.Run("rotation fails", func(t *testing.T) {
		km := exhibittest.NewKeyManager()
		env := exhibittest.New(t, exhibittest.Options{DataKeys: km, Rotator: km})
		id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
		km.SetFail(func(op string) error {
			if op == "Rotate" {
				return errDown
			}
			return nil
		})
		if n, err := env.Service.RotateKeys(t.Context(), "NL", operator); n != 0 || !errors.Is(err, errDown) {
			t.Errorf("got %d, %v; want 0 and the rotator's error", n, err)
		}
		if got := env.Actions(t, id); len(got) != 1 {
			t.Errorf("a failed rotation recorded %q", got)
		}
	})
	t.Run("rewrap fails part way", func(t *testing.T) {
		km := exhibittest.NewKeyManager()
		env := exhibittest.New(t, exhibittest.Options{DataKeys: km, Rotator: km})
		for range 3 {
			env.Register(t, env.Investigator, []byte("content"))
		}
		var rewraps atomic.Int32
		km.SetFail(func(op string) error {
			if op == "Rewrap" && rewraps.Add(1) == 2 {
				return keys.ErrUnavailable
			}
			return nil
		})
		// The exhibits are rewrapped concurrently: the failure stops those not yet
		// done, and the count says how many were.
		n, err := env.Service.RotateKeys(t.Context(), "NL", operator)
		if n > 2 || !errors.Is(err, exhibit.ErrKeysUnavailable) {
			t.Errorf("got %d, %v; want at most 2 rewrapped and ErrKeysUnavailable", n, err)
		}
		// A second run finishes the job: the one already rewrapped moves on again.
		km.SetFail(nil)
		if n, err := env.Service.RotateKeys(t.Context(), "NL", operator); n != 3 || err != nil {
			t.Errorf("the second run: got %d, %v; want 3, nil", n, err)
		}
	})
}

// TestRotateKeysSkipsOrphans: an upload that stopped before its registration left a
// data key; rotation passes over it instead of failing the jurisdiction.
func TestRotateKeysSkipsOrphans(t *testing.T) {
	km := exhibittest.NewKeyManager()
	env := exhibittest.New(t, exhibittest.Options{DataKeys: km, Rotator: km})
	env.FailCreate(func(name string) error {
		if strings.Contains(name, "/events/") {
			return errors.New("disk full")
		}
		return nil
	})
	if _, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, exhibittest.Upload([]byte("stopped"))), exhibittest.Upload([]byte("stopped"))); err == nil {
		t.Fatal("the upload succeeded without its event")
	}
	env.FailCreate(nil)
	id := env.Register(t, env.Investigator, []byte("registered")).Evidence.EvidenceID
	n, err := env.Service.RotateKeys(t.Context(), "NL", operator)
	if err != nil || n != 1 {
		t.Fatalf("RotateKeys(NL) = %d, %v; want 1 (the orphan passed over), nil", n, err)
	}
	if _, version, _ := env.Service.LatestDataKey(t.Context(), "NL", id); version != 2 {
		t.Errorf("the registered exhibit's data key is at version %d, want 2", version)
	}
}
