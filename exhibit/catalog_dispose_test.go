package exhibit_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/catalog/sqlite"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// listed returns the case listing's entry for id, as m sees it.
func listed(t *testing.T, env *exhibittest.Env, m exhibittest.Member, id string) api.ExhibitListing {
	t.Helper()
	p, err := env.Service.CaseExhibits(t.Context(), m.Principal, exhibittest.CaseID, exhibit.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Exhibits {
		if e.EvidenceID == id {
			return e
		}
	}
	t.Fatalf("%s is not in the case listing of %s", id, m.Principal.Agency)
	return api.ExhibitListing{}
}

// TestCatalogFoldsDisposal: the catalog carries the exhibit number and the retention
// of the register event and the dispose event; a disposed exhibit's grants leave the
// open states of the inbox; the rows of a disposal equal a rebuild's, and a disposal
// whose rows were not written heals from the chain.
func TestCatalogFoldsDisposal(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{Retention: exhibit.Retention{Default: retention}})
	ctx := t.Context()
	u := exhibittest.Upload([]byte("seized phone image"))
	u.Acquisition = acquisition(env.Clock.Now())
	res, err := env.Service.Register(ctx, exhibittest.RegisterAct(t, env.Investigator, u), u)
	if err != nil {
		t.Fatal(err)
	}
	accepted := res.Evidence.EvidenceID
	registered := env.Clock.Now()
	long := env.ShareRequest(exhibittest.AgencyUS)
	long.Expires = env.Clock.Now().Add(2 * retention) // active still when the retention ends
	g := env.Share(t, accepted, long)
	env.Accept(t, env.Partner, accepted, g.GrantID)
	awaiting := env.Register(t, env.Investigator, []byte("seized laptop image")).Evidence.EvidenceID
	env.Share(t, awaiting, long)

	e := listed(t, env, env.Partner, accepted)
	if e.ExhibitNumber != "NL-0042-EX3" || !e.RetainUntil.Equal(registered.Add(retention)) || e.Disposed || !e.DisposedAt.IsZero() {
		t.Fatalf("before the disposal: number %q, retained until %v, disposed %t at %v; want NL-0042-EX3, %v, not disposed",
			e.ExhibitNumber, e.RetainUntil, e.Disposed, e.DisposedAt, registered.Add(retention))
	}
	in, err := env.Service.Inbox(ctx, env.Partner.Principal, 0)
	if err != nil || len(in.ActiveGrants.Grants) != 1 || len(in.AwaitingAcceptance.Grants) != 1 {
		t.Fatalf("partner's inbox before the disposal: %+v, %v; want one active grant and one awaiting", in, err)
	}

	// The second disposal's rows are not written (the catalog fails after the
	// event is recorded): healing writes them from the chain.
	fc := &failingCatalog{Catalog: env.Catalog}
	svc := env.ReplicaWith(t, func(c *exhibit.Config) { c.Catalog = fc })
	env.Clock.Advance(retention + time.Hour)
	d, err := svc.Dispose(ctx, env.DisposeAct(t, env.Investigator, accepted, order), accepted, order)
	if err != nil {
		t.Fatal(err)
	}
	fc.fail = true
	if _, err := svc.Dispose(ctx, env.DisposeAct(t, env.Investigator, awaiting, order), awaiting, order); err != nil {
		t.Fatal(err)
	}
	fc.fail = false
	diffs, err := svc.CheckCatalog(ctx)
	if err != nil || len(diffs) != 1 || diffs[0] != (exhibit.CatalogDifference{ID: awaiting, Reason: "stale"}) {
		t.Fatalf("before healing: %+v, %v; want %s stale", diffs, err, awaiting)
	}
	if _, err := svc.HealCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if diffs, err := svc.CheckCatalog(ctx); err != nil || len(diffs) != 0 {
		t.Fatalf("after healing: %+v, %v; want the disposal's rows written", diffs, err)
	}

	for _, m := range []exhibittest.Member{env.Investigator, env.Partner} {
		e := listed(t, env, m, accepted)
		if !e.Disposed || !e.DisposedAt.Equal(exhibittest.Event(t, d.Custody).Time) || e.ExhibitNumber != "NL-0042-EX3" {
			t.Errorf("%s's listing after the disposal: disposed %t at %v, number %q; want disposed at the dispose event's time",
				m.Principal.Agency, e.Disposed, e.DisposedAt, e.ExhibitNumber)
		}
		if e := listed(t, env, m, awaiting); !e.Disposed {
			t.Errorf("%s's listing after the healed disposal: not disposed", m.Principal.Agency)
		}
	}
	in, err = env.Service.Inbox(ctx, env.Partner.Principal, 0)
	if err != nil || len(in.ActiveGrants.Grants) != 0 || len(in.AwaitingAcceptance.Grants) != 0 {
		t.Errorf("partner's inbox after the disposal: %+v, %v; want no open grant of destroyed evidence", in, err)
	}
	all, err := env.Service.Grants(ctx, env.Partner.Principal, exhibit.GrantFilter{Box: "inbox"}, exhibit.Page{})
	if err != nil || len(all.Grants) != 2 {
		t.Errorf("partner's grants in any state after the disposal: %+v, %v; want both still listed", all, err)
	}

	fresh, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rebuilt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := env.ReplicaWith(t, func(c *exhibit.Config) { c.Catalog = fresh }).RebuildCatalog(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sameSnapshots(t, "rebuilt against live after disposals", snapshotOf(t, fresh), snapshotOf(t, env.Catalog))
}
