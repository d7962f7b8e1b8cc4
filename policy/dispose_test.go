package policy

import (
	"slices"
	"strings"
	"testing"
)

// TestDecideDisposal: the owner's investigators and the courts of the evidence's
// jurisdiction dispose of it under a named authority; every denial a caller who knows
// the evidence gets says what is missing.
func TestDecideDisposal(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	deCourt := Principal{Agency: "de-court", Jurisdiction: "DE", Person: "judge", Role: "court"}
	const order = "order of the Landgericht Köln, 2031-17"
	tests := []struct {
		name      string
		p         Principal
		grants    []Grant
		authority string
		allow     bool
		visible   bool
		ids       []string
		reason    string // a substring of the reasons of a denial
	}{
		{"owner under a court order", owner, nil, order, true, true, []string{"owner-dispose"}, ""},
		{"owner without an authority", owner, nil, "", false, true, []string{"forbid-dispose-without-authority"}, "name the authority"},
		{"court of the jurisdiction with a grant", deCourt, []Grant{grant("g1", "de-court", nil)}, order, true, true, []string{"court-dispose"}, ""},
		{"court of the jurisdiction with an expired, revoked grant", deCourt, []Grant{grant("g1", "de-court", all(expired, revoked))}, order, true, true, []string{"court-dispose"}, ""},
		{"court of the jurisdiction without an authority", deCourt, []Grant{grant("g1", "de-court", nil)}, "", false, true, []string{"forbid-dispose-without-authority"}, "authority"},
		{"court of another jurisdiction", court, []Grant{grant("g1", "fr-court", accepted)}, order, false, true, []string{"forbid-dispose-by-others"}, "court of the evidence's jurisdiction"},
		{"partner with an accepted grant", partner, []Grant{grant("g1", "fr-police", accepted)}, order, false, true, []string{"forbid-dispose-by-others"}, "investigator of the owning agency"},
		{"court of the jurisdiction never granted anything", deCourt, nil, order, false, false, nil, ""},
		{"stranger", stranger, nil, order, false, false, []string{"forbid-dispose-by-others"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE", Grants: tt.grants}
			d := e.DecideDisposal(tt.p, ev, tt.authority, now)
			if d.Allow != tt.allow || d.Visible != tt.visible || !slices.Equal(d.Policies, tt.ids) || d.Errors != nil {
				t.Errorf("got allow %v visible %v by %q (errors %q), want allow %v visible %v by %q",
					d.Allow, d.Visible, d.Policies, d.Errors, tt.allow, tt.visible, tt.ids)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(d.Reasons, "; "), tt.reason) {
				t.Errorf("reasons %q do not say %q", d.Reasons, tt.reason)
			}
			if tt.allow && len(d.Reasons) != 0 {
				t.Errorf("an allowed disposal has reasons %q", d.Reasons)
			}
		})
	}
	// Decide, which passes no authority, never allows a disposal.
	if d := e.Decide(owner, ActionDispose, Evidence{ID: "ev-1", Owner: "de-bka", Jurisdiction: "DE"}, now); d.Allow {
		t.Errorf("Decide(dispose) without an authority allowed by %q", d.Policies)
	}
}
