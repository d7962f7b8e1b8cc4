package exhibit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/keys"
)

func TestDownload(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := make([]byte, 1<<20+1)
	rand.Read(content)
	id, g := env.Exchange(t, content, env.ShareRequest(exhibittest.AgencyUS))
	for _, m := range []exhibittest.Member{env.Investigator, env.Partner} {
		got, c := env.Download(t, m, id)
		if !bytes.Equal(got, content) || c.Size != int64(len(content)) || c.Length != c.Size || c.Partial ||
			!bytes.Equal(c.SHA256, exhibittest.Digest(content)) || !custody.ValidTransferID(c.TransferID) {
			t.Errorf("%s downloaded %d bytes (size %d, length %d, partial %v, sha256 %x, transfer %q), want the %d registered in a new transfer",
				m.Principal.Person, len(got), c.Size, c.Length, c.Partial, c.SHA256, c.TransferID, len(content))
		}
		start := exhibittest.Event(t, c.Custody)
		if start.Action != custody.ActionDownloadStart || start.Actor.Agency != m.Principal.Agency ||
			start.Transfer == nil || start.Transfer.ID != c.TransferID || start.Transfer.Length != int64(len(content)) ||
			!start.Transfer.LeaseUntil.After(start.Time) {
			t.Errorf("%s's download opened with %s %+v, want a download-start of the whole content with a lease", m.Principal.Person, start.Action, start.Transfer)
		}
		if m == env.Partner && (start.Grant == nil || start.Grant.ID != g.GrantID || start.LegalBasis != exhibittest.LegalBasis) {
			t.Errorf("the partner's download names grant %+v under %q, want %s under %q", start.Grant, start.LegalBasis, g.GrantID, exhibittest.LegalBasis)
		}
		deliver := lastEvent(t, env, m, id)
		if deliver.Action != string(custody.ActionDownloadDeliver) || deliver.Actor.Agency != m.Principal.Agency {
			t.Errorf("%s's download ended with %s by %s, want a download-deliver by it", m.Principal.Person, deliver.Action, deliver.Actor.Agency)
		}
	}
	if v := env.Show(t, env.Partner, id); v.Grants[0].Downloads != 1 || v.Grants[0].DownloadsInProgress != 0 {
		t.Errorf("the grant counts %d downloads, %d in progress; want the partner's 1 (the owner's do not count), none in progress",
			v.Grants[0].Downloads, v.Grants[0].DownloadsInProgress)
	}
	env.VerifyBundle(t, env.Investigator, id, content)
}

// lastEvent is the newest custody event of id that m sees.
func lastEvent(t *testing.T, env *exhibittest.Env, m exhibittest.Member, id string) api.HistoryEvent {
	t.Helper()
	h, err := env.Service.History(t.Context(), m.Principal, id)
	if err != nil {
		t.Fatal(err)
	}
	return h.Events[len(h.Events)-1]
}

func TestDownloadRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	share := env.ShareRequest(exhibittest.AgencyUS)
	register := func(content string) string {
		return env.Register(t, env.Investigator, []byte(content)).Evidence.EvidenceID
	}
	viewOnly, _ := env.Exchange(t, []byte("view only"), with(share, func(r *api.ShareRequest) { r.ViewOnly = true }))
	notAccepted := register("not accepted")
	env.Share(t, notAccepted, share)
	revoked, g := env.Exchange(t, []byte("revoked"), share)
	if _, err := env.Service.Revoke(t.Context(), env.RevokeAct(t, revoked, g.GrantID, ""), revoked, g.GrantID, ""); err != nil {
		t.Fatal(err)
	}
	expired, _ := env.Exchange(t, []byte("expired"), with(share, func(r *api.ShareRequest) { r.Expires = env.Clock.Now().Add(time.Hour) }))
	exhausted, _ := env.Exchange(t, []byte("exhausted"), with(share, func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
	env.Download(t, env.Partner, exhausted)
	courtGrant := register("court")
	env.Share(t, courtGrant, env.ShareRequest(exhibittest.CourtNL))
	open, _ := env.Exchange(t, []byte("open"), share)
	env.Clock.Advance(2 * time.Hour)

	tests := []struct {
		name string
		who  exhibittest.Member
		id   string
		want errWant
	}{
		{"view-only grant", env.Partner, viewOnly, deniedBy("forbid-download-view-only")},
		{"grant not accepted", env.Partner, notAccepted, deniedBy("forbid-download-not-accepted")},
		{"revoked grant", env.Partner, revoked, deniedBy("forbid-revoked-grant")},
		{"expired grant", env.Partner, expired, deniedBy("forbid-expired-grant")},
		{"no downloads left", env.Partner, exhausted, deniedBy("forbid-download-limit")},
		{"court with a grant it could not accept", env.Court, courtGrant, deniedBy("forbid-download-not-accepted")},
		{"stranger", env.Stranger, open, isErr(exhibit.ErrNotFound)},
		{"evidence that does not exist", env.Investigator, missingID, isErr(exhibit.ErrNotFound)},
		{"malformed evidence id", env.Investigator, "ev-../../etc/passwd", invalidInput()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := eventCount(t, env, tt.id)
			c, err := env.Service.Download(t.Context(), tt.who.Principal, tt.id, exhibit.DownloadRequest{})
			checkErr(t, "Download", err, tt.want)
			if c != nil {
				t.Error("a refused download returned content")
			}
			if after := eventCount(t, env, tt.id); after != before {
				t.Errorf("a refused download changed the chain from %d to %d events", before, after)
			}
		})
	}
}

// eventCount returns the length of the custody chain of id, 0 if there is none.
func eventCount(t *testing.T, env *exhibittest.Env, id string) int {
	t.Helper()
	v, err := env.Service.Show(t.Context(), env.Investigator.Principal, id)
	if err != nil {
		return 0
	}
	return v.EventCount
}

// TestDownloadLimitConcurrent: of 20 concurrent downloads under a grant of one, exactly
// one starts and is delivered; the others are refused by the limit, which counts the
// transfer under way.
func TestDownloadLimitConcurrent(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			const tries = 20
			env := exhibittest.New(t, exhibittest.Options{})
			content := []byte("limited content")
			id, _ := env.Exchange(t, content, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = limit }))
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				delivered int
				errs      []error
			)
			for range tries {
				wg.Go(func() {
					c, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
					if err == nil {
						b, rerr := io.ReadAll(c.Body)
						c.Body.Close()
						c.End(t.Context(), int64(len(b)), rerr)
						if rerr != nil || !bytes.Equal(b, content) {
							err = errors.Join(rerr, errors.New("wrong content"))
						}
					}
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						delivered++
					} else {
						errs = append(errs, err)
					}
				})
			}
			wg.Wait()
			if delivered != limit {
				t.Errorf("delivered %d of %d concurrent downloads, want exactly %d", delivered, tries, limit)
			}
			for _, err := range errs {
				checkErr(t, "a download past the limit", err, deniedBy("forbid-download-limit"))
			}
			v := env.Show(t, env.Investigator, id)
			if g := v.Grants[0]; g.Downloads != limit || g.State != api.GrantExhausted {
				t.Errorf("got grant downloads %d, state %s; want %d, %s", g.Downloads, g.State, limit, api.GrantExhausted)
			}
			counts := actionCounts(t, env, id)
			if counts[custody.ActionDownloadStart] != limit || counts[custody.ActionDownloadDeliver] != limit {
				t.Errorf("the history records %d starts and %d deliveries, want %d of each", counts[custody.ActionDownloadStart], counts[custody.ActionDownloadDeliver], limit)
			}
			env.VerifyBundle(t, env.Investigator, id, content)
		})
	}
}

// actionCounts counts the actions of id's history.
func actionCounts(t *testing.T, env *exhibittest.Env, id string) map[custody.Action]int {
	t.Helper()
	n := map[custody.Action]int{}
	for _, a := range env.Actions(t, id) {
		n[custody.Action(a)]++
	}
	return n
}

// TestDownloadIntegrity: stored content altered on disk is found while it streams: the
// request opens (only its first segment is read ahead), returns no byte of a segment
// that fails, and the history records the start, the integrity failure and the
// abandoned request. Content altered in the range's first segment fails the request
// before it is recorded. Either way the grant keeps its download.
func TestDownloadIntegrity(t *testing.T) {
	t.Parallel()
	const seg = 1 << 20 // the default segment
	content := make([]byte, 3*seg)
	rand.Read(content)
	tests := []struct {
		name   string
		tamper func(env *exhibittest.Env, name string) error
		// good is how many plaintext bytes come before the first altered segment.
		good int
	}{
		{"a flipped byte in the first segment", func(env *exhibittest.Env, name string) error { return env.Store.Corrupt(name, 200) }, 0},
		{"a flipped byte in a middle segment", func(env *exhibittest.Env, name string) error { return env.Store.Corrupt(name, seg+seg/2) }, seg - 56},
		{"a flipped last byte", func(env *exhibittest.Env, name string) error {
			return env.Store.Corrupt(name, int64(len(content))+40+4*16-1)
		}, 3*seg - 56 - 2*16},
		{"a lost tail", func(env *exhibittest.Env, name string) error { return env.Store.Truncate(name, 2*seg) }, 2*seg - 56 - 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := exhibittest.New(t, exhibittest.Options{})
			res := env.Register(t, env.Investigator, content)
			id := res.Evidence.EvidenceID
			g := env.Share(t, id, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
			env.Accept(t, env.Partner, id, g.GrantID)
			if err := tt.tamper(env, exhibittest.SealedObject(t, res)); err != nil {
				t.Fatal(err)
			}
			c, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
			want := []string{"register", "share", "accept", "integrity-failure"}
			if tt.good == 0 {
				checkErr(t, "Download of content altered in its first segment", err, isErr(exhibit.ErrIntegrity))
			} else {
				if err != nil {
					t.Fatalf("Download of content altered after its first segment: %v, want the request to open", err)
				}
				var got bytes.Buffer
				n, err := c.Body.(io.WriterTo).WriteTo(&got)
				c.Body.Close()
				c.End(t.Context(), n, err)
				checkErr(t, "streaming altered content", err, isErr(exhibit.ErrIntegrity))
				if got.Len() != tt.good || !bytes.Equal(got.Bytes(), content[:got.Len()]) {
					t.Errorf("streamed %d bytes, want the %d bytes of the segments before the altered one", got.Len(), tt.good)
				}
				want = []string{"register", "share", "accept", "download-start", "integrity-failure", "download-abandon"}
				if d := lastEvent(t, env, env.Investigator, id); !strings.Contains(d.Detail, "integrity check") {
					t.Errorf("the abandon event says %q, want the integrity failure", d.Detail)
				}
				// A resumed request from where the stream broke fails before it opens.
				_, err = env.Service.Download(t.Context(), env.Partner.Principal, id,
					exhibit.DownloadRequest{Range: &api.ByteRange{First: n, Last: -1}, TransferID: c.TransferID})
				checkErr(t, "resuming at the altered segment", err, isErr(exhibit.ErrIntegrity))
				want = append(want, "integrity-failure")
			}
			if got := env.Actions(t, id); !slices.Equal(got, want) {
				t.Errorf("got history %q, want %q", got, want)
			}
			if g := env.Show(t, env.Partner, id).Grants[0]; g.Downloads != 0 || g.DownloadsInProgress != 0 || g.State != api.GrantActive {
				t.Errorf("after a failed transfer the grant has %d downloads, %d in progress, state %s; want 0, 0, active", g.Downloads, g.DownloadsInProgress, g.State)
			}
			env.VerifyBundle(t, env.Investigator, id, nil)
		})
	}
}

// TestDownloadHeaderAltered: a header altered on disk fails the request before anything
// is sent or counted; only the integrity failure is recorded.
func TestDownloadHeaderAltered(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	res := env.Register(t, env.Investigator, []byte("content"))
	id := res.Evidence.EvidenceID
	if err := env.Store.Corrupt(exhibittest.SealedObject(t, res), 0); err != nil {
		t.Fatal(err)
	}
	c, err := env.Service.Download(t.Context(), env.Investigator.Principal, id, exhibit.DownloadRequest{})
	checkErr(t, "Download", err, isErr(exhibit.ErrIntegrity))
	if c != nil {
		t.Error("a download of altered content returned content")
	}
	if got, want := env.Actions(t, id), []string{"register", "integrity-failure"}; !slices.Equal(got, want) {
		t.Errorf("got history %q, want %q", got, want)
	}
}

// TestDownloadKeysUnavailable: a download the key manager cannot serve fails as
// unavailable, sends nothing, and is not recorded: the custody record says what was
// served, and the grant keeps its download for when the key manager is back.
func TestDownloadKeysUnavailable(t *testing.T) {
	t.Parallel()
	km := exhibittest.NewKeyManager()
	env := exhibittest.New(t, exhibittest.Options{DataKeys: km})
	id, _ := env.Exchange(t, []byte("content"), with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
	km.SetFail(func(string) error { return keys.ErrUnavailable })
	c, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
	checkErr(t, "Download", err, isErr(exhibit.ErrKeysUnavailable))
	if c != nil {
		t.Error("a download without keys returned content")
	}
	if got, want := env.Actions(t, id), []string{"register", "share", "accept"}; !slices.Equal(got, want) {
		t.Errorf("got history %q, want %q", got, want)
	}
	km.SetFail(nil)
	if got, _ := env.Download(t, env.Partner, id); string(got) != "content" {
		t.Errorf("downloaded %q once the key manager is back, want the content", got)
	}
}
