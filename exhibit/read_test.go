package exhibit_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// shared registers evidence that the owner shares with the partner (accepted and
// downloaded) and with the court, and then revokes the court's grant: every member but
// the stranger has a part in its history. Its events: 0 register, 1 share, 2 accept,
// 3 download-start, 4 download-deliver, 5 share, 6 revoke.
func shared(t *testing.T, env *exhibittest.Env) (id, toPartner, toCourt string) {
	t.Helper()
	id, g := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	env.Download(t, env.Partner, id)
	gc := env.Share(t, id, env.ShareRequest(exhibittest.CourtNL))
	if _, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, id, gc.GrantID, "sent to the wrong court"), id, gc.GrantID, "sent to the wrong court"); err != nil {
		t.Fatal(err)
	}
	return id, g.GrantID, gc.GrantID
}

func TestShow(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, toPartner, toCourt := shared(t, env)
	tests := []struct {
		who        exhibittest.Member
		wantGrants []string
	}{
		{env.Investigator, []string{toPartner, toCourt}},
		{env.Partner, []string{toPartner}},
		{env.Court, []string{toCourt}},
	}
	for _, tt := range tests {
		v := env.Show(t, tt.who, id)
		var got []string
		for _, g := range v.Grants {
			got = append(got, g.GrantID)
		}
		if !slices.Equal(got, tt.wantGrants) || v.EventCount != 7 || v.Owner != exhibittest.AgencyNL {
			t.Errorf("%s sees grants %q of %d events owned by %s, want %q of 7 owned by agency-nl",
				tt.who.Principal.Person, got, v.EventCount, v.Owner, tt.wantGrants)
		}
	}
	for _, tt := range []struct {
		name string
		id   string
		want errWant
	}{
		{"stranger", id, isErr(exhibit.ErrNotFound)},
		{"missing", missingID, isErr(exhibit.ErrNotFound)},
		{"malformed", "EV-" + id[3:], invalidInput()},
	} {
		_, err := env.Service.Show(t.Context(), env.Stranger.Principal, tt.id)
		checkErr(t, "Show of "+tt.name, err, tt.want)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, _, _ := shared(t, env)
	all := []uint64{0, 1, 2, 3, 4, 5, 6}
	tests := []struct {
		who         exhibittest.Member
		wantSeqs    []uint64
		wantPartial bool
	}{
		{env.Investigator, all, false},
		{env.Court, all, false},
		// The partner sees the registration and its own share, accept and download
		// (started and delivered), not the owner's dealings with the court.
		{env.Partner, []uint64{0, 1, 2, 3, 4}, true},
	}
	for _, tt := range tests {
		h, err := env.Service.History(t.Context(), tt.who.Principal, id)
		if err != nil {
			t.Fatalf("%s: %v", tt.who.Principal.Person, err)
		}
		var seqs []uint64
		for _, ev := range h.Events {
			seqs = append(seqs, ev.Seq)
			if ev.KeyID == "" || ev.Digest == "" {
				t.Errorf("%s: event %d has key id %q, digest %q; want both", tt.who.Principal.Person, ev.Seq, ev.KeyID, ev.Digest)
			}
		}
		if !slices.Equal(seqs, tt.wantSeqs) || h.Partial != tt.wantPartial || h.EvidenceID != id {
			t.Errorf("%s sees events %v, partial %v; want %v, partial %v", tt.who.Principal.Person, seqs, h.Partial, tt.wantSeqs, tt.wantPartial)
		}
	}
	h, _ := env.Service.History(t.Context(), env.Investigator.Principal, id)
	if ev := h.Events[6]; ev.Action != string(custody.ActionRevoke) || ev.Detail != "sent to the wrong court" ||
		ev.Counterparty == nil || ev.Counterparty.Agency != exhibittest.CourtNL {
		t.Errorf("got last event %+v, want the revocation of the court's grant with its reason", ev)
	}
	_, err := env.Service.History(t.Context(), env.Stranger.Principal, id)
	checkErr(t, "History for a stranger", err, isErr(exhibit.ErrNotFound))
}

func TestBundle(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("content")
	id, _, _ := shared(t, env)
	tr := env.TrustRoot(t)
	for _, m := range []exhibittest.Member{env.Investigator, env.Court} {
		raw, rc, err := env.Service.Bundle(t.Context(), m.Principal, id, nil)
		if err != nil {
			t.Fatalf("%s: %v", m.Principal.Person, err)
		}
		r := exhibittest.VerifyBundle(t, tr, raw, content)
		last := r.Events[len(r.Events)-1]
		if last.Event.Action != custody.ActionBundleExport || last.Event.Actor.Agency != m.Principal.Agency ||
			rc.Action != string(custody.ActionBundleExport) || rc.Seq != last.Event.Seq || rc.Digest != last.Digest {
			t.Errorf("%s: the bundle ends with %s by %s (seq %d), the receipt is %s seq %d; want this export, recorded",
				m.Principal.Person, last.Event.Action, last.Event.Actor.Agency, last.Event.Seq, rc.Action, rc.Seq)
		}
	}
}

func TestBundleConsistency(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, _, _ := shared(t, env)
	cp, _ := env.Log.Checkpoint(t.Context())
	raw, _, err := env.Service.Bundle(t.Context(), env.Court.Principal, id, []uint64{1, cp.Size})
	if err != nil {
		t.Fatal(err)
	}
	r := exhibittest.VerifyBundle(t, env.TrustRoot(t), raw, nil)
	if len(r.Consistency) != 2 || r.Consistency[0].FromSize != 1 || r.Consistency[1].FromSize != cp.Size ||
		r.Consistency[0].ToSize != cp.Size+1 {
		t.Errorf("got consistency proofs %+v, want from 1 and from %d to %d", r.Consistency, cp.Size, cp.Size+1)
	}
}

func TestBundleRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, _, _ := shared(t, env)
	cp, _ := env.Log.Checkpoint(t.Context())
	tests := []struct {
		name string
		who  exhibittest.Member
		id   string
		from []uint64
		want errWant
	}{
		{"consistency_from beyond the log", env.Investigator, id, []uint64{cp.Size + 1}, invalidInput()},
		{"consistency_from 0", env.Investigator, id, []uint64{0}, invalidInput()},
		{"17 consistency_from sizes", env.Investigator, id, slices.Repeat([]uint64{1}, 17), invalidInput()},
		{"partner, which sees only its part", env.Partner, id, nil, deniedBy()},
		{"stranger", env.Stranger, id, nil, isErr(exhibit.ErrNotFound)},
		{"missing evidence", env.Court, missingID, nil, isErr(exhibit.ErrNotFound)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, err := env.Service.Bundle(t.Context(), tt.who.Principal, tt.id, tt.from)
			checkErr(t, "Bundle", err, tt.want)
			if b != nil {
				t.Error("a refused export returned a bundle")
			}
		})
	}
	if got := env.Actions(t, id); slices.Contains(got, string(custody.ActionBundleExport)) {
		t.Errorf("a refused export was recorded: %q", got)
	}
}

func TestTrustRoot(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	raw, err := env.Service.TrustRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := custody.ParseTrustRoot(raw)
	if err != nil {
		t.Fatalf("the served trust root does not parse: %v", err)
	}
	want := env.TrustRoot(t)
	if tr.Log.Origin != exhibittest.Origin || !cmp.Equal(tr.Log.VerifierKey, want.Log.VerifierKey) || len(tr.EventKeys) != 1 ||
		tr.EventKeys[0].KeyID != want.EventKeys[0].KeyID {
		t.Errorf("got trust root for log %s with %d event keys, want %s with the local event key", tr.Log.Origin, len(tr.EventKeys), exhibittest.Origin)
	}
}
