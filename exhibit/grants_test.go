package exhibit_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// missingID is a well-formed evidence id that no test registers.
const missingID = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"

// missingGrant is a well-formed grant id that no test issues.
const missingGrant = "gr-aaaaaaaaaaaaaaaa"

func TestShare(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	req := env.ShareRequest(exhibittest.AgencyUS)
	req.MaxDownloads, req.Expires = 3, req.Expires.In(time.FixedZone("CET", 3600))
	res, err := env.Service.Share(t.Context(), env.ShareAct(t, id, req), id, req)
	if err != nil {
		t.Fatal(err)
	}
	want := api.GrantView{GrantID: res.Grant.GrantID, To: exhibittest.AgencyUS, LegalBasis: exhibittest.LegalBasis,
		Expires: req.Expires.UTC(), MaxDownloads: 3, State: api.GrantActive, LegalBasisKind: api.LegalBasisFreeText}
	if diff := cmp.Diff(want, res.Grant); diff != "" {
		t.Errorf("grant (-want +got):\n%s", diff)
	}
	if !custody.ValidGrantID(res.Grant.GrantID) {
		t.Errorf("got grant id %q, want a valid one", res.Grant.GrantID)
	}
	ev := exhibittest.Event(t, res.Custody)
	if ev.Action != custody.ActionShare || ev.Seq != 1 || ev.Counterparty == nil ||
		*ev.Counterparty != (custody.Party{Agency: exhibittest.AgencyUS, Jurisdiction: "US"}) || ev.LegalBasis != exhibittest.LegalBasis {
		t.Errorf("got event %s %d to %+v under %q, want share 1 to agency-us (US) under %q",
			ev.Action, ev.Seq, ev.Counterparty, ev.LegalBasis, exhibittest.LegalBasis)
	}
	if got := env.Show(t, env.Investigator, id).Grants; len(got) != 1 || got[0] != want {
		t.Errorf("the owner sees grants %+v, want the new one", got)
	}
}

func TestShareRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	// The partner and the court hold a grant each: they see the evidence.
	id, _ := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	env.Share(t, id, env.ShareRequest(exhibittest.CourtNL))
	now := env.Clock.Now()
	req := env.ShareRequest
	tests := []struct {
		name string
		who  exhibittest.Member
		id   string
		req  api.ShareRequest
		want errWant
	}{
		{"unknown agency", env.Investigator, id, req("agency-xx"), invalidInput()},
		{"self-share", env.Investigator, id, req(exhibittest.AgencyNL), invalidInput()},
		{"expires now", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.Expires = now }), invalidInput()},
		{"expired yesterday", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.Expires = now.Add(-24 * time.Hour) }), invalidInput()},
		{"no expiry", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.Expires = time.Time{} }), invalidInput()},
		{"expires in six years", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.Expires = now.AddDate(6, 0, 0) }), invalidInput()},
		{"negative max_downloads", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.MaxDownloads = -1 }), invalidInput()},
		{"empty legal basis", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.LegalBasis = "" }), invalidInput()},
		{"blank legal basis", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.LegalBasis = " \t " }), invalidInput()},
		{"legal basis of 513 bytes", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.LegalBasis = strings.Repeat("l", 513) }), invalidInput()},
		{"legal basis with a newline", env.Investigator, id, with(req(exhibittest.AgencyDE), func(r *api.ShareRequest) { r.LegalBasis = "MLAT\n2026" }), invalidInput()},
		{"malformed evidence id", env.Investigator, "ev-1", req(exhibittest.AgencyDE), invalidInput()},
		{"evidence that does not exist", env.Investigator, missingID, req(exhibittest.AgencyDE), isErr(exhibit.ErrNotFound)},
		{"partner shares", env.Partner, id, req(exhibittest.AgencyDE), deniedBy()},
		{"court shares", env.Court, id, req(exhibittest.AgencyDE), deniedBy()},
		{"stranger shares", env.Stranger, id, req(exhibittest.AgencyUS), isErr(exhibit.ErrNotFound)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Share(t.Context(), shareAs(t, env, tt.who, tt.id, tt.req), tt.id, tt.req)
			checkErr(t, "Share", err, tt.want)
		})
	}
	if got := env.Actions(t, id); !cmp.Equal(got, []string{"register", "share", "accept", "share"}) {
		t.Errorf("after the refused shares the history is %q, want only the two shares of the set-up", got)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, g := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	res, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, id, g.GrantID, "case closed"), id, g.GrantID, "case closed")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Grant.Revoked || res.Grant.State != api.GrantRevoked || !res.Grant.Accepted {
		t.Errorf("got grant %+v, want it accepted, revoked and in state revoked", res.Grant)
	}
	ev := exhibittest.Event(t, res.Custody)
	if ev.Action != custody.ActionRevoke || ev.Detail != "case closed" || ev.Grant == nil || ev.Grant.ID != g.GrantID ||
		ev.Counterparty == nil || ev.Counterparty.Jurisdiction != "US" {
		t.Errorf("got event %s of grant %+v to %+v, detail %q; want a revoke of %s to the US partner saying why",
			ev.Action, ev.Grant, ev.Counterparty, ev.Detail, g.GrantID)
	}
	// Without a reason.
	g2 := env.Share(t, id, env.ShareRequest(exhibittest.CourtNL))
	if _, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, id, g2.GrantID, ""), id, g2.GrantID, ""); err != nil {
		t.Errorf("revoking without a reason: %v", err)
	}
}

func TestRevokeRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, g := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	revoked := env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
	if _, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, id, revoked.GrantID, ""), id, revoked.GrantID, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		who     exhibittest.Member
		id      string
		grantID string
		reason  string
		want    errWant
	}{
		{"twice", env.Investigator, id, revoked.GrantID, "", conflictOf(exhibit.ConflictAlreadyRevoked)},
		{"unknown grant", env.Investigator, id, missingGrant, "", isErr(exhibit.ErrGrantNotFound)},
		{"malformed grant id", env.Investigator, id, "gr-1", "", invalidInput()},
		{"reason with a control character", env.Investigator, id, g.GrantID, "closed\x00", invalidInput()},
		{"reason of 513 bytes", env.Investigator, id, g.GrantID, strings.Repeat("r", 513), invalidInput()},
		{"evidence that does not exist", env.Investigator, missingID, g.GrantID, "", isErr(exhibit.ErrNotFound)},
		{"partner revokes its grant", env.Partner, id, g.GrantID, "", deniedBy()},
		{"stranger revokes", env.Stranger, id, g.GrantID, "", isErr(exhibit.ErrNotFound)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Revoke(t.Context(), env.Signed(t, tt.who, tt.id, custody.Act{Action: custody.ActionRevoke, GrantID: tt.grantID, Reason: tt.reason}),
				tt.id, tt.grantID, tt.reason)
			checkErr(t, "Revoke", err, tt.want)
		})
	}
	if v := env.Show(t, env.Investigator, id); v.Grants[0].Revoked || v.EventCount != 5 {
		t.Errorf("after the refused revocations: grant %+v, %d events; want it active and 5 events", v.Grants[0], v.EventCount)
	}
}

func TestAccept(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	g := env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
	res, err := env.Service.Accept(t.Context(), env.AcceptAct(t, env.Partner, id, g.GrantID), id,
		exhibittest.AcceptRequest(t, env.Partner, id, g.GrantID, env.Show(t, env.Partner, id).SHA256))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Grant.Accepted || res.Grant.State != api.GrantActive {
		t.Errorf("got grant %+v, want it accepted and active", res.Grant)
	}
	ev := exhibittest.Event(t, res.Custody)
	if ev.Action != custody.ActionAccept || ev.Receipt == nil || !bytes.Equal(ev.Receipt.Certificate, env.Partner.Principal.Cert.Raw) ||
		ev.Counterparty == nil || ev.Counterparty.Agency != exhibittest.AgencyNL {
		t.Fatalf("got event %s with receipt %v from %+v, want an accept carrying the partner's receipt and certificate, from the owner",
			ev.Action, ev.Receipt != nil, ev.Counterparty)
	}
	if err := ev.Receipt.Verify(); err != nil {
		t.Errorf("the recorded receipt does not verify offline: %v", err)
	}
	if ev.Act == nil {
		t.Error("the accept event records no signed act of the partner's")
	}
}

func TestAcceptReceiptChecks(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	other := env.Register(t, env.Investigator, []byte("other")).Evidence.EvidenceID
	g := env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
	sha := env.Show(t, env.Investigator, id).SHA256
	statement := func(f func(*api.ReceiptStatement)) api.ReceiptStatement {
		return with(api.NewReceiptStatement(id, g.GrantID, sha, time.Now()), f)
	}
	signed := func(m exhibittest.Member, f func(*api.ReceiptStatement)) api.AcceptRequest {
		r := exhibittest.Receipt(t, m, statement(f))
		return api.AcceptRequest{GrantID: g.GrantID, Receipt: &r}
	}
	same := func(*api.ReceiptStatement) {}
	noCert := env.Partner.Principal
	noCert.Cert = nil
	tests := []struct {
		name string
		who  exhibit.Principal
		req  api.AcceptRequest
	}{
		{"statement names another digest", env.Partner.Principal, signed(env.Partner, func(s *api.ReceiptStatement) { s.SHA256 = strings.Repeat("0", 64) })},
		{"statement names another grant", env.Partner.Principal, signed(env.Partner, func(s *api.ReceiptStatement) { s.GrantID = missingGrant })},
		{"statement names other evidence", env.Partner.Principal, signed(env.Partner, func(s *api.ReceiptStatement) { s.EvidenceID = other })},
		{"statement of another type", env.Partner.Principal, signed(env.Partner, func(s *api.ReceiptStatement) { s.Type = "evidencegw-receipt/v2" })},
		{"signed by another key", env.Partner.Principal, signed(env.Stranger, same)},
		{"signature over other bytes", env.Partner.Principal, with(signed(env.Partner, same), func(r *api.AcceptRequest) {
			r.Receipt.Statement = bytes.Replace(r.Receipt.Statement, []byte(`"time"`), []byte(` "time"`), 1)
		})},
		{"no signature", env.Partner.Principal, with(signed(env.Partner, same), func(r *api.AcceptRequest) { r.Receipt.Signature = nil })},
		{"no statement", env.Partner.Principal, api.AcceptRequest{GrantID: g.GrantID, Receipt: &api.SignedReceipt{}}},
		{"statement of 5 KiB", env.Partner.Principal, with(signed(env.Partner, same), func(r *api.AcceptRequest) {
			r.Receipt.Statement = append(r.Receipt.Statement, bytes.Repeat([]byte(" "), 5<<10)...)
		})},
		{"statement with an unknown field", env.Partner.Principal, with(signed(env.Partner, same), func(r *api.AcceptRequest) {
			r.Receipt.Statement = bytes.Replace(r.Receipt.Statement, []byte(`{`), []byte(`{"extra":1,`), 1)
		})},
		{"statement not JSON", env.Partner.Principal, with(signed(env.Partner, same), func(r *api.AcceptRequest) { r.Receipt.Statement = []byte("accepted") })},
		{"malformed grant id", env.Partner.Principal, with(signed(env.Partner, same), func(r *api.AcceptRequest) { r.GrantID = "grant" })},
		{"caller without a certificate", noCert, signed(env.Partner, same)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Accept(t.Context(), tt.who, id, tt.req)
			checkErr(t, "Accept", err, invalidInput())
		})
	}
	if v := env.Show(t, env.Investigator, id); v.Grants[0].Accepted || v.EventCount != 2 {
		t.Errorf("after the refused receipts: grant %+v, %d events; want it unaccepted and 2 events", v.Grants[0], v.EventCount)
	}
}

func TestAcceptRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, accepted := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	sha := env.Show(t, env.Investigator, id).SHA256
	toCourt := env.Share(t, id, env.ShareRequest(exhibittest.CourtNL))

	expiring := env.Register(t, env.Investigator, []byte("expiring")).Evidence.EvidenceID
	short := env.Share(t, expiring, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.Expires = env.Clock.Now().Add(time.Hour) }))
	revokedID := env.Register(t, env.Investigator, []byte("revoked")).Evidence.EvidenceID
	revoked := env.Share(t, revokedID, env.ShareRequest(exhibittest.AgencyUS))
	if _, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, revokedID, revoked.GrantID, ""), revokedID, revoked.GrantID, ""); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Hour)
	shaOf := func(id string) string { return env.Show(t, env.Investigator, id).SHA256 }

	tests := []struct {
		name string
		who  exhibittest.Member
		id   string
		req  api.AcceptRequest
		want errWant
	}{
		{"second accept", env.Partner, id, exhibittest.AcceptRequest(t, env.Partner, id, accepted.GrantID, sha), deniedBy("forbid-repeated-accept")},
		{"the court, which does not accept", env.Court, id, exhibittest.AcceptRequest(t, env.Court, id, toCourt.GrantID, sha), deniedBy()},
		{"the owner", env.Investigator, id, exhibittest.AcceptRequest(t, env.Investigator, id, accepted.GrantID, sha), deniedBy()},
		{"a stranger", env.Stranger, id, exhibittest.AcceptRequest(t, env.Stranger, id, accepted.GrantID, sha), isErr(exhibit.ErrNotFound)},
		{"evidence that does not exist", env.Partner, missingID, exhibittest.AcceptRequest(t, env.Partner, missingID, accepted.GrantID, sha), isErr(exhibit.ErrNotFound)},
		{"an expired grant", env.Partner, expiring, exhibittest.AcceptRequest(t, env.Partner, expiring, short.GrantID, shaOf(expiring)), deniedBy("forbid-expired-grant")},
		{"a revoked grant", env.Partner, revokedID, exhibittest.AcceptRequest(t, env.Partner, revokedID, revoked.GrantID, shaOf(revokedID)), deniedBy("forbid-revoked-grant")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Accept(t.Context(), env.Signed(t, tt.who, tt.id, custody.Act{Action: custody.ActionAccept, GrantID: tt.req.GrantID}), tt.id, tt.req)
			checkErr(t, "Accept", err, tt.want)
		})
	}
}

// TestAcceptNotAcceptable: a partner with an open grant that names a grant it cannot
// accept gets a conflict, not a denial.
func TestAcceptNotAcceptable(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	sha := env.Show(t, env.Investigator, id).SHA256
	env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
	toCourt := env.Share(t, id, env.ShareRequest(exhibittest.CourtNL))
	for _, grantID := range []string{toCourt.GrantID, missingGrant} {
		_, err := env.Service.Accept(t.Context(), env.AcceptAct(t, env.Partner, id, grantID), id, exhibittest.AcceptRequest(t, env.Partner, id, grantID, sha))
		checkErr(t, "Accept of "+grantID, err, conflictOf(exhibit.ConflictGrantNotAcceptable))
	}
}

// TestAcceptSecondGrant: a partner with two open grants accepts the one it names.
func TestAcceptSecondGrant(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
	second := env.Share(t, id, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.LegalBasis = "EIO 2026/3" }))
	res := env.Accept(t, env.Partner, id, second.GrantID)
	if res.Grant.GrantID != second.GrantID || !res.Grant.Accepted {
		t.Errorf("got grant %s accepted %v, want %s accepted", res.Grant.GrantID, res.Grant.Accepted, second.GrantID)
	}
	// The first grant is still open, and can be accepted after the second.
	v := env.Show(t, env.Partner, id)
	for _, g := range v.Grants {
		if want := g.GrantID == second.GrantID; g.Accepted != want {
			t.Errorf("grant %s accepted %v, want %v", g.GrantID, g.Accepted, want)
		}
	}
}

// shareAs returns m's principal carrying m's signed act for the share req.
func shareAs(t testing.TB, env *exhibittest.Env, m exhibittest.Member, id string, req api.ShareRequest) exhibit.Principal {
	t.Helper()
	return env.Signed(t, m, id, custody.Act{Action: custody.ActionShare, Terms: &custody.GrantTerms{To: req.To,
		LegalBasis: req.LegalBasis, Expires: req.Expires, MaxDownloads: req.MaxDownloads, ViewOnly: req.ViewOnly}})
}
