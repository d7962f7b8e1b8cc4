package exhibit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestSweepOrphanGrace: content without a register event is left alone while it is
// younger than the orphan grace period (it may be another gateway's upload in flight)
// and quarantined once older; a registered exhibit (as young) is neither, and a sweep before the
// grace writes no quarantine record.
func TestSweepOrphanGrace(t *testing.T) {
	const grace = 10 * time.Minute
	env := exhibittest.New(t, exhibittest.Options{OrphanGrace: grace})
	ctx := t.Context()
	registered, _ := env.Exchange(t, []byte("registered exhibit"), env.ShareRequest(exhibittest.AgencyUS))

	fail := true
	env.FailCreate(func(name string) error {
		if fail && strings.Contains(name, "/events/") {
			return errors.New("disk full")
		}
		return nil
	})
	content := []byte("upload stopped before its event")
	_, err := env.Service.Register(ctx, exhibittest.RegisterAct(t, env.Investigator, exhibittest.Upload(content)), exhibittest.Upload(content))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Register with events failing = %v, want the store's error", err)
	}
	fail = false

	for _, age := range []time.Duration{0, grace - time.Second} {
		env.Clock.Advance(age)
		r, err := env.Service.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Young) != 1 || len(r.Orphans) != 0 || len(r.Quarantined) != 0 || r.Young[0] == registered {
			t.Fatalf("sweep at %s: %+v, want one young upload, no orphan", age, r)
		}
		if names, _ := env.Store.List(ctx, "quarantine/"); len(names) != 0 {
			t.Fatalf("sweep at %s wrote quarantine records %v", age, names)
		}
	}

	env.Clock.Advance(2 * time.Second) // now older than the grace
	r, err := env.Service.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Young) != 0 || len(r.Orphans) != 1 || !slices.Equal(r.Quarantined, r.Orphans) || r.Orphans[0] == registered {
		t.Fatalf("sweep after the grace: %+v, want the upload quarantined", r)
	}
	if r.Exhibits != 2 {
		t.Errorf("sweep looked at %d exhibits, want 2", r.Exhibits)
	}
	if _, err := env.Store.Read("quarantine/" + r.Orphans[0] + ".json"); err != nil {
		t.Errorf("no quarantine record: %v", err)
	}
}
