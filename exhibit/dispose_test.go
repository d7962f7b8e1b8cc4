package exhibit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/storage"
)

const (
	retention = 30 * 24 * time.Hour
	order     = "order of the Rotterdam District Court, 2026/881"
)

// disposedOf wants an *exhibit.DisposedError.
func disposedOf() errWant {
	return errWant{"an *exhibit.DisposedError", func(err error) bool {
		var d *exhibit.DisposedError
		return errors.As(err, &d)
	}}
}

// objectsOf returns the stored objects of exhibit id, by kind: content, data keys,
// custody records.
func objectsOf(t *testing.T, env *exhibittest.Env, id string) (content, keys, records []string) {
	t.Helper()
	names, err := env.Store.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		switch {
		case !strings.Contains(n, id):
		case strings.HasSuffix(n, "/sealed"):
			content = append(content, n)
		case strings.Contains(n, "/datakey/"):
			keys = append(keys, n)
		default:
			records = append(records, n)
		}
	}
	return content, keys, records
}

// TestDispose goes through the life of an exhibit to its disposal: refused inside the
// retention period and under legal hold, by a partner and without an authority;
// allowed to the owner after the retention; then the content is gone, the record
// remains, and the chain verifies and shows the disposal.
func TestDispose(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{Retention: exhibit.Retention{Default: retention}})
	content := []byte("seized phone image")
	req := env.ShareRequest(exhibittest.AgencyUS)
	req.Expires = env.Clock.Now().Add(2 * retention) // active still when the retention ends
	id, _ := env.Exchange(t, content, req)

	if v := env.Show(t, env.Investigator, id); v.RetainUntil == nil || !v.RetainUntil.Equal(env.Clock.Now().Add(retention)) {
		t.Errorf("show: retain until %v, want the registration time plus %s", v.RetainUntil, retention)
	}
	before := env.Actions(t, id)
	refusals := []struct {
		name      string
		who       exhibittest.Member
		authority string
		want      errWant
	}{
		{"owner inside the retention", env.Investigator, order, conflictOf(exhibit.ConflictRetained)},
		{"without an authority", env.Investigator, "", invalidInput()},
		{"authority with a control character", env.Investigator, "order\n17", invalidInput()},
		{"partner", env.Partner, order, deniedBy("forbid-dispose-by-others")},
		{"stranger", env.Stranger, order, isErr(exhibit.ErrNotFound)},
	}
	for _, r := range refusals {
		_, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, r.who, id, r.authority), id, r.authority)
		checkErr(t, r.name, err, r.want)
	}
	if _, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Partner, id, order), id, order); err == nil ||
		!strings.Contains(err.Error(), "only an investigator of the owning agency") {
		t.Errorf("partner's disposal: got %v, want a denial that says who may dispose", err)
	}

	// Under legal hold, also after the retention.
	if _, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, "appeal pending"), id, true, "appeal pending"); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(retention + time.Hour)
	_, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	checkErr(t, "under legal hold", err, conflictOf(exhibit.ConflictUnderLegalHold))
	if _, err := env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, false, "appeal decided"), id, false, "appeal decided"); err != nil {
		t.Fatal(err)
	}
	if got, want := env.Actions(t, id), append(slices.Clone(before), "legal-hold", "legal-hold-release"); !slices.Equal(got, want) {
		t.Fatalf("refused disposals recorded events: history %q, want %q", got, want)
	}
	sealedName, keyNames, _ := objectsOf(t, env, id)
	sealedCopy, err := env.Store.Read(sealedName[0])
	if err != nil {
		t.Fatal(err)
	}
	savedKey, err := env.Store.Read(keyNames[0])
	if err != nil {
		t.Fatal(err)
	}

	res, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	if err != nil {
		t.Fatalf("disposal after the retention: %v", err)
	}
	ev := exhibittest.Event(t, res.Custody)
	if ev.Action != custody.ActionDispose || ev.LegalBasis != order || ev.Actor.Agency != exhibittest.AgencyNL || !res.ContentDestroyed || res.DataKeysDestroyed != 1 {
		t.Errorf("disposal: %s event under %q by %s, content destroyed %t, %d data keys; want dispose under %q by %s, content and 1 key destroyed",
			ev.Action, ev.LegalBasis, ev.Actor.Agency, res.ContentDestroyed, res.DataKeysDestroyed, order, exhibittest.AgencyNL)
	}
	if c, k, r := objectsOf(t, env, id); len(c) != 0 || len(k) != 0 || len(r) == 0 {
		t.Errorf("after the disposal the store holds content %q, data keys %q, records %q; want only records", c, k, r)
	}

	// The content is gone for everyone; what needs it is refused; reads still work.
	for _, m := range []exhibittest.Member{env.Investigator, env.Partner} {
		_, err := env.Service.Download(t.Context(), m.Principal, id, exhibit.DownloadRequest{})
		checkErr(t, "download by "+m.Principal.Person, err, disposedOf())
	}
	_, err = env.Service.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.CourtNL)), id, env.ShareRequest(exhibittest.CourtNL))
	checkErr(t, "share", err, disposedOf())
	_, err = env.Service.Hold(t.Context(), env.HoldAct(t, env.Investigator, id, true, ""), id, true, "")
	checkErr(t, "hold", err, disposedOf())
	v := env.Show(t, env.Investigator, id)
	if v.Disposal == nil || v.Disposal.Authority != order || v.Disposal.Seq != ev.Seq {
		t.Errorf("show after the disposal: %+v, want the disposal under %q", v.Disposal, order)
	}
	r := env.VerifyBundle(t, env.Investigator, id, content)
	if last := r.Events[ev.Seq].Event; last.Action != custody.ActionDispose || last.LegalBasis != order {
		t.Errorf("the verified bundle's event %d is %s under %q, want the disposal", ev.Seq, last.Action, last.LegalBasis)
	}

	// A repeated disposal answers with the same event and destroys nothing more.
	again, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, "another order"), id, "another order")
	if err != nil || again.Custody.Seq != ev.Seq || again.ContentDestroyed || again.DataKeysDestroyed != 0 {
		t.Errorf("repeated disposal = %+v, %v; want event %d again and nothing destroyed", again, err, ev.Seq)
	}

	// Crypto-shredding: no stored object unwraps as the data key of the saved copy.
	checkShredded(t, env, id, sealedCopy, savedKey, int64(len(content)))
}

// checkShredded tries every object left in the store, and the wrapped key it holds if
// it is a data-key record, as the wrapped data key of the saved copy of exhibit id's
// sealed content, and checks none opens it. savedKey, a copy of the exhibit's data-key
// record taken before the disposal, must open it: the check can fail. plainSize is
// the content's size, which the sealed-object reader takes from the record.
func checkShredded(t *testing.T, env *exhibittest.Env, id string, sealedCopy, savedKey []byte, plainSize int64) {
	t.Helper()
	if _, err := env.Store.Create(t.Context(), "saved/copy", bytes.NewReader(sealedCopy)); err != nil {
		t.Fatal(err)
	}
	sealer := storage.Sealer{Store: env.Store, Keys: env.Keys}
	opens := func(wrapped []byte) (bool, error) {
		sealed := storage.Sealed{Object: storage.Info{Name: "saved/copy", Size: int64(len(sealedCopy))},
			KeyRef: "local:kek-v1", WrappedKey: wrapped, PlainSize: plainSize}
		rc, err := sealer.Open(t.Context(), sealed, []byte(id))
		if err != nil {
			return false, err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		return err == nil, err
	}
	if ok, err := opens(wrappedCandidates(savedKey)[1]); !ok {
		t.Fatalf("the data-key record saved before the disposal does not open the saved copy (%v): the check proves nothing", err)
	}
	names, err := env.Store.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := env.Store.Read(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, candidate := range wrappedCandidates(b) {
			if ok, err := opens(candidate); ok {
				t.Errorf("stored object %s opens the saved copy of disposed %s", n, id)
			} else if !errors.Is(err, keys.ErrUnwrap) {
				t.Errorf("opening the saved copy with %s as its data key: got %v, want an unwrap failure", n, err)
			}
		}
	}
}

// wrappedCandidates returns what an object could offer as a wrapped data key: its bytes,
// and, if it is a data-key record, the wrapped key it holds.
func wrappedCandidates(b []byte) [][]byte {
	out := [][]byte{b}
	var rec struct {
		Wrapped []byte `json:"wrapped"`
	}
	if json.Unmarshal(b, &rec) == nil && len(rec.Wrapped) > 0 {
		out = append(out, rec.Wrapped)
	}
	return out
}

// TestDisposeHeedsTheStore: the store's own retention and legal hold refuse a
// disposal the custody chain would allow, before anything is recorded.
func TestDisposeHeedsTheStore(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{Retention: exhibit.Retention{Default: retention}})
	reg := env.Register(t, env.Investigator, []byte("content"))
	id := reg.Evidence.EvidenceID
	content, keys, _ := objectsOf(t, env, id)
	// Registration retains the content and the data key in the store until the
	// retention the register event records.
	until := exhibittest.Event(t, reg.Custody).RetainUntil
	for _, n := range append(content, keys...) {
		if l, err := env.Store.Lock(t.Context(), n); err != nil || until == nil || !l.RetainUntil.Equal(*until) {
			t.Errorf("store lock of %s = %+v, %v; want retained until %v, the register event's", n, l, err, until)
		}
	}
	if err := env.Store.SetRetention(t.Context(), keys[0], env.Clock.Now().Add(2*retention)); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(retention + time.Hour)
	_, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	checkErr(t, "a data key retained longer in the store", err, conflictOf(exhibit.ConflictRetained))
	if err == nil || !strings.Contains(err.Error(), "object store's retention") {
		t.Errorf("got %v, want it to name the store's retention", err)
	}
	env.Clock.Advance(retention)
	if err := env.Store.SetLegalHold(t.Context(), content[0], "", true); err != nil {
		t.Fatal(err)
	}
	_, err = env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	checkErr(t, "content held in the store", err, conflictOf(exhibit.ConflictUnderLegalHold))
	if got := env.Actions(t, id); !slices.Equal(got, []string{"register"}) {
		t.Errorf("refused disposals recorded events: %q", got)
	}
}

// TestDisposeRefusedByTheStoreAfterRecording: a store whose clock is behind the
// gateway's refuses to destroy (as S3 Object Lock refuses a gateway whose clock runs
// ahead). The disposal is recorded, the content is no longer served but stays stored,
// and a disposal run again once the store allows it finishes with the same event.
func TestDisposeRefusedByTheStoreAfterRecording(t *testing.T) {
	t.Parallel()
	rot := exhibittest.NewKeyManager()
	env := exhibittest.New(t, exhibittest.Options{DataKeys: rot, Rotator: rot, Retention: exhibit.Retention{Default: retention}})
	storeClock := exhibittest.NewClock(env.Clock.Now())
	env.Store.Now = storeClock.Now
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	env.Clock.Advance(retention + time.Hour)

	_, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	checkErr(t, "the store refuses", err, isErr(storage.ErrRetained))
	if err == nil || !strings.Contains(err.Error(), "is recorded (custody event 1)") {
		t.Errorf("got %v, want it to say the disposal is recorded", err)
	}
	if c, _, _ := objectsOf(t, env, id); len(c) != 1 {
		t.Errorf("after the store refused: content objects %q, want the content kept", c)
	}
	_, err = env.Service.Download(t.Context(), env.Investigator.Principal, id, exhibit.DownloadRequest{})
	checkErr(t, "download after a recorded disposal", err, disposedOf())
	// A key rotation passes over it: a new data-key version would outlive the disposal.
	if n, err := env.Service.RotateKeys(t.Context(), "NL", custody.Party{Agency: "operator", Jurisdiction: "NL"}); err != nil || n != 0 {
		t.Errorf("rotation over a recorded disposal rewrapped %d, %v; want none", n, err)
	}
	if _, k, _ := objectsOf(t, env, id); len(k) != 1 {
		t.Errorf("data keys after the rotation: %q, want the one version", k)
	}

	storeClock.Advance(retention + time.Hour)
	res, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Investigator, id, order), id, order)
	if err != nil || res.Custody.Seq != 1 || !res.ContentDestroyed {
		t.Fatalf("disposal run again = %+v, %v; want event 1 and the content destroyed", res, err)
	}
	if c, k, _ := objectsOf(t, env, id); len(c)+len(k) != 0 {
		t.Errorf("after the disposal finished: content %q, data keys %q left", c, k)
	}
	if got := env.Actions(t, id); !slices.Equal(got, []string{"register", "dispose"}) {
		t.Errorf("history %q, want one disposal", got)
	}
}

// TestCourtDisposes: a court of the evidence's jurisdiction, which a grant made aware
// of it, disposes of it; every version of a rotated data key is destroyed, and later
// rotations pass the disposed exhibit over.
func TestCourtDisposes(t *testing.T) {
	t.Parallel()
	rot := exhibittest.NewKeyManager()
	env := exhibittest.New(t, exhibittest.Options{DataKeys: rot, Rotator: rot, Retention: exhibit.Retention{Cases: map[string]time.Duration{exhibittest.CaseID: time.Hour}}})
	content := []byte("content")
	id := env.Register(t, env.Investigator, content).Evidence.EvidenceID
	req := env.ShareRequest(exhibittest.CourtNL)
	req.ViewOnly = true
	env.Share(t, id, req)
	operator := custody.Party{Agency: "operator", Jurisdiction: "NL"}
	if _, err := env.Service.RotateKeys(t.Context(), "NL", operator); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Hour)
	res, err := env.Service.Dispose(t.Context(), env.DisposeAct(t, env.Court, id, order), id, order)
	if err != nil {
		t.Fatal(err)
	}
	if res.DataKeysDestroyed != 2 || !res.ContentDestroyed {
		t.Errorf("court's disposal destroyed content %t and %d data keys, want the content and both versions", res.ContentDestroyed, res.DataKeysDestroyed)
	}
	if n, err := env.Service.RotateKeys(t.Context(), "NL", operator); err != nil || n != 0 {
		t.Errorf("rotation after the disposal rewrapped %d, %v; want none", n, err)
	}
	if got := env.Actions(t, id); got[len(got)-1] != "dispose" {
		t.Errorf("history %q, want the disposal last", got)
	}
}
