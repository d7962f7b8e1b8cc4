package policy

import (
	"io/fs"
	"slices"
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
)

// withoutGuards loads every shipped policy file but guards.cedar, through Config.Dir as
// a site would, so that each permit is evaluated with no forbid to hide behind.
func withoutGuards(t *testing.T) *Engine {
	t.Helper()
	files := map[string]string{}
	names, err := fs.Glob(defaultPolicies, "*.cedar")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name == "guards.cedar" {
			continue
		}
		src, err := fs.ReadFile(defaultPolicies, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(src)
	}
	if _, ok := files["grantee.cedar"]; !ok || len(files) != len(names)-1 {
		t.Fatalf("shipped policy files %q: want grantee.cedar and guards.cedar among them", names)
	}
	e, err := New(Config{Dir: writeDir(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	for id := range e.policies.All() {
		if p := e.policies.Get(id); p.Effect() == cedar.Forbid {
			t.Fatalf("policy %s is a forbid: want only permits without guards.cedar", id)
		}
	}
	return e
}

// TestPermitsWithoutGuards: each permit states its full condition (grantee.cedar says
// so), so that it opens no more than it says if guards.cedar is replaced or edited. The
// forbids of guards.cedar deny the same requests first, which hides a permit's own
// condition from TestDecide; here every request a forbid exists for is also refused by
// the permits alone, as a default deny.
func TestPermitsWithoutGuards(t *testing.T) {
	e := withoutGuards(t)
	limit := func(max, done int) func(*Grant) {
		return func(g *Grant) { g.MaxDownloads, g.Downloads = max, done }
	}
	viewOnly := func(g *Grant) { g.ViewOnly = true }
	tests := []struct {
		name  string
		p     Principal
		a     Action
		g     Grant
		allow bool
		ids   []string // Decision.Policies
	}{
		// grantee-download, on its own.
		{"partner download under limit", partner, ActionDownload, grant("g1", "fr-police", all(accepted, limit(3, 2))), true, []string{"grantee-download"}},
		{"partner download at limit", partner, ActionDownload, grant("g1", "fr-police", all(accepted, limit(3, 3))), false, nil},
		{"partner download over limit", partner, ActionDownload, grant("g1", "fr-police", all(accepted, limit(3, 4))), false, nil},
		{"partner download unlimited", partner, ActionDownload, grant("g1", "fr-police", all(accepted, limit(0, 1000))), true, []string{"grantee-download"}},
		{"court download at limit", court, ActionDownload, grant("g1", "fr-court", all(accepted, limit(1, 1))), false, nil},
		{"partner download not accepted", partner, ActionDownload, grant("g1", "fr-police", nil), false, nil},
		{"partner download view-only", partner, ActionDownload, grant("g1", "fr-police", all(accepted, viewOnly)), false, nil},
		{"partner download revoked", partner, ActionDownload, grant("g1", "fr-police", all(accepted, revoked)), false, nil},
		{"partner download expired", partner, ActionDownload, grant("g1", "fr-police", all(accepted, expired)), false, nil},
		{"partner download expiring now", partner, ActionDownload, grant("g1", "fr-police", all(accepted, func(g *Grant) { g.Expires = now })), false, nil},

		{"unknown role download", Principal{Agency: "fr-police", Person: "x", Role: "admin"}, ActionDownload, grant("g1", "fr-police", accepted), false, nil},

		// grantee-read and grantee-accept, on their own.
		{"partner view", partner, ActionView, grant("g1", "fr-police", nil), true, []string{"grantee-read"}},
		{"partner view revoked", partner, ActionView, grant("g1", "fr-police", all(accepted, revoked)), false, nil},
		{"partner view expired", partner, ActionView, grant("g1", "fr-police", all(accepted, expired)), false, nil},
		{"partner accept", partner, ActionAccept, grant("g1", "fr-police", nil), true, []string{"grantee-accept"}},
		{"partner repeated accept", partner, ActionAccept, grant("g1", "fr-police", accepted), false, nil},
		{"partner accept revoked", partner, ActionAccept, grant("g1", "fr-police", revoked), false, nil},
		{"partner accept expired", partner, ActionAccept, grant("g1", "fr-police", expired), false, nil},

		// court-history keeps a court's view of history after the grant ends.
		{"court view revoked and expired", court, ActionView, grant("g1", "fr-court", all(revoked, expired)), true, []string{"court-history"}},
		{"court download revoked", court, ActionDownload, grant("g1", "fr-court", all(accepted, revoked)), false, nil},
		// grantee-receive: a receipt of an earlier download, whatever the grant's state.
		{"partner receipt", partner, ActionReceive, grant("g1", "fr-police", accepted), true, []string{"grantee-receive"}},
		{"partner receipt revoked and expired", partner, ActionReceive, grant("g1", "fr-police", all(accepted, revoked, expired)), true, []string{"grantee-receive"}},
		{"receipt under another agency's grant", partner, ActionReceive, grant("g1", "fr-court", accepted), false, nil},

		// owner-dispose and court-dispose, on their own: Decide passes no authority.
		{"owner dispose without authority", owner, ActionDispose, grant("g1", "fr-police", nil), false, nil},
		{"court dispose without authority", Principal{Agency: "de-court", Jurisdiction: "DE", Person: "j", Role: "court"}, ActionDispose, grant("g1", "de-court", nil), false, nil},
		{"partner dispose", partner, ActionDispose, grant("g1", "fr-police", accepted), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE", Grants: []Grant{tt.g}}
			d := e.Decide(tt.p, tt.a, ev, now)
			if d.Allow != tt.allow || !slices.Equal(d.Policies, tt.ids) || d.Errors != nil {
				t.Errorf("got allow %v by %q (errors %q), want allow %v by %q", d.Allow, d.Policies, d.Errors, tt.allow, tt.ids)
			}
		})
	}
}

// TestGuardsSpareTheOwner: no forbid of guards.cedar applies to the owning agency, even
// when the evidence carries a grant to that agency that a forbid would stop.
func TestGuardsSpareTheOwner(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		name string
		edit func(*Grant)
	}{
		{"revoked", all(accepted, revoked)},
		{"expired", all(accepted, expired)},
		{"not accepted", nil},
		{"view-only", all(accepted, func(g *Grant) { g.ViewOnly = true })},
		{"over its limit", all(accepted, func(g *Grant) { g.MaxDownloads, g.Downloads = 1, 1 })},
	} {
		t.Run(g.name, func(t *testing.T) {
			ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE", Grants: []Grant{grant("g1", "de-bka", g.edit)}}
			d := e.Decide(owner, ActionDownload, ev, now)
			if want := []string{"owner-investigator"}; !d.Allow || !slices.Equal(d.Policies, want) {
				t.Errorf("owner download with a grant to its own agency %s: got allow %v by %q, want allow by %q", g.name, d.Allow, d.Policies, want)
			}
		})
	}
}

// TestPermitsCheckTheGrantee: Decide passes the policies only grants to the principal's
// agency, and each grantee permit checks it again, so that a policy never relies on the
// Go side for who a grant is to. Here the policies are given a grant to another agency.
func TestPermitsCheckTheGrantee(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE"}
	tests := []struct {
		name string
		p    Principal
		a    Action
		g    Grant
	}{
		{"grantee-read", partner, ActionView, grant("g1", "fr-court", accepted)},
		{"grantee-accept", partner, ActionAccept, grant("g1", "fr-court", nil)},
		{"grantee-download", partner, ActionDownload, grant("g1", "fr-court", accepted)},
		{"court-history", court, ActionBundle, grant("g1", "fr-police", accepted)},
		{"court-dispose", Principal{Agency: "de-court", Jurisdiction: "DE", Person: "judge", Role: "court"}, ActionDispose, grant("g1", "fr-police", accepted)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.decide(tt.p, tt.a, ev, []Grant{tt.g}, now, "court order 17")
			if d.Allow || d.Errors != nil {
				t.Errorf("%s under a grant to %s: got allow %v by %q (errors %q), want a denial", tt.p.Agency, tt.g.To, d.Allow, d.Policies, d.Errors)
			}
		})
	}
}

// TestDisposalPermitsWithoutGuards: owner-dispose and court-dispose, evaluated without
// guards.cedar under a named authority, each allow only what they say.
func TestDisposalPermitsWithoutGuards(t *testing.T) {
	e := withoutGuards(t)
	const order = "court order 17"
	deCourt := Principal{Agency: "de-court", Jurisdiction: "DE", Person: "judge", Role: "court"}
	deInvestigator := Principal{Agency: "de-lka", Jurisdiction: "DE", Person: "lena", Role: "investigator"}
	ownerCourt := Principal{Agency: "de-bka", Jurisdiction: "DE", Person: "j", Role: "court"}
	tests := []struct {
		name      string
		p         Principal
		g         *Grant
		authority string
		allow     bool
	}{
		{"owner", owner, nil, order, true},
		{"owner without authority", owner, nil, "", false},
		{"another agency's investigator", stranger, nil, order, false},
		{"a court of the owner agency without a grant", ownerCourt, nil, order, false},
		{"court of the jurisdiction", deCourt, &Grant{ID: "g1", To: "de-court", Expires: now.Add(time.Hour)}, order, true},
		{"court of the jurisdiction without authority", deCourt, &Grant{ID: "g1", To: "de-court", Expires: now.Add(time.Hour)}, "", false},
		{"court of the jurisdiction without a grant", deCourt, nil, order, false},
		{"court of another jurisdiction", court, &Grant{ID: "g1", To: "fr-court", Expires: now.Add(time.Hour)}, order, false},
		{"investigator of the jurisdiction with a grant", deInvestigator, &Grant{ID: "g1", To: "de-lka", Expires: now.Add(time.Hour)}, order, false},
	}
	for _, tt := range tests {
		ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE"}
		if tt.g != nil {
			ev.Grants = []Grant{*tt.g}
		}
		if d := e.DecideDisposal(tt.p, ev, tt.authority, now); d.Allow != tt.allow || d.Errors != nil {
			t.Errorf("%s: got allow %v by %q (errors %q), want allow %v", tt.name, d.Allow, d.Policies, d.Errors, tt.allow)
		}
	}
	// court-dispose checks the grantee itself.
	ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE"}
	if d := e.decide(deCourt, ActionDispose, ev, []Grant{{ID: "g1", To: "fr-police", Expires: now.Add(time.Hour)}}, now, order); d.Allow {
		t.Errorf("a court of the jurisdiction under a grant to another agency: allowed by %q", d.Policies)
	}
}
