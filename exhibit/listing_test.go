package exhibit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/catalog/sqlite"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// exchangeScene registers five exhibits of one case, shares three with the partner
// (one expired later, one revoked), files and answers a request: a little of
// everything the catalog folds.
func exchangeScene(t *testing.T, env *exhibittest.Env) []string {
	t.Helper()
	ctx := t.Context()
	var ids []string
	for i := range 5 {
		env.Clock.Advance(time.Second)
		ids = append(ids, env.Register(t, env.Investigator, fmt.Appendf(nil, "exhibit %d", i)).Evidence.EvidenceID)
	}
	short := env.ShareRequest(exhibittest.AgencyUS)
	short.Expires = env.Clock.Now().Add(time.Hour)
	env.Share(t, ids[0], short)
	g := env.Share(t, ids[1], env.ShareRequest(exhibittest.AgencyUS))
	env.Accept(t, env.Partner, ids[1], g.GrantID)
	r := env.Share(t, ids[2], env.ShareRequest(exhibittest.AgencyUS))
	if _, err := env.Service.Revoke(ctx, env.RevokeAct(t, ids[2], r.GrantID, "sent in error"), ids[2], r.GrantID, "sent in error"); err != nil {
		t.Fatal(err)
	}
	env.Share(t, ids[3], env.ShareRequest(exhibittest.CourtNL))
	rq := fileRequest(t, env, "eio", nil)
	answer := api.RespondRequest{Share: []string{ids[4]}, Partial: true}
	if _, err := env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, answer), rq.RequestID, answer); err != nil {
		t.Fatal(err)
	}
	fileRequest(t, env, "epoc", func(r *api.FileRequest) { r.CaseID = "" })
	return ids
}

func listingIDs(p api.ExhibitPage) []string {
	var ids []string
	for _, e := range p.Exhibits {
		ids = append(ids, e.EvidenceID)
	}
	return ids
}

func TestListingsThroughPolicies(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	ids := exchangeScene(t, env)
	env.Clock.Advance(2 * time.Hour) // the short grant expires

	list := func(m exhibittest.Member) []string {
		p, err := env.Service.CaseExhibits(ctx, m.Principal, exhibittest.CaseID, exhibit.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return listingIDs(p)
	}
	if got := list(env.Investigator); !slices.Equal(got, ids) {
		t.Errorf("owner lists %q, want every exhibit %q", got, ids)
	}
	// The partner: the accepted grant and the answer's grant; not the expired or the
	// revoked one (single reads refuse those too).
	if got, want := list(env.Partner), []string{ids[1], ids[4]}; !slices.Equal(got, want) {
		t.Errorf("partner lists %q, want %q", got, want)
	}
	if got, want := list(env.Court), []string{ids[3]}; !slices.Equal(got, want) {
		t.Errorf("court lists %q, want %q", got, want)
	}
	// A third agency sees nothing of the others: no exhibit, case, request or grant.
	if got := list(env.Stranger); len(got) != 0 {
		t.Errorf("stranger lists %q, want nothing", got)
	}
	if _, err := env.Service.Case(ctx, env.Stranger.Principal, exhibittest.CaseID); !errors.Is(err, exhibit.ErrCaseNotFound) {
		t.Errorf("stranger's case view: got %v, want not found", err)
	}
	cases, _ := env.Service.Cases(ctx, env.Stranger.Principal, exhibit.Page{})
	reqs, _ := env.Service.Requests(ctx, env.Stranger.Principal, exhibit.RequestFilter{}, exhibit.Page{})
	grants, _ := env.Service.Grants(ctx, env.Stranger.Principal, exhibit.GrantFilter{}, exhibit.Page{})
	in, _ := env.Service.Inbox(ctx, env.Stranger.Principal, 0)
	if len(cases.Cases)+len(reqs.Requests)+len(grants.Grants)+len(in.Requests.Requests)+len(in.Deadlines.Requests)+
		len(in.ActiveGrants.Grants)+len(in.AwaitingAcceptance.Grants) != 0 || cases.Next+reqs.Next+grants.Next != "" {
		t.Errorf("stranger sees cases %v requests %v grants %v inbox %+v", cases, reqs, grants, in)
	}
	// The partner sees only its own grants of a listed exhibit.
	p, _ := env.Service.CaseExhibits(ctx, env.Partner.Principal, exhibittest.CaseID, exhibit.Page{})
	for _, e := range p.Exhibits {
		for _, g := range e.Grants {
			if g.To != exhibittest.AgencyUS {
				t.Errorf("partner sees a grant to %s of %s", g.To, e.EvidenceID)
			}
		}
	}
	v, err := env.Service.Case(ctx, env.Partner.Principal, exhibittest.CaseID)
	if err != nil || v.Exhibits != 2 || !slices.Equal(v.Owners, []string{exhibittest.AgencyNL}) {
		t.Errorf("partner's case view: got %+v, %v; want 2 exhibits of agency-nl", v, err)
	}
	// The partner's inbox: the answer's grant to accept, its accepted grant, its
	// requests' deadlines.
	in, err = env.Service.Inbox(ctx, env.Partner.Principal, 0)
	if err != nil || len(in.AwaitingAcceptance.Grants) != 1 || len(in.ActiveGrants.Grants) != 1 || len(in.Deadlines.Requests) != 2 ||
		len(in.Requests.Requests) != 0 {
		t.Errorf("partner's inbox: got %+v, %v; want a grant to accept, an active grant, 2 deadlines, no request to answer", in, err)
	}
	// The owner's inbox: the request left open by the partial answer, and the other.
	in, err = env.Service.Inbox(ctx, env.Investigator.Principal, 0)
	if err != nil || len(in.Requests.Requests) != 2 || len(in.AwaitingAcceptance.Grants) != 0 {
		t.Errorf("owner's inbox: got %+v, %v; want 2 requests to answer", in, err)
	}
	in, _ = env.Service.Inbox(ctx, env.Partner.Principal, 0)
	for _, g := range append(in.ActiveGrants.Grants, in.AwaitingAcceptance.Grants...) {
		if g.EvidenceID == ids[4] && (g.LegalBasisKind != api.LegalBasisInstrument || g.Instrument != "eio") {
			t.Errorf("the answer's grant: got %+v, want its instrument", g)
		}
		if g.EvidenceID == ids[1] && g.LegalBasisKind != api.LegalBasisFreeText {
			t.Errorf("a free-text grant: got kind %q, want free-text", g.LegalBasisKind)
		}
	}
}

func TestListingPages(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	var want []string
	for i := range 9 {
		env.Clock.Advance(time.Second)
		id := env.Register(t, env.Investigator, fmt.Appendf(nil, "e%d", i)).Evidence.EvidenceID
		g := env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
		if i%3 == 0 { // revoked: the partner may not view it, and its listing skips it
			if _, err := env.Service.Revoke(ctx, env.RevokeAct(t, id, g.GrantID, ""), id, g.GrantID, ""); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, id)
	}
	var got []string
	pg := exhibit.Page{Limit: 2}
	for range 10 {
		p, err := env.Service.CaseExhibits(ctx, env.Partner.Principal, exhibittest.CaseID, pg)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, listingIDs(p)...)
		if p.Next == "" {
			break
		}
		pg.Cursor = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages: got %q, want %q", got, want)
	}
	for _, bad := range []exhibit.Page{{Limit: -1}, {Limit: api.MaxPageSize + 1}, {Cursor: "!!"}, {Cursor: "e30"}} {
		_, err := env.Service.CaseExhibits(ctx, env.Partner.Principal, exhibittest.CaseID, bad)
		var inv *exhibit.InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("page %+v: got %v, want invalid", bad, err)
		}
	}
	// A cursor of another listing is refused.
	p, _ := env.Service.Requests(ctx, env.Partner.Principal, exhibit.RequestFilter{}, exhibit.Page{Limit: 1})
	cases, _ := env.Service.Cases(ctx, env.Partner.Principal, exhibit.Page{Limit: 1})
	if cases.Next == "" && p.Next == "" {
		r, _ := env.Service.CaseExhibits(ctx, env.Partner.Principal, exhibittest.CaseID, exhibit.Page{Limit: 1})
		p.Next = r.Next
		if _, err := env.Service.Requests(ctx, env.Partner.Principal, exhibit.RequestFilter{}, exhibit.Page{Cursor: p.Next}); err == nil {
			t.Error("a cursor of the exhibit listing was taken by the request listing")
		}
	}
}

// snapshotOf returns the catalog's rows.
func snapshotOf(t *testing.T, c catalog.Admin) []catalog.Subject {
	t.Helper()
	s, err := c.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s.Subjects
}

func sameSnapshots(t *testing.T, what string, a, b []catalog.Subject) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d subjects against %d", what, len(a), len(b))
	}
	for i := range a {
		if !exhibit.SameRows(a[i], b[i]) {
			t.Errorf("%s: rows of %s differ:\n%+v\n%+v", what, a[i].ID, a[i], b[i])
		}
	}
}

// TestRebuildEqualsLive: a catalog rebuilt from the stored chains alone holds exactly
// the rows the live catalog was fed, event by event.
func TestRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	exchangeScene(t, env)
	live := snapshotOf(t, env.Catalog)
	if len(live) != 7 {
		t.Fatalf("live catalog holds %d subjects, want 7 (5 exhibits, 2 requests)", len(live))
	}
	fresh, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "rebuilt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	// A stray row of a subject no chain holds is removed by the rebuild.
	if err := fresh.Put(t.Context(), catalog.Subject{ID: "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"}); err != nil {
		t.Fatal(err)
	}
	svc := env.ReplicaWith(t, func(c *exhibit.Config) { c.Catalog = fresh })
	n, err := svc.RebuildCatalog(t.Context(), nil)
	if err != nil || n != 7 {
		t.Fatalf("rebuild: %d subjects, %v; want 7", n, err)
	}
	sameSnapshots(t, "rebuilt against live", snapshotOf(t, fresh), live)
	if diffs, err := env.Service.CheckCatalog(t.Context()); err != nil || len(diffs) != 0 {
		t.Fatalf("check of the live catalog: %+v, %v; want no difference", diffs, err)
	}
}

// failingCatalog fails Put while fail is set.
type failingCatalog struct {
	catalog.Catalog
	fail bool
}

func (f *failingCatalog) Put(ctx context.Context, s catalog.Subject) error {
	if f.fail {
		return errors.New("catalog down")
	}
	return f.Catalog.Put(ctx, s)
}

// TestCatalogHeals: an event recorded while the catalog could not take its rows (or
// before a crash) leaves an intent; healing writes the rows from the chain.
func TestCatalogHeals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	fc := &failingCatalog{Catalog: env.Catalog}
	svc := env.ReplicaWith(t, func(c *exhibit.Config) { c.Catalog = fc })
	id := env.Register(t, env.Investigator, []byte("x")).Evidence.EvidenceID
	fc.fail = true
	if _, err := svc.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.AgencyUS)), id, env.ShareRequest(exhibittest.AgencyUS)); err != nil {
		t.Fatal(err)
	}
	fc.fail = false
	diffs, err := svc.CheckCatalog(t.Context())
	if err != nil || len(diffs) != 1 || diffs[0] != (exhibit.CatalogDifference{ID: id, Reason: "stale"}) {
		t.Fatalf("before healing: %+v, %v; want %s stale", diffs, err, id)
	}
	// An intent whose event never reached the chain (the change failed before) stays a
	// minute, as a change in flight would, then goes.
	if err := env.Catalog.Intend(t.Context(), id, 9, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.HealCatalog(t.Context()); err != nil || n != 0 {
		t.Fatalf("healed %d, %v; want the intent of event 9, in flight, kept", n, err)
	}
	if diffs, err := svc.CheckCatalog(t.Context()); err != nil || len(diffs) != 0 {
		t.Fatalf("after healing: %+v, %v; want the share's rows written", diffs, err)
	}
	env.Clock.Advance(2 * time.Minute)
	if n, err := svc.HealCatalog(t.Context()); err != nil || n != 1 {
		t.Fatalf("healed %d, %v; want 1 (the abandoned intent)", n, err)
	}
	if p, _ := env.Catalog.Pending(t.Context(), env.Clock.Now().Add(time.Hour)); len(p) != 0 {
		t.Fatalf("pending after healing: %+v, want none", p)
	}
}

// unavailableCatalog refuses intents.
type unavailableCatalog struct{ catalog.Catalog }

func (unavailableCatalog) Intend(context.Context, string, uint64, time.Time) error {
	return errors.New("connection refused")
}

// TestCatalogUnavailableRecordsNothing: without its intent, no custody event is
// recorded, so the catalog cannot silently miss one.
func TestCatalogUnavailableRecordsNothing(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("x")).Evidence.EvidenceID
	svc := env.ReplicaWith(t, func(c *exhibit.Config) { c.Catalog = unavailableCatalog{env.Catalog} })
	_, err := svc.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.AgencyUS)), id, env.ShareRequest(exhibittest.AgencyUS))
	if !errors.Is(err, exhibit.ErrCatalogUnavailable) {
		t.Fatalf("got %v, want ErrCatalogUnavailable", err)
	}
	if got := env.Actions(t, id); !slices.Equal(got, []string{"register"}) {
		t.Fatalf("events %q, want only the registration", got)
	}
}
