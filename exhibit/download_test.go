package exhibit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
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
		if !bytes.Equal(got, content) || c.Size != int64(len(content)) || !bytes.Equal(c.SHA256, exhibittest.Digest(content)) {
			t.Errorf("%s downloaded %d bytes (size %d, sha256 %x), want the %d registered", m.Principal.Person, len(got), c.Size, c.SHA256, len(content))
		}
		ev := exhibittest.Event(t, c.Custody)
		if ev.Action != custody.ActionDownload || ev.Actor.Agency != m.Principal.Agency || ev.Storage == nil {
			t.Errorf("%s's download recorded %s by %s, want a download by it with the storage facts", m.Principal.Person, ev.Action, ev.Actor.Agency)
		}
		if m == env.Partner && (ev.Grant == nil || ev.Grant.ID != g.GrantID || ev.LegalBasis != exhibittest.LegalBasis) {
			t.Errorf("the partner's download names grant %+v under %q, want %s under %q", ev.Grant, ev.LegalBasis, g.GrantID, exhibittest.LegalBasis)
		}
	}
	if v := env.Show(t, env.Partner, id); v.Grants[0].Downloads != 1 {
		t.Errorf("the grant counts %d downloads, want the partner's 1 (the owner's do not count)", v.Grants[0].Downloads)
	}
	env.VerifyBundle(t, env.Investigator, id, content)
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
			c, err := env.Service.Download(t.Context(), tt.who.Principal, tt.id)
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

// TestDownloadLimitConcurrent: of 20 concurrent downloads under a grant of 3, exactly 3
// succeed and are recorded.
func TestDownloadLimitConcurrent(t *testing.T) {
	t.Parallel()
	const tries, limit = 20, 3
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("limited content")
	id, _ := env.Exchange(t, content, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = limit }))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		served int
		errs   []error
	)
	for range tries {
		wg.Go(func() {
			c, err := env.Service.Download(t.Context(), env.Partner.Principal, id)
			if err == nil {
				b, rerr := io.ReadAll(c.Body)
				c.Body.Close()
				if rerr != nil || !bytes.Equal(b, content) {
					err = errors.Join(rerr, errors.New("wrong content"))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				served++
			} else {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if served != limit {
		t.Errorf("served %d of %d concurrent downloads, want exactly %d", served, tries, limit)
	}
	for _, err := range errs {
		checkErr(t, "a download past the limit", err, deniedBy("forbid-download-limit"))
	}
	v := env.Show(t, env.Investigator, id)
	if g := v.Grants[0]; g.Downloads != limit || g.State != api.GrantExhausted {
		t.Errorf("got grant downloads %d, state %s; want %d, %s", g.Downloads, g.State, limit, api.GrantExhausted)
	}
	n := 0
	for _, a := range env.Actions(t, id) {
		if a == string(custody.ActionDownload) {
			n++
		}
	}
	if n != limit {
		t.Errorf("the history records %d downloads, want %d", n, limit)
	}
	env.VerifyBundle(t, env.Investigator, id, content)
}

func TestDownloadIntegrity(t *testing.T) {
	t.Parallel()
	content := make([]byte, 100<<10)
	rand.Read(content)
	tests := []struct {
		name   string
		tamper func(env *exhibittest.Env, name string) error
	}{
		{"a flipped byte", func(env *exhibittest.Env, name string) error { return env.Store.Corrupt(name, 200) }},
		{"a flipped last byte", func(env *exhibittest.Env, name string) error { return env.Store.Corrupt(name, int64(len(content))) }},
		{"a lost tail", func(env *exhibittest.Env, name string) error { return env.Store.Truncate(name, 1000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := exhibittest.New(t, exhibittest.Options{})
			res := env.Register(t, env.Investigator, content)
			id := res.Evidence.EvidenceID
			if err := tt.tamper(env, exhibittest.SealedObject(t, res)); err != nil {
				t.Fatal(err)
			}
			c, err := env.Service.Download(t.Context(), env.Investigator.Principal, id)
			checkErr(t, "Download", err, isErr(exhibit.ErrIntegrity))
			if c != nil {
				t.Error("a download of altered content returned content")
			}
			if got, want := env.Actions(t, id), []string{"register", "integrity-failure"}; !slices.Equal(got, want) {
				t.Errorf("got history %q, want %q", got, want)
			}
			env.VerifyBundle(t, env.Investigator, id, nil)
		})
	}
}

// TestDownloadIntegrityAfterCheck: content altered after the whole-object check (its
// header, or a segment) fails the download or the read, returns nothing of what fails
// authentication, and is recorded.
func TestDownloadIntegrityAfterCheck(t *testing.T) {
	t.Parallel()
	content := make([]byte, 100<<10)
	rand.Read(content)
	tests := []struct {
		name        string
		offset      int64
		wantOpenErr bool // the download fails at once, before it is recorded
		wantHistory []string
	}{
		{"header", 0, true, []string{"register", "integrity-failure"}},
		{"first segment", 500, false, []string{"register", "download", "integrity-failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := exhibittest.New(t, exhibittest.Options{})
			res := env.Register(t, env.Investigator, content)
			id, name := res.Evidence.EvidenceID, exhibittest.SealedObject(t, res)
			var opens atomic.Int32
			env.FailOpen(func(n string) error {
				// The first open is the whole-object check; the second one reads.
				if n == name && opens.Add(1) == 2 {
					return env.Store.Corrupt(n, tt.offset)
				}
				return nil
			})
			c, err := env.Service.Download(t.Context(), env.Investigator.Principal, id)
			if tt.wantOpenErr {
				checkErr(t, "Download", err, isErr(exhibit.ErrIntegrity))
			} else {
				if err != nil {
					t.Fatalf("Download before the content is read: %v", err)
				}
				got, err := io.ReadAll(c.Body)
				c.Body.Close()
				checkErr(t, "reading the content", err, isErr(exhibit.ErrIntegrity))
				if len(got) != 0 {
					t.Errorf("read %d bytes of a segment that fails authentication, want none", len(got))
				}
			}
			if got := env.Actions(t, id); !slices.Equal(got, tt.wantHistory) {
				t.Errorf("got history %q, want %q", got, tt.wantHistory)
			}
		})
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
	c, err := env.Service.Download(t.Context(), env.Partner.Principal, id)
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
