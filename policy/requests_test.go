package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecideRequest(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The requester is fr-police, the addressee de-bka (the owner of the exhibits).
	base := Request{ID: "rq-1", From: "fr-police", To: "de-bka", Instrument: "epoc", Deadline: now.Add(240 * time.Hour), State: "open"}
	emergency := func(in string, after time.Duration) Request {
		r := base
		r.Instrument, r.Emergency, r.Deadline = in, true, now.Add(after)
		return r
	}
	frCourt := Principal{Agency: "fr-police", Person: "judge", Role: "court"}
	tests := []struct {
		name    string
		p       Principal
		a       Action
		r       Request
		allow   bool
		visible bool
		ids     []string
	}{
		{"requester files", partner, ActionFileRequest, base, true, true, []string{"request-file"}},
		{"addressee cannot file in the requester's name", owner, ActionFileRequest, base, false, true, nil},
		{"court cannot file", frCourt, ActionFileRequest, base, false, true, nil},
		{"requester reads", partner, ActionViewRequest, base, true, true, []string{"request-parties-read"}},
		{"addressee reads", owner, ActionViewRequest, base, true, true, []string{"request-parties-read"}},
		{"addressee bundles", owner, ActionBundleRequest, base, true, true, []string{"request-parties-read"}},
		{"stranger sees nothing", stranger, ActionViewRequest, base, false, false, nil},
		{"stranger cannot answer", stranger, ActionRespondRequest, base, false, false, nil},
		{"addressee acknowledges", owner, ActionAcknowledgeRequest, base, true, true, []string{"request-addressee-answer"}},
		{"addressee answers", owner, ActionRespondRequest, base, true, true, []string{"request-addressee-answer"}},
		{"requester cannot answer its own request", partner, ActionRespondRequest, base, false, true, nil},
		{"requester withdraws", partner, ActionWithdrawRequest, base, true, true, []string{"request-requester-withdraw"}},
		{"addressee cannot withdraw", owner, ActionWithdrawRequest, base, false, true, nil},
		{"emergency within 8 hours", partner, ActionFileRequest, emergency("epoc", 8*time.Hour), true, true, []string{"request-file"}},
		{"emergency due later than 8 hours", partner, ActionFileRequest, emergency("epoc", 9*time.Hour), false, true,
			[]string{"forbid-emergency-deadline-too-late"}},
		{"emergency preservation order", partner, ActionFileRequest, emergency("epoc-pr", time.Hour), false, true,
			[]string{"forbid-emergency-without-procedure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.DecideRequest(tt.p, tt.a, tt.r, now)
			if d.Allow != tt.allow || d.Visible != tt.visible || !slices.Equal(d.Policies, tt.ids) || len(d.Errors) > 0 {
				t.Errorf("got allow %v visible %v policies %q errors %q, want %v %v %q", d.Allow, d.Visible, d.Policies, d.Errors,
					tt.allow, tt.visible, tt.ids)
			}
		})
	}
}

// TestUnknownInstrumentFailsClosed: an emergency request under an instrument the table
// does not know is refused by the evaluation error, not allowed by the permit.
func TestUnknownInstrumentFailsClosed(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := Request{ID: "rq-1", From: "fr-police", To: "de-bka", Instrument: "no-such", Emergency: true, Deadline: now.Add(time.Hour)}
	if d := e.DecideRequest(partner, ActionFileRequest, r, now); d.Allow || len(d.Errors) == 0 {
		t.Fatalf("got allow %v errors %q, want a denial by evaluation error", d.Allow, d.Errors)
	}
}

// TestDownloadUnderInstrument: a grant made under a preservation order never releases
// content; the same grant under a production order does.
func TestDownloadUnderInstrument(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		instrument string
		allow      bool
		ids        []string
	}{
		{"epoc", true, []string{"grantee-download"}},
		{"", true, []string{"grantee-download"}},
		{"epoc-pr", false, []string{"forbid-download-instrument"}},
	} {
		g := grant("g1", "fr-police", func(g *Grant) { g.Accepted, g.Instrument = true, tt.instrument })
		d := e.Decide(partner, ActionDownload, Evidence{ID: "ev-1", Owner: "de-bka", Grants: []Grant{g}}, now)
		if d.Allow != tt.allow || !slices.Equal(d.Policies, tt.ids) {
			t.Errorf("instrument %q: got allow %v policies %q, want %v %q", tt.instrument, d.Allow, d.Policies, tt.allow, tt.ids)
		}
		// Viewing is not affected.
		if d := e.Decide(partner, ActionView, Evidence{ID: "ev-1", Owner: "de-bka", Grants: []Grant{g}}, now); !d.Allow {
			t.Errorf("instrument %q: view refused: %q %q", tt.instrument, d.Policies, d.Errors)
		}
	}
}

func TestShippedInstruments(t *testing.T) {
	ins, err := LoadInstruments("")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eio", "mlat", "epoc", "epoc-pr", "budapest-2ap-art7", "budapest-2ap-art8", "budapest-2ap-art9", "budapest-2ap-art10"}
	if got := ins.IDs(); !slices.Equal(got, want) {
		t.Fatalf("instrument ids: got %q, want %q", got, want)
	}
	epoc, _ := ins.Get("epoc")
	if epoc.Deadline != 10*24*time.Hour || epoc.EmergencyDeadline != 8*time.Hour || !epoc.AllowsDownload {
		t.Errorf("epoc: got %+v, want 10 days, 8 hours in an emergency, download allowed", epoc)
	}
	pr, _ := ins.Get("epoc-pr")
	if pr.AllowsDownload || pr.EmergencyDeadline != 0 || pr.Kind != "preservation" {
		t.Errorf("epoc-pr: got %+v, want a preservation order with no download and no emergency procedure", pr)
	}
	// docs/exchange.md documents every instrument of the table.
	doc, err := os.ReadFile(filepath.Join("..", "docs", "exchange.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins.All() {
		if !strings.Contains(string(doc), "| `"+in.ID+"` |") {
			t.Errorf("docs/exchange.md has no row for instrument %s", in.ID)
		}
	}
}

func TestLoadInstrumentsRefuses(t *testing.T) {
	const head = `{"media_type": "application/vnd.evidencegw.instruments.v1+json", "instruments": [`
	const ok = `{"id": "x", "name": "X", "law": "L", "kind": "production", "deadline": "24h", "deadline_source": "",
	  "emergency_deadline": "", "emergency_source": "", "allows_download": true, "grant_days": 1}`
	tests := []struct{ name, file, want string }{
		{"unknown field", head + strings.Replace(ok, `"law"`, `"lawx": 1, "law"`, 1) + "]}", "unknown field"},
		{"duplicate", head + ok + "," + ok + "]}", `instrument "x" listed twice`},
		{"bad id", head + strings.Replace(ok, `"x"`, `"X Y"`, 1) + "]}", "id must be"},
		{"bad deadline", head + strings.Replace(ok, `"24h"`, `"ten days"`, 1) + "]}", "deadline"},
		{"emergency longer than deadline", head + strings.Replace(ok, `"emergency_deadline": ""`, `"emergency_deadline": "48h"`, 1) + "]}", "emergency_deadline"},
		{"bad kind", head + strings.Replace(ok, `"production"`, `"seizure"`, 1) + "]}", "kind"},
		{"empty", head + "]}", "no instrument"},
		{"wrong media type", `{"media_type": "x", "instruments": []}`, "media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "instruments.json")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadInstruments(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
