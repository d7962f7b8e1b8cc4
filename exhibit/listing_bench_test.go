package exhibit_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/catalog/sqlcatalog"
	"github.com/evidencegw/evidencegw/catalog/sqlite"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// The catalog benchmark: 100,000 rows over 1,000 cases, on the embedded default
// (SQLite), each listing measured twice in the same run: the catalog's query alone (the
// baseline) and the use case that filters it through the Cedar policies.
//
//	go test -run '^$' -bench CatalogListings -benchtime 400x ./exhibit
//
// Per case, owned by one of 10 agencies: 60 exhibits, 30 grants (to the next agency,
// half of them accepted, every tenth revoked) and 10 requests (from the next agency),
// so 100 rows a case. Each sub-benchmark reports p50-ms and p99-ms of its queries.
const (
	benchCases            = 1000
	benchAgencies         = 10
	benchExhibitsPerCase  = 60
	benchGrantsPerCase    = 30
	benchRequestsPerCase  = 10
	benchPageSize         = 50
	benchInboxPerPart     = 20
	benchRowsPerCaseTotal = benchExhibitsPerCase + benchGrantsPerCase + benchRequestsPerCase
)

func benchAgency(i int) string { return fmt.Sprintf("agency-%02d", i%benchAgencies) }

func benchCase(i int) string { return fmt.Sprintf("CASE-%04d", i) }

// seedCatalog writes the benchmark's rows into a fresh SQLite catalog.
func seedCatalog(b *testing.B, now time.Time) *sqlcatalog.Catalog {
	b.Helper()
	c, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	// One transaction per subject is what the gateway does; seeding 70,000 of them
	// takes a while, so the rows go in through the same Put.
	ev, rq, gr := 0, 0, 0
	for cs := range benchCases {
		owner, partner := benchAgency(cs), benchAgency(cs+1)
		for e := range benchExhibitsPerCase {
			ev++
			id := fmt.Sprintf("ev-%026d", ev)
			at := now.Add(-time.Duration(benchCases*benchExhibitsPerCase-ev) * time.Second)
			sub := catalog.Subject{ID: id, Exhibit: &catalog.Exhibit{EvidenceID: id, CaseID: benchCase(cs), Owner: owner,
				Jurisdiction: "NL", Description: "bench exhibit", SHA256: fmt.Sprintf("%064x", ev), Size: 1 << 20,
				RegisteredAt: at, Events: 1, UpdatedAt: at}}
			if e < benchGrantsPerCase {
				gr++
				g := catalog.Grant{GrantID: fmt.Sprintf("gr-%016d", gr), EvidenceID: id, CaseID: benchCase(cs), Owner: owner,
					To: partner, LegalBasis: "MLAT bench", GrantedAt: at, Expires: now.Add(30 * 24 * time.Hour),
					Accepted: e%2 == 0, Revoked: e%10 == 9}
				if e%3 == 0 {
					g.Instrument, g.RequestID = "epoc", fmt.Sprintf("rq-%026d", rq+1)
				}
				sub.Grants, sub.Seq, sub.Exhibit.Events = []catalog.Grant{g}, 1, 2
			}
			if err := c.Put(b.Context(), sub); err != nil {
				b.Fatal(err)
			}
		}
		for r := range benchRequestsPerCase {
			rq++
			id := fmt.Sprintf("rq-%026d", rq)
			state := []string{catalog.RequestOpen, catalog.RequestAcknowledged, catalog.RequestFulfilled, catalog.RequestRefused}[r%4]
			sub := catalog.Subject{ID: id, Request: &catalog.Request{RequestID: id, CaseID: benchCase(cs), From: partner, To: owner,
				Instrument: "epoc", Reference: "REF", IssuingAuthority: "prosecutor", Sought: "records",
				Deadline: now.Add(time.Duration(rq%500) * time.Hour), State: state, FiledAt: now, UpdatedAt: now, Events: 1}}
			if err := c.Put(b.Context(), sub); err != nil {
				b.Fatal(err)
			}
		}
	}
	return c
}

// latencies runs f once per iteration of b, timing each run, and reports the
// percentiles.
func latencies(b *testing.B, f func() int) {
	b.Helper()
	var ds []time.Duration
	rows := 0
	for b.Loop() {
		start := time.Now()
		rows = f()
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(rows), "rows")
}

func BenchmarkCatalogListings(b *testing.B) {
	env := exhibittest.New(b, exhibittest.Options{})
	now := env.Clock.Now()
	cat := seedCatalog(b, now)
	svc := env.ReplicaWith(b, func(c *exhibit.Config) { c.Catalog = cat })
	ctx := b.Context()
	owner := exhibit.Principal{Agency: benchAgency(3), Person: "owner", Role: exhibit.RoleInvestigator}
	partner := exhibit.Principal{Agency: benchAgency(4), Person: "partner", Role: exhibit.RoleInvestigator}
	caseOf3 := benchCase(503) // owned by agency-03, shared with agency-04
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}

	b.Run("case-exhibits/catalog-only", func(b *testing.B) {
		latencies(b, func() int {
			rows, err := cat.Exhibits(ctx, catalog.ExhibitQuery{Agency: owner.Agency, CaseID: caseOf3, Limit: benchPageSize})
			check(err)
			return len(rows)
		})
	})
	b.Run("case-exhibits/policies/owner", func(b *testing.B) {
		latencies(b, func() int {
			p, err := svc.CaseExhibits(ctx, owner, caseOf3, exhibit.Page{Limit: benchPageSize})
			check(err)
			return len(p.Exhibits)
		})
	})
	b.Run("case-exhibits/policies/partner", func(b *testing.B) {
		latencies(b, func() int {
			p, err := svc.CaseExhibits(ctx, partner, caseOf3, exhibit.Page{Limit: benchPageSize})
			check(err)
			return len(p.Exhibits)
		})
	})
	b.Run("inbox/catalog-only", func(b *testing.B) {
		latencies(b, func() int {
			rs, err := cat.Requests(ctx, catalog.RequestQuery{Agency: owner.Agency, To: owner.Agency, Open: true, Limit: benchInboxPerPart})
			check(err)
			aw, err := cat.Grants(ctx, catalog.GrantQuery{Agency: owner.Agency, To: owner.Agency, Open: true, Unaccepted: true, Now: now, Limit: benchInboxPerPart})
			check(err)
			ac, err := cat.Grants(ctx, catalog.GrantQuery{Agency: owner.Agency, To: owner.Agency, Open: true, Now: now, Limit: benchInboxPerPart})
			check(err)
			dl, err := cat.Requests(ctx, catalog.RequestQuery{Agency: owner.Agency, Open: true, Limit: benchInboxPerPart})
			check(err)
			return len(rs) + len(aw) + len(ac) + len(dl)
		})
	})
	b.Run("inbox/policies", func(b *testing.B) {
		latencies(b, func() int {
			in, err := svc.Inbox(ctx, owner, benchInboxPerPart)
			check(err)
			return len(in.Requests.Requests) + len(in.AwaitingAcceptance.Grants) + len(in.ActiveGrants.Grants) + len(in.Deadlines.Requests)
		})
	})
	b.Run("case-view/policies", func(b *testing.B) {
		latencies(b, func() int {
			v, err := svc.Case(ctx, owner, caseOf3)
			check(err)
			return v.Exhibits
		})
	})
}
