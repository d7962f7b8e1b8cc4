package gateway

import (
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
)

func TestFold(t *testing.T) {
	now := time.Now()
	g := custody.Grant{ID: "gr-aaaaaaaaaaaaaaaa", To: "agency-us", Expires: now.Add(time.Hour), MaxDownloads: 2}
	recs := []ledger.Record{
		{Event: custody.Event{Action: custody.ActionRegister, Actor: custody.Party{Agency: "agency-nl"}, Exhibit: &custody.Exhibit{}}},
		{Event: custody.Event{Action: custody.ActionShare, Grant: &g}},
		{Event: custody.Event{Action: custody.ActionAccept, Grant: &g}},
		{Event: custody.Event{Action: custody.ActionDownload, Grant: &g}},
		{Event: custody.Event{Action: custody.ActionDownload, Grant: &g}},
	}
	st := fold(&ledger.Chain{Records: recs})
	got := st.grantByID(g.ID)
	if got == nil || !got.Accepted || got.Downloads != 2 || got.Revoked {
		t.Fatalf("got %+v, want accepted with 2 downloads", got)
	}
	if s := got.status(now); s != "exhausted" {
		t.Errorf("status: got %q, want exhausted", s)
	}
	st = fold(&ledger.Chain{Records: append(recs, ledger.Record{Event: custody.Event{Action: custody.ActionRevoke, Grant: &g}})})
	if s := st.grantByID(g.ID).status(now); s != "revoked" {
		t.Errorf("after revoke: got %q, want revoked", s)
	}
	if s := st.grantByID(g.ID).status(now.Add(2 * time.Hour)); s != "revoked" {
		t.Errorf("revoked and expired: got %q, want revoked", s)
	}
	if pe := st.policyEvidence(); pe.Owner != "agency-nl" || len(pe.Grants) != 1 || !pe.Grants[0].Revoked {
		t.Errorf("policy view: got %+v", pe)
	}
}
