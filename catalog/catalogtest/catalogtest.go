// Package catalogtest is the conformance suite of the catalog port: every
// implementation (catalog/sqlite, catalog/postgres) runs Run on a fresh, empty catalog
// per test.
package catalogtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evidencegw/evidencegw/catalog"
)

// T0 is the time the suite's rows are dated from.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// Run runs the suite; open returns a fresh, empty catalog, closed by the test's
// cleanup.
func Run(t *testing.T, open func(t *testing.T) catalog.Catalog) {
	tests := []struct {
		name string
		f    func(t *testing.T, c catalog.Catalog)
	}{
		{"RoundTrip", testRoundTrip},
		{"StaleFoldLoses", testStaleFoldLoses},
		{"PutReplaces", testPutReplaces},
		{"ExhibitCandidates", testExhibitCandidates},
		{"ExhibitPages", testExhibitPages},
		{"GrantFilters", testGrantFilters},
		{"RequestFilters", testRequestFilters},
		{"Cases", testCases},
		{"Intents", testIntents},
		{"DeleteAndSubjects", testDeleteAndSubjects},
		{"Overdue", testOverdue},
		{"Limits", testLimits},
		{"ConcurrentPuts", testConcurrentPuts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, open(t)) })
	}
}

// ExhibitID returns the i-th evidence id of the suite.
func ExhibitID(i int) string { return "ev-" + fmt.Sprintf("%026d", i) }

// RequestID returns the i-th request id of the suite.
func RequestID(i int) string { return "rq-" + fmt.Sprintf("%026d", i) }

// GrantID returns the i-th grant id of the suite.
func GrantID(i int) string { return "gr-" + fmt.Sprintf("%016d", i) }

// ExhibitSubject returns the rows of exhibit i of case caseID, owned by owner,
// registered i minutes after T0, with the given grants.
func ExhibitSubject(i int, caseID, owner string, grants ...catalog.Grant) catalog.Subject {
	id := ExhibitID(i)
	at := T0.Add(time.Duration(i) * time.Minute)
	for k := range grants {
		g := &grants[k]
		g.EvidenceID, g.CaseID, g.Owner = id, caseID, owner
		if g.GrantedAt.IsZero() {
			g.GrantedAt = at.Add(time.Second)
		}
	}
	return catalog.Subject{ID: id, Seq: uint64(len(grants)), Grants: grants, Exhibit: &catalog.Exhibit{
		EvidenceID: id, CaseID: caseID, Owner: owner, Jurisdiction: "NL", Description: "exhibit " + fmt.Sprint(i),
		SHA256: fmt.Sprintf("%064x", i), Size: int64(i) * 1000, RegisteredAt: at, Events: len(grants) + 1, UpdatedAt: at,
	}}
}

// RequestSubject returns the rows of request i from one agency to another, due i hours
// after T0.
func RequestSubject(i int, from, to, instrument, state string) catalog.Subject {
	id := RequestID(i)
	return catalog.Subject{ID: id, Request: &catalog.Request{
		RequestID: id, CaseID: "CASE-R", From: from, To: to, Instrument: instrument, Reference: fmt.Sprintf("REF-%d", i),
		IssuingAuthority: "prosecutor", Sought: "records", Deadline: T0.Add(time.Duration(i) * time.Hour), State: state,
		FiledAt: T0, UpdatedAt: T0, Events: 1,
	}}
}

func put(t *testing.T, c catalog.Catalog, subjects ...catalog.Subject) {
	t.Helper()
	for _, s := range subjects {
		if err := c.Put(t.Context(), s); err != nil {
			t.Fatalf("Put(%s): %v", s.ID, err)
		}
	}
}

func snapshot(t *testing.T, c catalog.Catalog) []catalog.Subject {
	t.Helper()
	s, err := c.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s.Subjects
}

func testRoundTrip(t *testing.T, c catalog.Catalog) {
	ex := ExhibitSubject(1, "CASE-1", "agency-nl",
		catalog.Grant{GrantID: GrantID(1), To: "agency-us", LegalBasis: "MLAT 1", Expires: T0.Add(time.Hour), MaxDownloads: 3,
			Downloads: 1, Accepted: true},
		catalog.Grant{GrantID: GrantID(2), To: "court-nl", LegalBasis: "EPOC 2", Instrument: "epoc", RequestID: RequestID(1),
			Expires: T0.Add(2 * time.Hour), ViewOnly: true, Revoked: true})
	ex.Exhibit.Held, ex.Exhibit.Damaged = true, true
	ex.Exhibit.ExhibitNumber = "NL-0042-EX3"
	ex.Exhibit.RetainUntil, ex.Exhibit.DisposedAt = T0.Add(10*365*24*time.Hour), T0.Add(11*365*24*time.Hour)
	rq := RequestSubject(1, "agency-us", "agency-nl", "epoc", catalog.RequestPartiallyFulfilled)
	rq.Seq, rq.Request.Emergency, rq.Request.Overdue, rq.Request.Reason = 3, true, true, "a reason"
	rq.Request.Shares = []catalog.Share{{EvidenceID: ExhibitID(1), GrantID: GrantID(2)}, {EvidenceID: ExhibitID(2), GrantID: GrantID(3)}}
	put(t, c, rq, ex)
	if diff := cmp.Diff([]catalog.Subject{ex, rq}, snapshot(t, c)); diff != "" {
		t.Fatalf("snapshot differs from what was put (-want +got):\n%s", diff)
	}
}

func testStaleFoldLoses(t *testing.T, c catalog.Catalog) {
	newer := ExhibitSubject(1, "CASE-1", "agency-nl", catalog.Grant{GrantID: GrantID(1), To: "agency-us", Expires: T0.Add(time.Hour)})
	older := ExhibitSubject(1, "CASE-1", "agency-nl")
	put(t, c, newer, older)
	if diff := cmp.Diff([]catalog.Subject{newer}, snapshot(t, c)); diff != "" {
		t.Fatalf("a stale fold replaced a newer one (-want +got):\n%s", diff)
	}
	same := newer
	ex := *newer.Exhibit
	ex.Description = "folded again"
	same.Exhibit = &ex
	put(t, c, same)
	if got := snapshot(t, c); got[0].Exhibit.Description != "folded again" {
		t.Fatalf("a fold at the same seq did not replace the rows: got %q", got[0].Exhibit.Description)
	}
}

func testPutReplaces(t *testing.T, c catalog.Catalog) {
	first := RequestSubject(1, "agency-us", "agency-nl", "eio", catalog.RequestOpen)
	first.Request.Shares = []catalog.Share{{EvidenceID: ExhibitID(1), GrantID: GrantID(1)}}
	put(t, c, first)
	next := RequestSubject(1, "agency-us", "agency-nl", "eio", catalog.RequestRefused)
	next.Seq, next.Request.Reason = 1, "not enough grounds"
	put(t, c, next)
	if diff := cmp.Diff([]catalog.Subject{next}, snapshot(t, c)); diff != "" {
		t.Fatalf("rows not replaced (-want +got):\n%s", diff)
	}
}

func exhibitIDs(rows []catalog.ExhibitRow) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.EvidenceID)
	}
	return ids
}

func testExhibitCandidates(t *testing.T, c catalog.Catalog) {
	put(t, c,
		ExhibitSubject(1, "CASE-1", "agency-nl", catalog.Grant{GrantID: GrantID(1), To: "agency-us", Expires: T0}),
		ExhibitSubject(2, "CASE-1", "agency-nl"),
		ExhibitSubject(3, "CASE-2", "agency-be", catalog.Grant{GrantID: GrantID(2), To: "agency-nl", Expires: T0}),
		ExhibitSubject(4, "CASE-3", "agency-be"),
	)
	for _, tt := range []struct {
		name string
		q    catalog.ExhibitQuery
		want []string
	}{
		{"owner sees its own and what was shared with it", catalog.ExhibitQuery{Agency: "agency-nl"}, []string{ExhibitID(1), ExhibitID(2), ExhibitID(3)}},
		{"grantee sees only what was shared with it", catalog.ExhibitQuery{Agency: "agency-us"}, []string{ExhibitID(1)}},
		{"stranger sees nothing", catalog.ExhibitQuery{Agency: "agency-fr"}, nil},
		{"one case", catalog.ExhibitQuery{Agency: "agency-nl", CaseID: "CASE-1"}, []string{ExhibitID(1), ExhibitID(2)}},
		{"another agency's case", catalog.ExhibitQuery{Agency: "agency-us", CaseID: "CASE-3"}, nil},
		{"one owner", catalog.ExhibitQuery{Agency: "agency-nl", Owner: "agency-be"}, []string{ExhibitID(3)}},
		{"by ids, candidates only", catalog.ExhibitQuery{Agency: "agency-us", IDs: []string{ExhibitID(1), ExhibitID(2)}}, []string{ExhibitID(1)}},
		{"no ids", catalog.ExhibitQuery{Agency: "agency-nl", IDs: []string{}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 10
			rows, err := c.Exhibits(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := exhibitIDs(rows); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Every grant of a listed exhibit comes with it, those to other agencies too: the
	// policies decide on all of them.
	rows, err := c.Exhibits(t.Context(), catalog.ExhibitQuery{Agency: "agency-nl", IDs: []string{ExhibitID(1)}, Limit: 1})
	if err != nil || len(rows) != 1 || len(rows[0].Grants) != 1 || rows[0].Grants[0].To != "agency-us" {
		t.Fatalf("got %+v, %v; want exhibit 1 with its grant to agency-us", rows, err)
	}
}

func testExhibitPages(t *testing.T, c catalog.Catalog) {
	var want []string
	for i := 1; i <= 25; i++ {
		s := ExhibitSubject(i, "CASE-1", "agency-nl")
		if i%5 == 0 { // equal registration times: the id breaks the tie
			s.Exhibit.RegisteredAt = T0
		}
		put(t, c, s)
	}
	for _, i := range []int{5, 10, 15, 20, 25, 1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 19, 21, 22, 23, 24} {
		want = append(want, ExhibitID(i))
	}
	var got []string
	q := catalog.ExhibitQuery{Agency: "agency-nl", CaseID: "CASE-1", Limit: 7}
	for range 10 {
		rows, err := c.Exhibits(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, exhibitIDs(rows)...)
		if len(rows) < q.Limit {
			break
		}
		last := rows[len(rows)-1]
		q.After = &catalog.ExhibitKey{RegisteredAt: last.RegisteredAt, EvidenceID: last.EvidenceID}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages: got %q, want %q", got, want)
	}
}

func grantIDs(gs []catalog.Grant) []string {
	var ids []string
	for _, g := range gs {
		ids = append(ids, g.GrantID)
	}
	return ids
}

func testGrantFilters(t *testing.T, c catalog.Catalog) {
	now := T0.Add(10 * time.Hour)
	put(t, c,
		ExhibitSubject(1, "CASE-1", "agency-nl",
			catalog.Grant{GrantID: GrantID(1), To: "agency-us", Expires: now.Add(time.Hour)},                     // open, unaccepted
			catalog.Grant{GrantID: GrantID(2), To: "agency-us", Expires: now.Add(2 * time.Hour), Accepted: true}, // open, accepted
			catalog.Grant{GrantID: GrantID(3), To: "agency-us", Expires: now.Add(-time.Hour)},                    // expired
			catalog.Grant{GrantID: GrantID(4), To: "agency-us", Expires: now.Add(3 * time.Hour), Revoked: true},  // revoked
			catalog.Grant{GrantID: GrantID(5), To: "court-nl", Expires: now.Add(4 * time.Hour), Instrument: "epoc", RequestID: RequestID(9)},
		),
		ExhibitSubject(2, "CASE-2", "agency-be", catalog.Grant{GrantID: GrantID(6), To: "agency-fr", Expires: now.Add(time.Hour)}),
	)
	for _, tt := range []struct {
		name string
		q    catalog.GrantQuery
		want []string
	}{
		{"grantee sees its grants", catalog.GrantQuery{Agency: "agency-us"}, []string{GrantID(3), GrantID(1), GrantID(2), GrantID(4)}},
		{"owner sees every grant of its exhibits", catalog.GrantQuery{Agency: "agency-nl"}, []string{GrantID(3), GrantID(1), GrantID(2), GrantID(4), GrantID(5)}},
		{"stranger sees none", catalog.GrantQuery{Agency: "agency-de"}, nil},
		{"open", catalog.GrantQuery{Agency: "agency-us", Open: true, Now: now}, []string{GrantID(1), GrantID(2)}},
		{"awaiting acceptance", catalog.GrantQuery{Agency: "agency-us", Open: true, Unaccepted: true, Now: now}, []string{GrantID(1)}},
		{"to one agency", catalog.GrantQuery{Agency: "agency-nl", To: "court-nl"}, []string{GrantID(5)}},
		{"by instrument", catalog.GrantQuery{Agency: "agency-nl", Instrument: "epoc"}, []string{GrantID(5)}},
		{"by request", catalog.GrantQuery{Agency: "agency-nl", RequestID: RequestID(9)}, []string{GrantID(5)}},
		{"by case", catalog.GrantQuery{Agency: "agency-fr", CaseID: "CASE-2"}, []string{GrantID(6)}},
		{"after a key", catalog.GrantQuery{Agency: "agency-us", After: &catalog.GrantKey{Expires: now.Add(time.Hour), GrantID: GrantID(1)}},
			[]string{GrantID(2), GrantID(4)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 10
			gs, err := c.Grants(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := grantIDs(gs); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func requestIDs(rs []catalog.Request) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.RequestID)
	}
	return ids
}

func testRequestFilters(t *testing.T, c catalog.Catalog) {
	r3 := RequestSubject(3, "agency-nl", "agency-us", "eio", catalog.RequestFulfilled)
	r3.Request.Shares = []catalog.Share{{EvidenceID: ExhibitID(1), GrantID: GrantID(1)}}
	put(t, c,
		RequestSubject(1, "agency-us", "agency-nl", "epoc", catalog.RequestOpen),
		RequestSubject(2, "agency-us", "agency-nl", "epoc-pr", catalog.RequestAcknowledged),
		r3,
		RequestSubject(4, "agency-be", "agency-fr", "mlat", catalog.RequestOpen),
		RequestSubject(5, "agency-us", "agency-nl", "mlat", catalog.RequestWithdrawn),
	)
	for _, tt := range []struct {
		name string
		q    catalog.RequestQuery
		want []string
	}{
		{"both parties see a request", catalog.RequestQuery{Agency: "agency-nl"}, []string{RequestID(1), RequestID(2), RequestID(3), RequestID(5)}},
		{"stranger sees none", catalog.RequestQuery{Agency: "agency-de"}, nil},
		{"addressed to me", catalog.RequestQuery{Agency: "agency-nl", To: "agency-nl"}, []string{RequestID(1), RequestID(2), RequestID(5)}},
		{"from me", catalog.RequestQuery{Agency: "agency-nl", From: "agency-nl"}, []string{RequestID(3)}},
		{"open", catalog.RequestQuery{Agency: "agency-nl", Open: true}, []string{RequestID(1), RequestID(2)}},
		{"states", catalog.RequestQuery{Agency: "agency-nl", States: []string{catalog.RequestFulfilled, catalog.RequestWithdrawn}}, []string{RequestID(3), RequestID(5)}},
		{"instrument", catalog.RequestQuery{Agency: "agency-nl", Instrument: "epoc-pr"}, []string{RequestID(2)}},
		{"due before", catalog.RequestQuery{Agency: "agency-nl", DeadlineBefore: T0.Add(3 * time.Hour)}, []string{RequestID(1), RequestID(2)}},
		{"due after", catalog.RequestQuery{Agency: "agency-nl", DeadlineAfter: T0.Add(3 * time.Hour)}, []string{RequestID(5)}},
		{"case", catalog.RequestQuery{Agency: "agency-fr", CaseID: "CASE-R"}, []string{RequestID(4)}},
		{"ids", catalog.RequestQuery{Agency: "agency-us", IDs: []string{RequestID(4), RequestID(5)}}, []string{RequestID(5)}},
		{"after a key", catalog.RequestQuery{Agency: "agency-nl", After: &catalog.RequestKey{Deadline: T0.Add(2 * time.Hour), RequestID: RequestID(2)}},
			[]string{RequestID(3), RequestID(5)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 10
			rs, err := c.Requests(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := requestIDs(rs); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	rs, err := c.Requests(t.Context(), catalog.RequestQuery{Agency: "agency-us", IDs: []string{RequestID(3)}, Limit: 1})
	if err != nil || len(rs) != 1 || !slices.Equal(rs[0].Shares, r3.Request.Shares) {
		t.Fatalf("got %+v, %v; want request 3 with its shares", rs, err)
	}
}

func testCases(t *testing.T, c catalog.Catalog) {
	put(t, c,
		ExhibitSubject(1, "CASE-B", "agency-nl"),
		ExhibitSubject(2, "CASE-A", "agency-nl"),
		ExhibitSubject(3, "CASE-B", "agency-nl"),
		ExhibitSubject(4, "CASE-C", "agency-be", catalog.Grant{GrantID: GrantID(1), To: "agency-nl", Expires: T0}),
		ExhibitSubject(5, "CASE-D", "agency-be"),
	)
	got, err := c.Cases(t.Context(), catalog.CaseQuery{Agency: "agency-nl", Limit: 10})
	if want := []string{"CASE-A", "CASE-B", "CASE-C"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("cases: got %q, %v; want %q", got, err, want)
	}
	got, err = c.Cases(t.Context(), catalog.CaseQuery{Agency: "agency-nl", After: "CASE-A", Limit: 1})
	if want := []string{"CASE-B"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("cases after CASE-A: got %q, %v; want %q", got, err, want)
	}
}

func testIntents(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	for _, in := range []catalog.Intent{{ID: ExhibitID(1), Seq: 3, Since: T0}, {ID: ExhibitID(1), Seq: 2, Since: T0},
		{ID: RequestID(1), Seq: 0, Since: T0.Add(time.Minute)}, {ID: ExhibitID(2), Seq: 1, Since: T0.Add(time.Hour)}} {
		if err := c.Intend(ctx, in.ID, in.Seq, in.Since); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Pending(ctx, T0.Add(30*time.Minute))
	want := []catalog.Intent{{ID: ExhibitID(1), Seq: 3, Since: T0}, {ID: RequestID(1), Seq: 0, Since: T0.Add(time.Minute)}}
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Fatalf("pending (-want +got), %v:\n%s", err, diff)
	}
	// Done up to an earlier seq leaves the later intent.
	if err := c.Done(ctx, ExhibitID(1), 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Done(ctx, RequestID(1), 0); err != nil {
		t.Fatal(err)
	}
	got, err = c.Pending(ctx, T0.Add(2*time.Hour))
	want = []catalog.Intent{{ID: ExhibitID(1), Seq: 3, Since: T0}, {ID: ExhibitID(2), Seq: 1, Since: T0.Add(time.Hour)}}
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Fatalf("pending after Done (-want +got), %v:\n%s", err, diff)
	}
}

func testDeleteAndSubjects(t *testing.T, c catalog.Catalog) {
	put(t, c, ExhibitSubject(1, "CASE-1", "agency-nl", catalog.Grant{GrantID: GrantID(1), To: "agency-us", Expires: T0}),
		RequestSubject(1, "agency-us", "agency-nl", "eio", catalog.RequestOpen))
	if err := c.Delete(t.Context(), ExhibitID(1)); err != nil {
		t.Fatal(err)
	}
	ids, err := c.Subjects(t.Context())
	if want := []string{RequestID(1)}; err != nil || !slices.Equal(ids, want) {
		t.Fatalf("subjects: got %q, %v; want %q", ids, err, want)
	}
	gs, err := c.Grants(t.Context(), catalog.GrantQuery{Agency: "agency-us", Limit: 10})
	if err != nil || len(gs) != 0 {
		t.Fatalf("grants of a deleted exhibit: got %+v, %v", gs, err)
	}
}

func testLimits(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	for _, n := range []int{0, -1, catalog.MaxLimit + 1} {
		_, e1 := c.Exhibits(ctx, catalog.ExhibitQuery{Agency: "a", Limit: n})
		_, e2 := c.Grants(ctx, catalog.GrantQuery{Agency: "a", Limit: n})
		_, e3 := c.Requests(ctx, catalog.RequestQuery{Agency: "a", Limit: n})
		_, e4 := c.Cases(ctx, catalog.CaseQuery{Agency: "a", Limit: n})
		for _, err := range []error{e1, e2, e3, e4} {
			if !errors.Is(err, catalog.ErrBadQuery) {
				t.Errorf("limit %d: got %v, want ErrBadQuery", n, err)
			}
		}
	}
	if _, err := c.Exhibits(ctx, catalog.ExhibitQuery{Limit: 1}); !errors.Is(err, catalog.ErrBadQuery) {
		t.Errorf("no agency: got %v, want ErrBadQuery", err)
	}
}

func testConcurrentPuts(t *testing.T, c catalog.Catalog) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			for seq := range 8 {
				s := ExhibitSubject(i%4, "CASE-1", "agency-nl")
				s.Seq, s.Exhibit.Events = uint64(seq), seq+1
				if err := c.Put(t.Context(), s); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, s := range snapshot(t, c) {
		if s.Seq != 7 || s.Exhibit.Events != 8 {
			t.Errorf("%s: got seq %d with %d events, want the last fold (seq 7, 8 events)", s.ID, s.Seq, s.Exhibit.Events)
		}
	}
}

func testOverdue(t *testing.T, c catalog.Catalog) {
	marked := RequestSubject(2, "agency-us", "agency-nl", "epoc", catalog.RequestOpen)
	marked.Request.Overdue = true
	put(t, c,
		RequestSubject(1, "agency-us", "agency-nl", "epoc", catalog.RequestAcknowledged),
		marked,
		RequestSubject(3, "agency-us", "agency-nl", "epoc", catalog.RequestFulfilled),
		RequestSubject(4, "agency-be", "agency-fr", "eio", catalog.RequestPartiallyFulfilled),
		RequestSubject(9, "agency-us", "agency-nl", "epoc", catalog.RequestOpen),
	)
	got, err := c.Overdue(t.Context(), T0.Add(5*time.Hour), 10)
	if want := []string{RequestID(1), RequestID(4)}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("overdue: got %q, %v; want %q (open, due, not yet marked, of any agency)", got, err, want)
	}
}
