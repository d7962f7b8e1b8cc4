package exhibit_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// errInjected is the fault the hooks inject.
var errInjected = errors.New("injected fault")

// isEvent reports whether a store name is a custody event (not its log index).
func isEvent(name string) bool { return strings.HasSuffix(name, ".dsse") }

// isIndex reports whether a store name is the log index of a custody event.
func isIndex(name string) bool { return strings.HasSuffix(name, ".index") }

// TestChangeFaults: a change whose event the store or the log fails to take returns
// an error, shows nothing until the log has the event, and every event it shows after
// is in a bundle that verifies.
func TestChangeFaults(t *testing.T) {
	t.Parallel()
	changes := []struct {
		name string
		run  func(env *exhibittest.Env, id string) error
	}{
		{"share", func(env *exhibittest.Env, id string) error {
			_, err := env.Service.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.CourtNL)), id, env.ShareRequest(exhibittest.CourtNL))
			return err
		}},
		{"download", func(env *exhibittest.Env, id string) error {
			c, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
			if c != nil {
				c.Body.Close()
				return errors.New("content returned")
			}
			return err
		}},
		{"hold", func(env *exhibittest.Env, id string) error {
			_, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, ""), id, true, "")
			return err
		}},
		{"bundle", func(env *exhibittest.Env, id string) error {
			b, _, err := env.Service.Bundle(t.Context(), env.Court.Principal, id, nil)
			if b != nil {
				return errors.New("bundle returned")
			}
			return err
		}},
	}
	faults := []struct {
		name   string
		inject func(env *exhibittest.Env)
	}{
		{"store fails the event", func(env *exhibittest.Env) {
			env.FailCreate(func(name string) error {
				if isEvent(name) {
					return errInjected
				}
				return nil
			})
		}},
		{"store fails the log index", func(env *exhibittest.Env) {
			env.FailCreate(func(name string) error {
				if isIndex(name) {
					return errInjected
				}
				return nil
			})
		}},
		{"log fails the append", func(env *exhibittest.Env) {
			env.FailAppend(func([]byte) error { return errInjected })
		}},
	}
	for _, c := range changes {
		for _, f := range faults {
			t.Run(c.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				env := exhibittest.New(t, exhibittest.Options{})
				id, _ := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
				env.Share(t, id, env.ShareRequest(exhibittest.CourtNL))
				before := eventCount(t, env, id)
				logBefore, _ := env.Log.Checkpoint(t.Context())

				f.inject(env)
				checkErr(t, c.name, c.run(env, id), isErr(errInjected))
				if n := eventCount(t, env, id); n > before {
					t.Errorf("while the fault lasts the chain shows %d events, want at most the %d before", n, before)
				}
				env.FailCreate(nil)
				env.FailAppend(nil)

				// An event the store kept but the log did not take is published on the
				// next read; either way, what shows is in the log and verifies.
				h, err := env.Service.History(t.Context(), env.Investigator.Principal, id)
				if err != nil {
					t.Fatalf("History once the fault is gone: %v", err)
				}
				r := env.VerifyBundle(t, env.Court, id, nil)
				if len(r.Events) != len(h.Events)+1 {
					t.Errorf("the bundle verifies %d events, the history shows %d (+1 export)", len(r.Events), len(h.Events))
				}
				if logAfter, _ := env.Log.Checkpoint(t.Context()); f.name == "store fails the event" && logAfter.Size != logBefore.Size+1 {
					t.Errorf("the log grew from %d to %d, want only the export's leaf: an event the store refused reached the log",
						logBefore.Size, logAfter.Size)
				}
			})
		}
	}
}

func TestRegisterFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(env *exhibittest.Env)
	}{
		{"store fails the content", func(env *exhibittest.Env) {
			env.FailCreate(func(name string) error {
				if strings.HasSuffix(name, "/sealed") {
					return errInjected
				}
				return nil
			})
		}},
		{"store fails the data key", func(env *exhibittest.Env) {
			env.FailCreate(func(name string) error {
				if strings.Contains(name, "/datakey/") {
					return errInjected
				}
				return nil
			})
		}},
		{"store fails the event", func(env *exhibittest.Env) {
			env.FailCreate(func(name string) error {
				if isEvent(name) {
					return errInjected
				}
				return nil
			})
		}},
		{"log fails the append", func(env *exhibittest.Env) {
			env.FailAppend(func([]byte) error { return errInjected })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := exhibittest.New(t, exhibittest.Options{})
			tt.inject(env)
			res, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, exhibittest.Upload([]byte("content"))), exhibittest.Upload([]byte("content")))
			checkErr(t, "Register", err, isErr(errInjected))
			if res.Evidence.EvidenceID != "" {
				t.Errorf("a failed registration returned evidence %s", res.Evidence.EvidenceID)
			}
			if cp, _ := env.Log.Checkpoint(t.Context()); cp.Size != 0 {
				t.Errorf("a failed registration reached the log (%d leaves)", cp.Size)
			}
		})
	}
}

// TestStoreUnreadable: a store that cannot be read is an error, never "no such
// evidence".
func TestStoreUnreadable(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	env.FailOpen(func(string) error { return errInjected })
	_, err := env.Service.Show(t.Context(), env.Investigator.Principal, id)
	if !errors.Is(err, errInjected) || errors.Is(err, exhibit.ErrNotFound) {
		t.Errorf("Show with an unreadable store: got %v, want the store's error, not ErrNotFound", err)
	}
}

// TestReplicaConflict: a change that loses the race for an event to another replica
// reads the chain again and lands after it.
func TestReplicaConflict(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	replica := env.Replica(t)
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	var raced atomic.Bool
	env.FailCreate(func(name string) error {
		if isEvent(name) && raced.CompareAndSwap(false, true) {
			// The other replica writes this event first.
			if _, err := replica.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.CourtNL)), id, env.ShareRequest(exhibittest.CourtNL)); err != nil {
				t.Errorf("the replica's share: %v", err)
			}
		}
		return nil
	})
	res, err := env.Service.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.AgencyUS)), id, env.ShareRequest(exhibittest.AgencyUS))
	if err != nil {
		t.Fatalf("the share that lost the race: %v", err)
	}
	if res.Custody.Seq != 2 {
		t.Errorf("the share that lost the race is event %d, want 2", res.Custody.Seq)
	}
	if v := env.Show(t, env.Investigator, id); len(v.Grants) != 2 {
		t.Errorf("got %d grants, want both replicas' shares", len(v.Grants))
	}
	env.VerifyBundle(t, env.Investigator, id, nil)
}

// TestConflictRetriesEnd: a chain that keeps changing under a change ends in
// ErrConflict, not in a loop.
func TestConflictRetriesEnd(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	var tries atomic.Int32
	env.FailCreate(func(name string) error {
		if isEvent(name) {
			tries.Add(1)
			return exhibittest.ErrLostRace
		}
		return nil
	})
	_, err := env.Service.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.AgencyUS)), id, env.ShareRequest(exhibittest.AgencyUS))
	checkErr(t, "Share", err, isErr(exhibit.ErrConflict))
	if n := tries.Load(); n < 2 || n > 10 {
		t.Errorf("tried %d times, want a few retries", n)
	}
	env.FailCreate(nil)
	if v := env.Show(t, env.Investigator, id); len(v.Grants) != 0 || v.EventCount != 1 {
		t.Errorf("got %d grants, %d events after the conflict; want none added", len(v.Grants), v.EventCount)
	}
}
