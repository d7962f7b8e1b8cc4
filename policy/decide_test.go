package policy

import (
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	owner    = Principal{Agency: "de-bka", Jurisdiction: "DE", Person: "anna", Role: "investigator"}
	partner  = Principal{Agency: "fr-police", Jurisdiction: "FR", Person: "paul", Role: "investigator"}
	court    = Principal{Agency: "fr-court", Jurisdiction: "FR", Person: "judge", Role: "court"}
	stranger = Principal{Agency: "nl-politie", Jurisdiction: "NL", Person: "nina", Role: "investigator"}
)

// grant returns an active, unaccepted grant to agency; edit applies changes.
func grant(id, agency string, edit func(*Grant)) Grant {
	g := Grant{ID: id, To: agency, Expires: now.Add(24 * time.Hour)}
	if edit != nil {
		edit(&g)
	}
	return g
}

var (
	accepted = func(g *Grant) { g.Accepted = true }
	revoked  = func(g *Grant) { g.Revoked = true }
	expired  = func(g *Grant) { g.Expires = now.Add(-time.Second) }
)

func all(edits ...func(*Grant)) func(*Grant) {
	return func(g *Grant) {
		for _, e := range edits {
			e(g)
		}
	}
}

func TestDecide(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       Principal
		a       Action
		grants  []Grant
		allow   bool
		visible bool
		ids     []string // Decision.Policies
		grantID string   // Decision.Grant.ID, "" for nil
	}{
		// The owning agency.
		{"owner view", owner, ActionView, nil, true, true, []string{"owner-investigator"}, ""},
		{"owner bundle", owner, ActionBundle, nil, true, true, []string{"owner-investigator"}, ""},
		{"owner share", owner, ActionShare, nil, true, true, []string{"owner-investigator"}, ""},
		{"owner revoke", owner, ActionRevoke, nil, true, true, []string{"owner-investigator"}, ""},
		{"owner download", owner, ActionDownload, nil, true, true, []string{"owner-investigator"}, ""},
		{"owner download with grants to others", owner, ActionDownload,
			[]Grant{grant("g1", "fr-police", revoked)}, true, true, []string{"owner-investigator"}, ""},
		{"owner registers", owner, ActionRegister, nil, true, true, []string{"owner-investigator"}, ""},
		{"owner holds", owner, ActionHold, nil, true, true, []string{"owner-investigator"}, ""},
		{"partner cannot hold", partner, ActionHold, []Grant{grant("g1", "fr-police", accepted)}, false, true, nil, ""},
		{"court cannot hold", court, ActionHold, []Grant{grant("g1", "fr-court", nil)}, false, true, nil, ""},
		{"owner cannot accept", owner, ActionAccept, nil, false, true, nil, ""},
		{"owner unknown action", owner, "delete", nil, false, true, nil, ""},
		{"owner agency court role", Principal{Agency: "de-bka", Role: "court"}, ActionView, nil, false, true, nil, ""},

		// A partner before accepting.
		{"partner view before accept", partner, ActionView,
			[]Grant{grant("g1", "fr-police", nil)}, true, true, []string{"grantee-read"}, "g1"},
		{"partner cannot bundle", partner, ActionBundle,
			[]Grant{grant("g1", "fr-police", accepted)}, false, true, nil, ""},
		{"partner accept", partner, ActionAccept,
			[]Grant{grant("g1", "fr-police", nil)}, true, true, []string{"grantee-accept"}, "g1"},
		{"partner download before accept", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", nil)}, false, true, []string{"forbid-download-not-accepted"}, ""},
		{"partner cannot share", partner, ActionShare,
			[]Grant{grant("g1", "fr-police", accepted)}, false, true, nil, ""},
		{"partner cannot revoke", partner, ActionRevoke,
			[]Grant{grant("g1", "fr-police", accepted)}, false, true, nil, ""},

		// A partner after accepting.
		{"partner repeated accept", partner, ActionAccept,
			[]Grant{grant("g1", "fr-police", accepted)}, false, true, []string{"forbid-repeated-accept"}, ""},
		{"partner download", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", accepted)}, true, true, []string{"grantee-download"}, "g1"},
		{"partner download under limit", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.MaxDownloads, g.Downloads = 3, 2 }))},
			true, true, []string{"grantee-download"}, "g1"},
		{"partner download over limit", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.MaxDownloads, g.Downloads = 3, 3 }))},
			false, true, []string{"forbid-download-limit"}, ""},
		{"partner download with the limit held by transfers under way", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.MaxDownloads, g.Downloads, g.Reserved = 3, 1, 2 }))},
			false, true, []string{"forbid-download-limit"}, ""},
		{"partner download beside a transfer under way", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.MaxDownloads, g.Downloads, g.Reserved = 3, 1, 1 }))},
			true, true, []string{"grantee-download"}, "g1"},
		{"partner download unlimited", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.Downloads = 1000 }))},
			true, true, []string{"grantee-download"}, "g1"},
		{"partner download view-only", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.ViewOnly = true }))},
			false, true, []string{"forbid-download-view-only"}, ""},
		{"partner view view-only", partner, ActionView,
			[]Grant{grant("g1", "fr-police", all(accepted, func(g *Grant) { g.ViewOnly = true }))},
			true, true, []string{"grantee-read"}, "g1"},

		// Expired and revoked grants.
		{"partner view expired", partner, ActionView,
			[]Grant{grant("g1", "fr-police", all(accepted, expired))}, false, true, []string{"forbid-expired-grant"}, ""},
		{"partner view expiring now", partner, ActionView,
			[]Grant{grant("g1", "fr-police", func(g *Grant) { g.Expires = now })}, false, true, []string{"forbid-expired-grant"}, ""},
		{"partner view zero expiry", partner, ActionView,
			[]Grant{grant("g1", "fr-police", func(g *Grant) { g.Expires = time.Time{} })}, false, true, []string{"forbid-expired-grant"}, ""},
		{"partner accept expired", partner, ActionAccept,
			[]Grant{grant("g1", "fr-police", expired)}, false, true, []string{"forbid-expired-grant"}, ""},
		{"partner download expired", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, expired))}, false, true, []string{"forbid-expired-grant"}, ""},
		{"partner view revoked", partner, ActionView,
			[]Grant{grant("g1", "fr-police", all(accepted, revoked))}, false, true, []string{"forbid-revoked-grant"}, ""},
		{"partner accept revoked", partner, ActionAccept,
			[]Grant{grant("g1", "fr-police", revoked)}, false, true, []string{"forbid-revoked-grant"}, ""},
		{"partner download revoked", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, revoked))}, false, true, []string{"forbid-revoked-grant"}, ""},
		{"partner download revoked and expired", partner, ActionDownload,
			[]Grant{grant("g1", "fr-police", all(accepted, revoked, expired))},
			false, true, []string{"forbid-expired-grant", "forbid-revoked-grant"}, ""},

		// Several grants to the same agency: any one that allows is enough.
		{"partner download new grant after revoked one", partner, ActionDownload,
			[]Grant{grant("old", "fr-police", all(accepted, revoked)), grant("new", "fr-police", accepted)},
			true, true, []string{"grantee-download"}, "new"},
		{"partner accept second active grant", partner, ActionAccept,
			[]Grant{grant("g1", "fr-police", accepted), grant("g2", "fr-police", nil)},
			true, true, []string{"grantee-accept"}, "g2"},
		{"partner denial reports active grant", partner, ActionDownload,
			[]Grant{grant("old", "fr-police", all(accepted, expired)), grant("new", "fr-police", nil)},
			false, true, []string{"forbid-download-not-accepted"}, ""},
		{"partner grant to another agency", partner, ActionView,
			[]Grant{grant("g1", "fr-court", accepted)}, false, false, nil, ""},
		{"partner unknown role", Principal{Agency: "fr-police", Role: "admin"}, ActionView,
			[]Grant{grant("g1", "fr-police", accepted)}, false, true, nil, ""},

		// Courts.
		{"court view active", court, ActionView,
			[]Grant{grant("g1", "fr-court", nil)}, true, true, []string{"court-history"}, "g1"},
		{"court view revoked", court, ActionView,
			[]Grant{grant("g1", "fr-court", all(accepted, revoked))}, true, true, []string{"court-history"}, "g1"},
		{"court bundle expired", court, ActionBundle,
			[]Grant{grant("g1", "fr-court", all(accepted, expired))}, true, true, []string{"court-history"}, "g1"},
		{"court bundle revoked and expired", court, ActionBundle,
			[]Grant{grant("g1", "fr-court", all(revoked, expired))}, true, true, []string{"court-history"}, "g1"},
		{"court download", court, ActionDownload,
			[]Grant{grant("g1", "fr-court", accepted)}, true, true, []string{"grantee-download"}, "g1"},
		{"court download not accepted", court, ActionDownload,
			[]Grant{grant("g1", "fr-court", nil)}, false, true, []string{"forbid-download-not-accepted"}, ""},
		{"court download revoked", court, ActionDownload,
			[]Grant{grant("g1", "fr-court", all(accepted, revoked))}, false, true, []string{"forbid-revoked-grant"}, ""},
		{"court download expired", court, ActionDownload,
			[]Grant{grant("g1", "fr-court", all(accepted, expired))}, false, true, []string{"forbid-expired-grant"}, ""},
		{"court download over limit", court, ActionDownload,
			[]Grant{grant("g1", "fr-court", all(accepted, func(g *Grant) { g.MaxDownloads, g.Downloads = 1, 1 }))},
			false, true, []string{"forbid-download-limit"}, ""},
		{"court download view-only", court, ActionDownload,
			[]Grant{grant("g1", "fr-court", all(accepted, func(g *Grant) { g.ViewOnly = true }))},
			false, true, []string{"forbid-download-view-only"}, ""},
		{"court cannot accept", court, ActionAccept,
			[]Grant{grant("g1", "fr-court", nil)}, false, true, nil, ""},
		{"court cannot share", court, ActionShare,
			[]Grant{grant("g1", "fr-court", accepted)}, false, true, nil, ""},
		{"court without grant", court, ActionView, nil, false, false, nil, ""},
		{"court with grant to partner only", court, ActionBundle,
			[]Grant{grant("g1", "fr-police", nil)}, false, false, nil, ""},

		// Anybody else learns nothing.
		{"stranger view", stranger, ActionView,
			[]Grant{grant("g1", "fr-police", accepted)}, false, false, nil, ""},
		{"stranger download", stranger, ActionDownload, nil, false, false, nil, ""},
		{"stranger accept", stranger, ActionAccept,
			[]Grant{grant("g1", "fr-police", nil)}, false, false, nil, ""},
		{"stranger share", stranger, ActionShare, nil, false, false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE", Grants: tt.grants}
			d := e.Decide(tt.p, tt.a, ev, now)
			if d.Allow != tt.allow {
				t.Errorf("Allow: got %v, want %v", d.Allow, tt.allow)
			}
			if d.Visible != tt.visible {
				t.Errorf("Visible: got %v, want %v", d.Visible, tt.visible)
			}
			if !slices.Equal(d.Policies, tt.ids) {
				t.Errorf("Policies: got %q, want %q", d.Policies, tt.ids)
			}
			gotGrant := ""
			if d.Grant != nil {
				gotGrant = d.Grant.ID
			}
			if gotGrant != tt.grantID {
				t.Errorf("Grant: got %q, want %q", gotGrant, tt.grantID)
			}
			if d.Errors != nil {
				t.Errorf("Errors: got %q, want none", d.Errors)
			}
		})
	}
}

func TestDecideGrantIsACopy(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ev := Evidence{ID: "ev-1", Owner: "de-bka", Grants: []Grant{grant("g1", "fr-police", accepted)}}
	d := e.Decide(partner, ActionDownload, ev, now)
	if d.Grant == nil {
		t.Fatalf("Grant: got nil, want g1")
	}
	d.Grant.Downloads = 99
	if got := ev.Grants[0].Downloads; got != 0 {
		t.Errorf("caller's grant Downloads: got %d, want 0", got)
	}
}

func TestDecideMissingAgency(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Principal
		ev   Evidence
	}{
		{"neither", Principal{Role: "investigator"}, Evidence{ID: "ev-1"}},
		{"no principal agency", Principal{Role: "investigator"}, Evidence{ID: "ev-1", Owner: "de-bka"}},
		{"no evidence owner", owner, Evidence{ID: "ev-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Decide(tt.p, ActionView, tt.ev, now)
			if d.Allow || d.Visible {
				t.Errorf("Allow, Visible: got %v, %v, want false, false", d.Allow, d.Visible)
			}
			if len(d.Errors) == 0 {
				t.Errorf("Errors: got none, want one")
			}
		})
	}
}

// TestDecideGrant: a partner holding two active grants accepts the one it names, not
// the first one Decide would pick.
func TestDecideGrant(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	grants := []Grant{grant("g1", "fr-police", nil), grant("g2", "fr-police", nil), grant("g3", "fr-court", nil)}
	ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE", Grants: grants}
	tests := []struct {
		name    string
		p       Principal
		grantID string
		allow   bool
		visible bool
		want    string // Decision.Grant.ID
	}{
		{"first grant", partner, "g1", true, true, "g1"},
		{"second grant", partner, "g2", true, true, "g2"},
		{"another agency's grant", partner, "g3", false, true, ""},
		{"no such grant", partner, "g9", false, true, ""},
		{"stranger", stranger, "g1", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.DecideGrant(tt.p, ActionAccept, ev, tt.grantID, now)
			got := ""
			if d.Grant != nil {
				got = d.Grant.ID
			}
			if d.Allow != tt.allow || d.Visible != tt.visible || got != tt.want {
				t.Errorf("got allow %v, visible %v, grant %q; want %v, %v, %q", d.Allow, d.Visible, got, tt.allow, tt.visible, tt.want)
			}
		})
	}
	if d := e.Decide(partner, ActionAccept, ev, now); d.Grant == nil || d.Grant.ID != "g1" {
		t.Errorf("Decide picks %+v, want g1 (the first active grant)", d.Grant)
	}
}
