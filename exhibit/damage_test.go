package exhibit_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// These tests play someone with access to the gateway's store who edits, deletes or
// forges stored custody events. The gateway must not act on what it cannot verify: the
// exhibit is frozen, the failure recorded once, and reads still show it.

func eventName(id string, seq int) string {
	return fmt.Sprintf("evidence/%s/events/%08d.dsse", id, seq)
}

// storedEnvelope reads the stored envelope of event seq.
func storedEnvelope(t *testing.T, env *exhibittest.Env, id string, seq int) custody.Envelope {
	t.Helper()
	b, err := env.Store.Read(eventName(id, seq))
	if err != nil {
		t.Fatal(err)
	}
	var e custody.Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func putEnvelope(t *testing.T, env *exhibittest.Env, id string, seq int, e custody.Envelope) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Replace(eventName(id, seq), b); err != nil {
		t.Fatal(err)
	}
}

// forge edits the predicate of stored event seq and keeps its signature, which no
// longer matches.
func forge(t *testing.T, env *exhibittest.Env, id string, seq int, edit func(*custody.Event)) {
	t.Helper()
	e := storedEnvelope(t, env, id, seq)
	payload, _ := e.PayloadBytes()
	var st custody.Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	edit(&st.Predicate)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	e.Payload = base64.StdEncoding.EncodeToString(b)
	putEnvelope(t, env, id, seq, e)
}

// integrityFailures counts the integrity-failure events of id.
func integrityFailures(t *testing.T, env *exhibittest.Env, id string) int {
	t.Helper()
	n := 0
	for _, a := range env.Actions(t, id) {
		if a == string(custody.ActionIntegrityFailure) {
			n++
		}
	}
	return n
}

// wantFrozen checks that an error is the *exhibit.FrozenError of event seq.
func wantFrozen(t *testing.T, what string, err error, seq uint64) {
	t.Helper()
	var fe *exhibit.FrozenError
	if !errors.As(err, &fe) || fe.Seq != seq {
		t.Errorf("%s: got %v, want an *exhibit.FrozenError at event %d", what, err, seq)
	}
}

// recheck lets the gateway's kept state of every chain come due for its recheck, when
// the whole chain is read and verified again: stored events altered after the gateway
// verified them are seen then (docs/api.md, "Verified state").
func recheck(env *exhibittest.Env) { env.Clock.Advance(exhibit.DefaultChainRecheck) }

// TestForgedNewestEvent is the attack of the issue: the newest event, a share with a
// limit of one download, is edited to no limit. The gateway refuses to act on it.
func TestForgedNewestEvent(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("seized phone extraction")
	id := env.Register(t, env.Investigator, content).Evidence.EvidenceID
	req := env.ShareRequest(exhibittest.AgencyUS)
	req.MaxDownloads = 1
	g := env.Share(t, id, req)
	forge(t, env, id, 1, func(ev *custody.Event) { ev.Grant.MaxDownloads = 0; ev.LegalBasis = "forged" })

	// Until its next recheck, the gateway acts on the share it verified, never on the
	// forged one: a limit of one download.
	if gv := env.Show(t, env.Investigator, id).Grants; len(gv) != 1 || gv[0].MaxDownloads != 1 || gv[0].LegalBasis == "forged" {
		t.Fatalf("before the recheck, Show lists grants %+v, want the verified grant of one download", gv)
	}
	recheck(env)

	// The partner's only grant is in the forged event: from what verifies, the partner
	// has no grant, and learns nothing.
	rc := exhibittest.AcceptRequest(t, env.Partner, id, g.GrantID, env.Show(t, env.Investigator, id).SHA256)
	_, err := env.Service.Accept(t.Context(), env.AcceptAct(t, env.Partner, id, g.GrantID), id, rc)
	if !errors.Is(err, exhibit.ErrNotFound) {
		t.Errorf("Accept under the forged grant: got %v, want ErrNotFound", err)
	}
	for i := range 4 {
		_, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
		if !errors.Is(err, exhibit.ErrNotFound) {
			t.Fatalf("download %d under the forged grant: got %v, want ErrNotFound", i+1, err)
		}
	}
	_, err = env.Service.Download(t.Context(), env.Investigator.Principal, id, exhibit.DownloadRequest{})
	wantFrozen(t, "the owner's Download", err, 1)
	_, err = env.Service.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.CourtNL)), id, env.ShareRequest(exhibittest.CourtNL))
	wantFrozen(t, "Share", err, 1)

	v := env.Show(t, env.Investigator, id)
	if v.Damage == nil || v.Damage.Seq != 1 || !strings.Contains(v.Damage.Reason, "no trusted signature") {
		t.Errorf("Show: damage %+v, want event 1 without a trusted signature", v.Damage)
	}
	for _, gv := range v.Grants {
		t.Errorf("Show lists grant %+v from the forged event", gv)
	}
	h, err := env.Service.History(t.Context(), env.Investigator.Principal, id)
	if err != nil {
		t.Fatalf("History of a frozen exhibit: %v", err)
	}
	if h.Damage == nil || h.Events[1].Failure == "" || h.Events[0].Failure != "" {
		t.Errorf("History: damage %+v, failures %q and %q; want event 1 marked failed, event 0 not", h.Damage, h.Events[0].Failure, h.Events[1].Failure)
	}
	if n := integrityFailures(t, env, id); n != 1 {
		t.Errorf("%d integrity-failure events after repeated reads, want exactly 1", n)
	}
	if got, err := testutil.GatherAndCount(env.Registry, "evidencegw_custody_chain_damage_total"); err != nil || got != 1 {
		t.Errorf("chain damage metric: %d series (%v), want 1", got, err)
	}
	if err := testutil.GatherAndCompare(env.Registry, strings.NewReader(`
# HELP evidencegw_custody_chain_damage_total Custody chains found altered, cut or forged in the store (alert on any).
# TYPE evidencegw_custody_chain_damage_total counter
evidencegw_custody_chain_damage_total 1
`), "evidencegw_custody_chain_damage_total"); err != nil {
		t.Errorf("chain damage metric: %v", err)
	}
	last := h.Events[len(h.Events)-1]
	if last.Action != string(custody.ActionIntegrityFailure) || !strings.Contains(last.Detail, "stored custody event 1") {
		t.Errorf("the last event is %s %q, want the integrity failure naming event 1", last.Action, last.Detail)
	}

	// The bundle still exports, and a court sees exactly where it fails.
	raw, _, err := env.Service.Bundle(t.Context(), env.Investigator.Principal, id, nil)
	if err != nil {
		t.Fatalf("Bundle of a frozen exhibit: %v", err)
	}
	b, err := custody.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := custody.Verify(b, env.TrustRoot(t), custody.VerifyOptions{})
	if !errors.Is(err, custody.ErrVerification) || !strings.Contains(err.Error(), "event 1:") {
		t.Errorf("offline verification of the bundle: %v, want a failure at event 1", err)
	}
	if r == nil || !r.Events[0].Verified() || r.Events[1].Verified() {
		t.Errorf("the court's report does not mark event 0 verified and event 1 failed")
	}
}

// TestDamageCases: each way of damaging a stored chain freezes the exhibit at the right
// event with a reason that names the damage.
func TestDamageCases(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, env *exhibittest.Env, id string)
		seq    uint64
		reason string
	}{
		{"edited middle event", func(t *testing.T, env *exhibittest.Env, id string) {
			forge(t, env, id, 1, func(ev *custody.Event) { ev.LegalBasis = "another basis" })
		}, 1, "no trusted signature"},
		{"deleted middle event", func(t *testing.T, env *exhibittest.Env, id string) {
			if err := env.Store.Delete(eventName(id, 1)); err != nil {
				t.Fatal(err)
			}
		}, 1, "event 1 is missing"},
		{"event that is not JSON", func(t *testing.T, env *exhibittest.Env, id string) {
			if err := env.Store.Replace(eventName(id, 2), []byte("garbage")); err != nil {
				t.Fatal(err)
			}
		}, 2, "does not parse"},
		{"log index pointing elsewhere", func(t *testing.T, env *exhibittest.Env, id string) {
			name := strings.TrimSuffix(eventName(id, 2), ".dsse") + ".index"
			if err := env.Store.Replace(name, []byte("0")); err != nil {
				t.Fatal(err)
			}
		}, 2, "is not in the log at index 0"},
		{"event signed by a key the trust root does not hold", func(t *testing.T, env *exhibittest.Env, id string) {
			e := storedEnvelope(t, env, id, 2)
			payload, _ := e.PayloadBytes()
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			sum := sha256.Sum256(custody.PAE(e.PayloadType, payload))
			sig, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
			kid, _ := custody.KeyID(&key.PublicKey)
			e.Signatures = []custody.Signature{{KeyID: kid, Sig: base64.StdEncoding.EncodeToString(sig)}}
			putEnvelope(t, env, id, 2, e)
		}, 2, "is not in the trust root"},
		{"events swapped", func(t *testing.T, env *exhibittest.Env, id string) {
			a, b := storedEnvelope(t, env, id, 1), storedEnvelope(t, env, id, 2)
			putEnvelope(t, env, id, 1, b)
			putEnvelope(t, env, id, 2, a)
		}, 1, "is stored where event 1 belongs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := exhibittest.New(t, exhibittest.Options{})
			id, _ := env.Exchange(t, []byte("disk image"), env.ShareRequest(exhibittest.AgencyUS))
			env.Download(t, env.Partner, id)
			tt.damage(t, env, id)
			recheck(env)
			v, err := env.Service.Show(t.Context(), env.Investigator.Principal, id)
			if err != nil {
				t.Fatalf("Show of a damaged exhibit: %v", err)
			}
			if v.Damage == nil || v.Damage.Seq != tt.seq || !strings.Contains(v.Damage.Reason, tt.reason) {
				t.Fatalf("damage %+v, want event %d: %q", v.Damage, tt.seq, tt.reason)
			}
			_, err = env.Service.Download(t.Context(), env.Investigator.Principal, id, exhibit.DownloadRequest{})
			wantFrozen(t, "the owner's Download", err, tt.seq)
			if tt.seq > 1 {
				_, err = env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
				wantFrozen(t, "the partner's Download", err, tt.seq)
			}
			if n := integrityFailures(t, env, id); n != 1 {
				t.Errorf("%d integrity-failure events, want 1", n)
			}
		})
	}
}

// TestRevokeAndHoldOnFrozenExhibit: what restricts access still works on a frozen
// exhibit.
func TestRevokeAndHoldOnFrozenExhibit(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id, g := env.Exchange(t, []byte("disk image"), env.ShareRequest(exhibittest.AgencyUS))
	forge(t, env, id, 2, func(ev *custody.Event) { ev.Detail = "edited" })
	if _, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, id, g.GrantID, "frozen"), id, g.GrantID, "frozen"); err != nil {
		t.Errorf("Revoke on a frozen exhibit: %v", err)
	}
	if _, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, "frozen"), id, true, "frozen"); err != nil {
		t.Errorf("Hold on a frozen exhibit: %v", err)
	}
	acts := env.Actions(t, id)
	if !slices.Contains(acts, string(custody.ActionRevoke)) || !slices.Contains(acts, string(custody.ActionLegalHold)) {
		t.Errorf("actions %v, want the revoke and the hold recorded", acts)
	}
	if n := integrityFailures(t, env, id); n != 1 {
		t.Errorf("%d integrity-failure events, want 1", n)
	}
}
