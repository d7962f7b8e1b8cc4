package exhibit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// fileRequest files a request from the partner (agency-us) to the owner (agency-nl).
func fileRequest(t *testing.T, env *exhibittest.Env, instrument string, edit func(*api.FileRequest)) api.RequestView {
	t.Helper()
	req := api.FileRequest{To: exhibittest.AgencyNL, Instrument: instrument, Reference: "US-2026-117",
		IssuingAuthority: "US Attorney, District of Columbia", Sought: "the seized phone image", CaseID: "US-CASE-9"}
	if edit != nil {
		edit(&req)
	}
	res, err := env.Service.FileRequest(t.Context(), env.FileRequestAct(t, env.Partner, req), req)
	if err != nil {
		t.Fatalf("filing a request: %v", err)
	}
	return res.Request
}

func TestRequestFlow(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	content := []byte("phone image")
	ev := env.Register(t, env.Investigator, content).Evidence.EvidenceID

	rq := fileRequest(t, env, "epoc", nil)
	if rq.State != api.RequestOpen || !rq.Deadline.Equal(env.Clock.Now().Add(240*time.Hour).Truncate(time.Second)) ||
		rq.InstrumentName != "European Production Order" {
		t.Fatalf("filed request: got %+v, want open, due in 10 days (epoc)", rq)
	}
	// The addressee finds it in its inbox.
	in, err := env.Service.Inbox(ctx, env.Investigator.Principal, 0)
	if err != nil || len(in.Requests.Requests) != 1 || in.Requests.Requests[0].RequestID != rq.RequestID {
		t.Fatalf("addressee's inbox: got %+v, %v; want the request", in.Requests, err)
	}
	if _, err := env.Service.AcknowledgeRequest(ctx, env.AcknowledgeAct(t, env.Investigator, rq.RequestID, ""), rq.RequestID, ""); err != nil {
		t.Fatal(err)
	}
	res, err := env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, api.RespondRequest{Share: []string{ev}}), rq.RequestID, api.RespondRequest{Share: []string{ev}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Request.State != api.RequestFulfilled || len(res.Grants) != 1 || len(res.Request.Shares) != 1 ||
		res.Request.Shares[0] != (api.RequestShare{EvidenceID: ev, GrantID: res.Grants[0].Grant.GrantID}) {
		t.Fatalf("answer: got %+v, want fulfilled with one share", res)
	}
	g := res.Grants[0].Grant
	if g.To != exhibittest.AgencyUS || g.Instrument != "epoc" || g.RequestID != rq.RequestID || g.LegalBasisKind != api.LegalBasisInstrument ||
		g.LegalBasis != "epoc US-2026-117" {
		t.Fatalf("grant made in answer: got %+v, want to agency-us under epoc, citing the request", g)
	}
	if share := exhibittest.Event(t, res.Grants[0].Custody); share.RequestID != rq.RequestID || share.Grant.Instrument != "epoc" {
		t.Fatalf("share event: got request %q instrument %q, want the request's", share.RequestID, share.Grant.Instrument)
	}
	// The requester accepts and downloads under the grant.
	env.Accept(t, env.Partner, ev, g.GrantID)
	if got, _ := env.Download(t, env.Partner, ev); string(got) != string(content) {
		t.Fatal("the requester downloaded other bytes")
	}
	// A second answer to a closed request changes nothing.
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, api.RespondRequest{Refuse: true, Reason: "late"}), rq.RequestID, api.RespondRequest{Refuse: true, Reason: "late"})
	var conflict *exhibit.ConflictError
	if !errors.As(err, &conflict) || conflict.Kind != exhibit.ConflictRequestClosed {
		t.Fatalf("second answer: got %v, want request-closed", err)
	}
	// The request's history is a chain of its own, exported and verified offline.
	h, err := env.Service.RequestHistory(ctx, env.Partner.Principal, rq.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range h.Events {
		actions = append(actions, e.Action)
	}
	if want := []string{"request-filed", "request-acknowledged", "request-fulfilled"}; !slices.Equal(actions, want) {
		t.Fatalf("history: got %q, want %q", actions, want)
	}
	raw, _, err := env.Service.RequestBundle(ctx, env.Partner.Principal, rq.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	r := exhibittest.VerifyBundle(t, env.TrustRoot(t), raw, nil)
	if r.Request == nil || r.Request.Instrument != "epoc" || r.EvidenceID != rq.RequestID || len(r.Events) != 4 {
		t.Fatalf("verified request bundle: got %+v, want the request's 4 events", r)
	}
	// Its bundle carries no content: checking content against it is refused.
	b, _ := custody.ParseBundle(raw)
	if _, err := custody.Verify(b, env.TrustRoot(t), custody.VerifyOptions{Content: strings.NewReader("x")}); err == nil {
		t.Fatal("verifying content against a request's bundle succeeded")
	}
}

func TestRequestRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	ev := env.Register(t, env.Investigator, []byte("x")).Evidence.EvidenceID
	rq := fileRequest(t, env, "mlat", nil)
	past := env.Clock.Now().Add(-time.Hour)
	invalidFilings := []struct {
		name string
		edit func(*api.FileRequest)
		want string
	}{
		{"unknown instrument", func(r *api.FileRequest) { r.Instrument = "letter-rogatory" }, `unknown instrument "letter-rogatory"`},
		{"deadline in the past", func(r *api.FileRequest) { r.Deadline = &past }, "is in the past"},
		{"unknown agency", func(r *api.FileRequest) { r.To = "agency-xx" }, `unknown agency "agency-xx"`},
		{"to itself", func(r *api.FileRequest) { r.To = exhibittest.AgencyUS }, "cannot send a request to itself"},
		{"oversized sought", func(r *api.FileRequest) { r.Sought = strings.Repeat("a", 2049) }, "sought is longer than 2048 bytes"},
		{"control character", func(r *api.FileRequest) { r.Reference = "REF\n2" }, "reference holds U+000A"},
		{"bidi override", func(r *api.FileRequest) { r.IssuingAuthority = "judge \u202e" }, "issuing_authority holds U+202E"},
		{"blank reference", func(r *api.FileRequest) { r.Reference = "  " }, "reference is required"},
		{"bad case", func(r *api.FileRequest) { r.CaseID = "../x" }, "case_id must be"},
	}
	for _, tt := range invalidFilings {
		req := api.FileRequest{To: exhibittest.AgencyNL, Instrument: "eio", Reference: "R", IssuingAuthority: "A", Sought: "S"}
		tt.edit(&req)
		_, err := env.Service.FileRequest(ctx, env.FileRequestAct(t, env.Partner, req), req)
		var inv *exhibit.InvalidError
		if !errors.As(err, &inv) || !strings.Contains(inv.Msg, tt.want) {
			t.Errorf("%s: got %v, want an invalid request saying %q", tt.name, err, tt.want)
		}
	}
	// Policies: an emergency needs an emergency procedure, and shortens the deadline.
	for _, tt := range []struct {
		name, instrument string
		after            time.Duration
		want             string
	}{
		{"emergency preservation order", "epoc-pr", time.Hour, "forbid-emergency-without-procedure"},
		{"emergency due too late", "epoc", 9 * time.Hour, "forbid-emergency-deadline-too-late"},
	} {
		d := env.Clock.Now().Add(tt.after)
		req := api.FileRequest{To: exhibittest.AgencyNL, Instrument: tt.instrument,
			Reference: "R", IssuingAuthority: "A", Sought: "S", Emergency: true, Deadline: &d}
		_, err := env.Service.FileRequest(ctx, env.FileRequestAct(t, env.Partner, req), req)
		var denied *exhibit.DeniedError
		if !errors.As(err, &denied) || !slices.Contains(denied.Policies, tt.want) {
			t.Errorf("%s: got %v, want a denial by %s", tt.name, err, tt.want)
		}
	}
	em := fileRequest(t, env, "epoc", func(r *api.FileRequest) { r.Emergency = true })
	if want := env.Clock.Now().Add(8 * time.Hour).Truncate(time.Second); !em.Deadline.Equal(want) {
		t.Errorf("emergency epoc: deadline %s, want %s (8 hours)", em.Deadline, want)
	}
	// Answers by the wrong party.
	_, err := env.Service.RespondRequest(ctx, env.RespondAct(t, env.Stranger, rq.RequestID, api.RespondRequest{Refuse: true, Reason: "no"}), rq.RequestID, api.RespondRequest{Refuse: true, Reason: "no"})
	if !errors.Is(err, exhibit.ErrRequestNotFound) {
		t.Errorf("a stranger answering: got %v, want not found", err)
	}
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Partner, rq.RequestID, api.RespondRequest{Share: []string{ev}}), rq.RequestID, api.RespondRequest{Share: []string{ev}})
	var denied *exhibit.DeniedError
	if !errors.As(err, &denied) {
		t.Errorf("the requester answering its own request: got %v, want denied", err)
	}
	// An answer that shares an exhibit the addressee does not own shares nothing.
	other := env.Register(t, env.Stranger, []byte("y")).Evidence.EvidenceID
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, api.RespondRequest{Share: []string{ev, other}}), rq.RequestID, api.RespondRequest{Share: []string{ev, other}})
	if !errors.Is(err, exhibit.ErrNotFound) {
		t.Errorf("sharing another agency's exhibit in answer: got %v, want not found", err)
	}
	if got := env.Actions(t, ev); !slices.Equal(got, []string{"register"}) {
		t.Errorf("after a refused answer the exhibit has events %q, want only its registration", got)
	}
	for _, bad := range []api.RespondRequest{{}, {Refuse: true}, {Refuse: true, Reason: "x", Share: []string{ev}}, {Share: []string{ev, ev}},
		{Share: []string{"ev-x"}}} {
		_, err := env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, bad), rq.RequestID, bad)
		var inv *exhibit.InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("answer %+v: got %v, want invalid", bad, err)
		}
	}
	// Refused, then closed.
	if _, err := env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, api.RespondRequest{Refuse: true, Reason: "no dual criminality"}), rq.RequestID, api.RespondRequest{Refuse: true, Reason: "no dual criminality"}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Service.WithdrawRequest(ctx, env.WithdrawAct(t, env.Partner, rq.RequestID, ""), rq.RequestID, "")
	var conflict *exhibit.ConflictError
	if !errors.As(err, &conflict) || conflict.Kind != exhibit.ConflictRequestClosed {
		t.Errorf("withdrawing a refused request: got %v, want request-closed", err)
	}
}

// TestPreservationOrderAllowsNoDownload: a grant made in answer to an epoc-pr lets the
// requester see the exhibit and accept, never download.
func TestPreservationOrderAllowsNoDownload(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ev := env.Register(t, env.Investigator, []byte("kept")).Evidence.EvidenceID
	rq := fileRequest(t, env, "epoc-pr", nil)
	res, err := env.Service.RespondRequest(t.Context(), env.RespondAct(t, env.Investigator, rq.RequestID, api.RespondRequest{Share: []string{ev}}), rq.RequestID, api.RespondRequest{Share: []string{ev}})
	if err != nil {
		t.Fatal(err)
	}
	env.Accept(t, env.Partner, ev, res.Grants[0].Grant.GrantID)
	_, err = env.Service.Download(t.Context(), env.Partner.Principal, ev, exhibit.DownloadRequest{})
	var denied *exhibit.DeniedError
	if !errors.As(err, &denied) || !slices.Equal(denied.Policies, []string{"forbid-download-instrument"}) {
		t.Fatalf("download under a preservation order: got %v, want denied by forbid-download-instrument", err)
	}
}

func TestOverdue(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	rq := fileRequest(t, env, "epoc", nil)
	if n, err := env.Service.DueRequests(t.Context()); err != nil || n != 0 {
		t.Fatalf("before the deadline: marked %d, %v; want none", n, err)
	}
	env.Clock.Advance(241 * time.Hour)
	v, err := env.Service.ShowRequest(t.Context(), env.Partner.Principal, rq.RequestID)
	if err != nil || !v.Overdue {
		t.Fatalf("past the deadline: got overdue %v, %v; want overdue", v.Overdue, err)
	}
	for want := range []int{1, 0} { // once, not twice
		n, err := env.Service.DueRequests(t.Context())
		if err != nil || n != 1-want {
			t.Fatalf("run %d: marked %d, %v; want %d", want, n, err, 1-want)
		}
	}
	h, _ := env.Service.RequestHistory(t.Context(), env.Investigator.Principal, rq.RequestID)
	if last := h.Events[len(h.Events)-1]; last.Action != "request-overdue" || last.Actor.Role != "system" {
		t.Fatalf("last event: got %s by %+v, want request-overdue by the gateway", last.Action, last.Actor)
	}
}
