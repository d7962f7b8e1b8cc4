package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exchange runs the request flow through the CLI on g: a request under an EPOC, its
// answer with an exhibit, the listings of each party, the refusals, and a third agency
// that lists none of it.
func exchange(t *testing.T, g *gateway) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "phone.img")
	os.WriteFile(file, []byte("the phone image"), 0o600)
	phone := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-EXCHANGE", "--json", file), "evidence_id")
	req := strings.TrimSpace(g.must("partner-us", "request", "-q", "--to", "agency-nl", "--instrument", "epoc",
		"--reference", "US-E2E-1", "--issuing-authority", "US Attorney", "--sought", "the phone image"))

	// The real stack's catalog is shared with the other tests of the run (and of earlier
	// runs on a development machine): ask for the largest page of each part.
	if in := g.must("investigator-nl", "inbox", "--json", "--limit", "500"); !strings.Contains(in, req) {
		t.Fatalf("the addressee's inbox lacks %s:\n%s", req, in)
	}
	g.must("investigator-nl", "acknowledge", req)
	out := g.must("investigator-nl", "respond", req, "--share", phone, "--json")
	if !strings.Contains(out, `"state": "fulfilled"`) || !strings.Contains(out, `"instrument": "epoc"`) {
		t.Fatalf("the answer: %s", out)
	}
	g.fails("investigator-nl", exitFailed, "the request is already fulfilled (HTTP 409)", "respond", req, "--refuse", "--reason", "again")
	g.fails("partner-us", exitFailed, "unknown instrument", "request", "--to", "agency-nl", "--instrument", "fax",
		"--reference", "R", "--issuing-authority", "A", "--sought", "S")
	g.fails("partner-us", exitFailed, "unknown agency", "request", "--to", "agency-zz", "--instrument", "eio",
		"--reference", "R", "--issuing-authority", "A", "--sought", "S")
	g.fails("court-nl", exitFailed, "no such request", "respond", req, "--refuse", "--reason", "not mine")

	if in := g.must("partner-us", "inbox", "--json", "--limit", "500"); !strings.Contains(in, phone) || !strings.Contains(in, `"legal_basis_kind": "instrument"`) {
		t.Fatalf("the requester's inbox lacks the grant of %s under the instrument:\n%s", phone, in)
	}
	g.must("partner-us", "accept", phone)
	if out := g.must("partner-us", "case", "CASE-EXCHANGE", "--json"); !strings.Contains(out, phone) {
		t.Fatalf("the requester's view of the case lacks %s:\n%s", phone, out)
	}
	// The court, a third agency here, sees nothing of the request or the exhibit.
	for _, args := range [][]string{{"requests", "--json"}, {"inbox", "--json"}, {"cases", "--json"}} {
		if out := g.must("court-nl", args...); strings.Contains(out, req) || strings.Contains(out, phone) || strings.Contains(out, "CASE-EXCHANGE") {
			t.Fatalf("the court's %s shows the exchange:\n%s", args[0], out)
		}
	}
	g.fails("court-nl", exitFailed, "no such case", "case", "CASE-EXCHANGE")
	// The request's chain verifies offline.
	dir := t.TempDir()
	bundle, tr := filepath.Join(dir, "request.json"), filepath.Join(dir, "trust-root.json")
	g.must("partner-us", "bundle", req, "-o", bundle)
	g.must("partner-us", "trust-root", "-o", tr)
	if out := g.must("partner-us", "verify", bundle, "--trust-root", tr); !strings.Contains(out, "VERIFIED") {
		t.Fatalf("the request's bundle: %s", out)
	}
	// Each change the members asked for carries the signature of the member who asked:
	// the filing, the acknowledgement and the answer on the request's chain, the share
	// made in answer on the exhibit's.
	checkSignedBy(t, g.must("partner-us", "verify", bundle, "--trust-root", tr, "--json"), map[string]string{
		"request-filed": "partner-us", "request-acknowledged": "investigator-nl", "request-fulfilled": "investigator-nl"})
	phoneBundle := filepath.Join(dir, "phone.json")
	g.must("investigator-nl", "bundle", phone, "-o", phoneBundle)
	checkSignedBy(t, g.must("investigator-nl", "verify", phoneBundle, "--trust-root", tr, "--json"), map[string]string{
		"register": "investigator-nl", "share": "investigator-nl", "accept": "partner-us"})
}

// checkSignedBy checks that the verified events of the actions named in want are each
// signed by the member (certificate common name) want names.
func checkSignedBy(t *testing.T, out string, want map[string]string) {
	t.Helper()
	var r struct {
		Events []struct {
			Action   string `json:"action"`
			SignedBy string `json:"signed_by"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, ev := range r.Events {
		who, ok := want[ev.Action]
		if !ok {
			continue
		}
		seen[ev.Action] = true
		if !strings.Contains(ev.SignedBy, "CN="+who+",") {
			t.Errorf("the verified %s event is signed by %q, want the member %s", ev.Action, ev.SignedBy, who)
		}
	}
	for action := range want {
		if !seen[action] {
			t.Errorf("the verified bundle has no %s event", action)
		}
	}
}

func TestExchange(t *testing.T) {
	exchange(t, startGatewayWith(t, "", ""))
}

// TestRealStackExchange runs the request flow on the real stack, with the catalog on
// its PostgreSQL (backends.catalog of the configuration deploy/local/up writes).
func TestRealStackExchange(t *testing.T) {
	base, _ := loadStackConfig(t)
	if !strings.Contains(base, "catalog:") {
		if os.Getenv("CI") == "true" {
			t.Fatal("the stack's configuration has no backends.catalog: deploy/local/up writes it (PostgreSQL)")
		}
		t.Skip("the stack's configuration has no backends.catalog: run deploy/local/up again")
	}
	exchange(t, startGatewayWith(t, "", base))
}
