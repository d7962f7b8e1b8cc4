package exhibit_test

import (
	"slices"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestRequestActsRecorded: every change of a request a member asks for records that
// member's act, and so does each share made in answer; the bundles of the request and
// of the exhibit verify offline with each act checked against the member's agency CA.
func TestRequestActsRecorded(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	ev1 := env.Register(t, env.Investigator, []byte("phone image")).Evidence.EvidenceID
	ev2 := env.Register(t, env.Investigator, []byte("laptop image")).Evidence.EvidenceID
	rq := fileRequest(t, env, "eio", nil)
	if _, err := env.Service.AcknowledgeRequest(ctx, env.AcknowledgeAct(t, env.Investigator, rq.RequestID, "assigned"), rq.RequestID, "assigned"); err != nil {
		t.Fatal(err)
	}
	answer := api.RespondRequest{Share: []string{ev1, ev2}, Partial: true, MaxDownloads: 3}
	res, err := env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, answer), rq.RequestID, answer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.WithdrawRequest(ctx, env.WithdrawAct(t, env.Partner, rq.RequestID, "solved"), rq.RequestID, "solved"); err != nil {
		t.Fatal(err)
	}
	raw, _, err := env.Service.RequestBundle(ctx, env.Partner.Principal, rq.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	r := exhibittest.VerifyBundle(t, env.TrustRoot(t), raw, nil)
	want := []struct {
		action string
		by     exhibittest.Member
	}{{"request-filed", env.Partner}, {"request-acknowledged", env.Investigator}, {"request-partially-fulfilled", env.Investigator},
		{"request-withdrawn", env.Partner}}
	for i, w := range want {
		ve := r.Events[i]
		if string(ve.Event.Action) != w.action || ve.Act == nil || ve.Act.Subject != w.by.Subject {
			t.Errorf("request event %d: %s signed by %+v, want %s signed by %s", i, ve.Event.Action, ve.Act, w.action, w.by.Subject)
		}
	}
	answerAct := r.Events[2].Act.Digest
	for i, id := range []string{ev1, ev2} {
		r := env.VerifyBundle(t, env.Investigator, id, nil)
		share := r.Events[len(r.Events)-2] // then the bundle export
		if share.Event.Action != custody.ActionShare || share.Act == nil || share.Act.Digest != answerAct ||
			share.Event.Grant.ID != res.Grants[i].Grant.GrantID {
			t.Errorf("%s: share event %+v with act %+v, want the grant in answer recording the answer's act", id, share.Event, share.Act)
		}
	}
}

// TestRequestActsRefused: a change of a request whose act is missing, not the
// caller's, or names another change is refused and records nothing; an answer's act
// is checked before any exhibit is shared.
func TestRequestActsRefused(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	ev := env.Register(t, env.Investigator, []byte("x")).Evidence.EvidenceID
	rq := fileRequest(t, env, "mlat", nil)
	other := fileRequest(t, env, "eio", nil)

	filing := api.FileRequest{To: exhibittest.AgencyNL, Instrument: "eio", Reference: "R", IssuingAuthority: "A", Sought: "S"}
	_, err := env.Service.FileRequest(ctx, env.Partner.Principal, filing)
	checkErr(t, "filing without an act", err, isErr(exhibit.ErrActRequired))
	changed := filing
	changed.Sought = "everything"
	_, err = env.Service.FileRequest(ctx, env.FileRequestAct(t, env.Partner, changed), filing)
	checkErr(t, "filing with an act for other facts", err, actRefusedWith("files another request"))
	deadline := env.Clock.Now().Add(48 * time.Hour)
	withDeadline := filing
	withDeadline.Deadline = &deadline
	_, err = env.Service.FileRequest(ctx, env.FileRequestAct(t, env.Partner, filing), withDeadline)
	checkErr(t, "a deadline the act does not name", err, actRefusedWith("names a deadline if and only if"))
	partner := env.Partner.Principal
	partner.Act = env.FileRequestAct(t, env.Stranger, filing).Act
	_, err = env.Service.FileRequest(ctx, partner, filing)
	checkErr(t, "filing with another agency's act", err, actRefusedWith("does not chain to the agency's CA"))

	_, err = env.Service.AcknowledgeRequest(ctx, env.Investigator.Principal, rq.RequestID, "")
	checkErr(t, "acknowledging without an act", err, isErr(exhibit.ErrActRequired))
	_, err = env.Service.AcknowledgeRequest(ctx, env.AcknowledgeAct(t, env.Investigator, other.RequestID, ""), rq.RequestID, "")
	checkErr(t, "acknowledging with the act of another request", err, actRefusedWith("names request "+other.RequestID))
	_, err = env.Service.AcknowledgeRequest(ctx, env.AcknowledgeAct(t, env.Investigator, rq.RequestID, "a note"), rq.RequestID, "")
	checkErr(t, "acknowledging with another note", err, actRefusedWith("reason differs"))
	_, err = env.Service.AcknowledgeRequest(ctx, env.WithdrawAct(t, env.Investigator, rq.RequestID, ""), rq.RequestID, "")
	checkErr(t, "acknowledging with a withdrawal's act", err, actRefusedWith("asks for request-withdrawn"))

	answer := api.RespondRequest{Share: []string{ev}}
	_, err = env.Service.RespondRequest(ctx, env.Investigator.Principal, rq.RequestID, answer)
	checkErr(t, "answering without an act", err, isErr(exhibit.ErrActRequired))
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, api.RespondRequest{Share: []string{ev}, ViewOnly: true}),
		rq.RequestID, answer)
	checkErr(t, "answering on terms the act does not name", err, actRefusedWith("grant terms differ"))
	expires := env.Clock.Now().Add(10 * 24 * time.Hour)
	withExpiry := api.RespondRequest{Share: []string{ev}, Expires: &expires}
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, answer), rq.RequestID, withExpiry)
	checkErr(t, "an expiry the act does not name", err, actRefusedWith("expiry of the grants if and only if"))
	second := env.Register(t, env.Investigator, []byte("y")).Evidence.EvidenceID
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, answer), rq.RequestID,
		api.RespondRequest{Share: []string{ev, second}})
	checkErr(t, "answering with more exhibits than the act names", err, actRefusedWith("other exhibits"))
	refusal := api.RespondRequest{Refuse: true, Reason: "no grounds"}
	_, err = env.Service.RespondRequest(ctx, env.RespondAct(t, env.Investigator, rq.RequestID, answer), rq.RequestID, refusal)
	checkErr(t, "refusing with an answer's act", err, actRefusedWith("asks for request-fulfilled"))
	for _, id := range []string{ev, second} {
		if got := env.Actions(t, id); !slices.Equal(got, []string{"register"}) {
			t.Errorf("after refused answers %s has events %q, want its registration only", id, got)
		}
	}

	_, err = env.Service.WithdrawRequest(ctx, env.WithdrawAct(t, env.Investigator, rq.RequestID, ""), rq.RequestID, "")
	checkErr(t, "withdrawing as the addressee, with its act", err, deniedBy())
	h, err := env.Service.RequestHistory(ctx, env.Partner.Principal, rq.RequestID)
	if err != nil || len(h.Events) != 1 {
		t.Fatalf("after the refused changes the request has %d events (%v), want its filing only", len(h.Events), err)
	}
}

// TestDisposeActRefused: a disposal whose act is missing or names another authority is
// refused and records nothing.
func TestDisposeActRefused(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{Retention: exhibit.Retention{Default: retention}})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	env.Clock.Advance(retention + time.Hour)
	_, err := env.Service.Dispose(t.Context(), env.Investigator.Principal, id, order)
	checkErr(t, "without an act", err, isErr(exhibit.ErrActRequired))
	_, err = env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, "retention schedule"), id, order)
	checkErr(t, "with an act under another authority", err, actRefusedWith("another authority"))
	_, err = env.Service.Dispose(t.Context(), env.HoldAct(t, env.Investigator, id, true, ""), id, order)
	checkErr(t, "with a hold's act", err, actRefusedWith("asks for legal-hold"))
	if got := env.Actions(t, id); !slices.Equal(got, []string{"register"}) {
		t.Errorf("refused disposals recorded events: %q", got)
	}
	res, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	if err != nil || !res.ContentDestroyed {
		t.Fatalf("disposal with its act: %+v, %v", res, err)
	}
	r := env.VerifyBundle(t, env.Investigator, id, nil)
	if d := r.Events[1]; d.Event.Action != custody.ActionDispose || d.Act == nil || d.Act.Act.Authority != order {
		t.Errorf("the verified disposal: %s with act %+v, want the investigator's act naming %q", d.Event.Action, d.Act, order)
	}
}

// TestRegisterActNamesAcquisition: a registration whose act does not name the
// acquisition facts it records is refused.
func TestRegisterActNamesAcquisition(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	u := exhibittest.Upload([]byte("image"))
	u.Acquisition = acquisition(env.Clock.Now())
	_, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, exhibittest.Upload([]byte("image"))), u)
	checkErr(t, "an act without the acquisition", err, actRefusedWith("acquisition facts differ"))
	signed := exhibittest.Upload([]byte("image"))
	signed.Acquisition = acquisition(env.Clock.Now())
	signed.Acquisition.Examiner = "someone else"
	_, err = env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, signed), u)
	checkErr(t, "an act with another examiner", err, actRefusedWith("acquisition facts differ"))
}
