package exhibit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
)

// fsck runs Fsck, which must run, and checks that it changed nothing: no stored
// object, no leaf.
func fsck(t *testing.T, env *exhibittest.Env) exhibit.FsckReport {
	t.Helper()
	names, _ := env.Store.List(t.Context(), "")
	cp, _ := env.Log.Checkpoint(t.Context())
	var progress []string
	rep, err := env.Service.Fsck(t.Context(), func(phase string, done, total int64) {
		if done == total {
			progress = append(progress, phase)
		}
	})
	if err != nil {
		t.Fatalf("Fsck: %v", err)
	}
	after, _ := env.Store.List(t.Context(), "")
	if diff := cmp.Diff(names, after); diff != "" {
		t.Errorf("Fsck changed the stored objects (-before +after):\n%s", diff)
	}
	if cp2, _ := env.Log.Checkpoint(t.Context()); cp2.Size != cp.Size {
		t.Errorf("Fsck appended to the log: size %d, then %d", cp.Size, cp2.Size)
	}
	if rep.Exhibits > 0 && !slices.Contains(progress, exhibit.PhaseExhibits) {
		t.Errorf("progress reported the end of %q, want %q", progress, exhibit.PhaseExhibits)
	}
	return rep
}

func TestFsckIntact(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id, _ := env.Exchange(t, []byte("disk image"), env.ShareRequest(exhibittest.AgencyUS))
	env.Download(t, env.Partner, id)
	env.Register(t, env.Investigator, []byte("phone"))
	cp, _ := env.Log.Checkpoint(t.Context())

	rep := fsck(t, env)
	want := exhibit.FsckReport{Exhibits: 2, Events: int(cp.Size), LogChecked: true, LogSize: cp.Size, LogRoot: cp.Hash, Explained: cp.Size}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("Fsck of intact custody (-want +got):\n%s", diff)
	}
	if !rep.Intact() {
		t.Error("Intact() = false")
	}
}

func TestFsckFindsDamagedChains(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	forged, _ := env.Exchange(t, []byte("disk image"), env.ShareRequest(exhibittest.AgencyUS))
	cut, _ := env.Exchange(t, []byte("phone"), env.ShareRequest(exhibittest.AgencyUS))
	env.Register(t, env.Investigator, []byte("intact"))
	forge(t, env, forged, 1, func(ev *custody.Event) { ev.LegalBasis = "forged" })
	if err := env.Store.Delete(eventName(cut, 1)); err != nil {
		t.Fatal(err)
	}

	rep := fsck(t, env)
	got := map[string]exhibit.ChainDamage{}
	for _, d := range rep.Damaged {
		got[d.EvidenceID] = d
	}
	if d := got[forged]; len(rep.Damaged) != 2 || d.Seq != 1 || !strings.Contains(d.Reason, "no trusted signature") || d.Digest == "" {
		t.Errorf("damage %+v, want %s at event 1 (no trusted signature) and %s", rep.Damaged, forged, cut)
	}
	if d := got[cut]; d.Seq != 1 || !strings.Contains(d.Reason, "event 1 is missing") {
		t.Errorf("damage of %s: %+v, want event 1 missing", cut, d)
	}
	if rep.Exhibits != 3 || rep.Intact() {
		t.Errorf("checked %d exhibits, intact %v; want 3, not intact", rep.Exhibits, rep.Intact())
	}
	// Fsck records no integrity failure: the report is the operator's, the gateway
	// records it when it next loads the exhibit.
	if n := integrityFailures(t, env, forged); n != 1 {
		t.Errorf("%d integrity-failure events after Fsck and one Show, want 1", n)
	}
}

// TestFsckFindsUnexplainedLeaves: leaves appended to the log by someone other than the
// gateway are explained by no stored event.
func TestFsckFindsUnexplainedLeaves(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	env.Register(t, env.Investigator, []byte("disk image"))
	var stray []uint64
	for range 2 {
		leaf := make([]byte, 100)
		rand.Read(leaf)
		idx, _, err := env.Log.Append(t.Context(), leaf)
		if err != nil {
			t.Fatal(err)
		}
		stray = append(stray, idx)
	}
	env.Register(t, env.Investigator, []byte("phone"))

	rep := fsck(t, env)
	if rep.Unexplained != 2 || !slices.Equal(rep.UnexplainedIndexes, stray) || rep.Explained != 2 || rep.Intact() {
		t.Errorf("unexplained %d at %v, explained %d, intact %v; want 2 at %v, 2 explained, not intact",
			rep.Unexplained, rep.UnexplainedIndexes, rep.Explained, rep.Intact(), stray)
	}
}

// TestFsckPendingAndRepeatedEvents plays a gateway that stopped after appending an
// event's leaf and before storing its index: the event is pending and its leaf is a
// repeat, not damage; once the gateway loads the exhibit it appends the leaf again and
// the event is explained at its new index.
func TestFsckPendingAndRepeatedEvents(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("disk image")).Evidence.EvidenceID
	env.FailCreate(func(name string) error {
		if strings.HasSuffix(name, ".index") {
			return errors.New("the gateway stopped")
		}
		return nil
	})
	if _, err := env.Service.Share(t.Context(), env.ShareAct(t, id, env.ShareRequest(exhibittest.AgencyUS)), id, env.ShareRequest(exhibittest.AgencyUS)); err == nil {
		t.Fatal("Share succeeded without storing its log index")
	}
	env.FailCreate(nil)

	rep := fsck(t, env)
	if !slices.Equal(rep.Pending, []exhibit.EventRef{{EvidenceID: id, Seq: 1}}) || rep.Repeats != 1 || rep.Explained != 1 || !rep.Intact() {
		t.Errorf("pending %v, repeats %d, explained %d, intact %v; want event 1 pending, 1 repeat, 1 explained, intact",
			rep.Pending, rep.Repeats, rep.Explained, rep.Intact())
	}

	env.Show(t, env.Investigator, id) // the gateway appends event 1 again
	rep = fsck(t, env)
	if len(rep.Pending) != 0 || rep.Repeats != 1 || rep.Explained != 2 || !rep.Intact() {
		t.Errorf("after the re-append: pending %v, repeats %d, explained %d, intact %v; want none pending, 1 repeat, 2 explained, intact",
			rep.Pending, rep.Repeats, rep.Explained, rep.Intact())
	}
}

// TestFsckRemovedIndex: an event without a log index followed by one with an index had
// its index record removed.
func TestFsckRemovedIndex(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id, _ := env.Exchange(t, []byte("disk image"), env.ShareRequest(exhibittest.AgencyUS))
	if err := env.Store.Delete(strings.TrimSuffix(eventName(id, 1), ".dsse") + ".index"); err != nil {
		t.Fatal(err)
	}
	rep := fsck(t, env)
	want := []exhibit.ChainDamage{{EvidenceID: id, Seq: 1, Reason: "no log index is stored for it, but one is for a later event: its index record was removed"}}
	if diff := cmp.Diff(want, rep.Damaged); diff != "" {
		t.Errorf("damage (-want +got):\n%s", diff)
	}
	if rep.Repeats != 1 || rep.Unexplained != 0 {
		t.Errorf("repeats %d, unexplained %d; want the leaf of event 1 counted as a repeat", rep.Repeats, rep.Unexplained)
	}
}

// forgedLeaves serves leaves other than the log's.
type forgedLeaves struct{ *ledgertest.MemLog }

func (l forgedLeaves) Leaves(ctx context.Context, start, count, size uint64) ([][]byte, error) {
	leaves, err := l.MemLog.Leaves(ctx, start, count, size)
	if err == nil && start == 0 {
		leaves[0] = []byte("not the log's leaf")
	}
	return leaves, err
}

func TestFsckLogLeavesChecked(t *testing.T) {
	t.Run("leaves that are not the log's", func(t *testing.T) {
		env := exhibittest.New(t, exhibittest.Options{WrapLog: func(l *ledgertest.MemLog) ledger.Log { return forgedLeaves{l} }})
		env.Register(t, env.Investigator, []byte("disk image"))
		rep := fsck(t, env)
		if !strings.Contains(rep.LogDamage, "do not hash to the root of its checkpoint of size 1") || rep.Intact() {
			t.Errorf("log damage %q, intact %v; want the leaves refused", rep.LogDamage, rep.Intact())
		}
	})
	t.Run("a log that does not serve its leaves", func(t *testing.T) {
		env := exhibittest.New(t, exhibittest.Options{WrapLog: exhibittest.HideLeaves})
		env.Register(t, env.Investigator, []byte("disk image"))
		rep := fsck(t, env)
		if rep.LogChecked || rep.Exhibits != 1 || !rep.Intact() {
			t.Errorf("log checked %v, %d exhibits, intact %v; want the chains checked, not the leaves", rep.LogChecked, rep.Exhibits, rep.Intact())
		}
	})
}

func TestStoredLeaves(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id, _ := env.Exchange(t, []byte("disk image"), env.ShareRequest(exhibittest.AgencyUS))
	env.Register(t, env.Investigator, []byte("phone"))
	forge(t, env, id, 2, func(ev *custody.Event) { ev.Detail = "edited" })
	sl, err := exhibit.ReadStoredLeaves(t.Context(), env.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := env.Log.Checkpoint(t.Context())
	leaves, _ := env.Log.Leaves(t.Context(), 0, cp.Size, cp.Size)
	for i, leaf := range leaves {
		got, err := sl.Leaf(t.Context(), rfc6962.DefaultHasher.HashLeaf(leaf))
		if i == 2 { // the edited event no longer has the leaf of the log
			if !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("leaf 2, of an edited event: got %q, %v; want ledger.ErrNotFound", got, err)
			}
			continue
		}
		if err != nil || string(got) != string(leaf) {
			t.Errorf("leaf %d: got %q, %v; want %q", i, got, err, leaf)
		}
	}
	if _, err := sl.Leaf(t.Context(), make([]byte, 32)); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("an unknown hash: %v, want ledger.ErrNotFound", err)
	}
	if _, err := sl.Leaf(t.Context(), []byte("short")); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a short hash: %v, want ledger.ErrNotFound", err)
	}
}
