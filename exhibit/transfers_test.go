package exhibit_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// threeSegments is content that spans three segments of the sealed format and a bit.
func threeSegments() []byte {
	b := make([]byte, 3<<20+1000)
	rand.Read(b)
	return b
}

func rangeFrom(first int64) *api.ByteRange { return &api.ByteRange{First: first, Last: -1} }

func rangeOf(first, last int64) *api.ByteRange { return &api.ByteRange{First: first, Last: last} }

// TestDownloadRanges reads ranges of content that spans segments: each is a new
// transfer; the ones that reach the last byte deliver it, the others leave it open.
func TestDownloadRanges(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := threeSegments()
	size := int64(len(content))
	id := env.Register(t, env.Investigator, content).Evidence.EvidenceID
	const seg0 = 1<<20 - 56 // plaintext of the first segment
	tests := []struct {
		name     string
		r        *api.ByteRange
		off, n   int64
		delivers bool
	}{
		{"first byte", rangeOf(0, 0), 0, 1, false},
		{"middle of a segment", rangeOf(seg0+1000, seg0+1999), seg0 + 1000, 1000, false},
		{"across segments", rangeOf(seg0-10, seg0+1<<20+10), seg0 - 10, 1<<20 + 21, false},
		{"from a middle segment to the end", rangeFrom(seg0 + 5), seg0 + 5, size - seg0 - 5, true},
		{"suffix", &api.ByteRange{Suffix: 5000, IsSuffix: true}, size - 5000, 5000, true},
		{"last byte", rangeOf(size-1, size-1), size - 1, 1, true},
		{"past the end, clipped", rangeOf(size-2, size+100), size - 2, 2, true},
		{"whole, as a range", rangeFrom(0), 0, size, true},
	}
	for _, tt := range tests {
		before := len(env.Actions(t, id))
		got, c := env.DownloadRequest(t, env.Investigator, id, exhibit.DownloadRequest{Range: tt.r})
		if !c.Partial || c.Offset != tt.off || c.Length != tt.n || c.Size != size || !bytes.Equal(got, content[tt.off:tt.off+tt.n]) {
			t.Errorf("%s: got [%d, +%d) of %d (partial %v), %d bytes; want [%d, +%d) of the content", tt.name, c.Offset, c.Length, c.Size, c.Partial, len(got), tt.off, tt.n)
		}
		ev := exhibittest.Event(t, c.Custody)
		if ev.Transfer.Offset != tt.off || ev.Transfer.Length != tt.n {
			t.Errorf("%s: the start event records [%d, +%d), want [%d, +%d)", tt.name, ev.Transfer.Offset, ev.Transfer.Length, tt.off, tt.n)
		}
		want := []string{"download-start"}
		if tt.delivers {
			want = append(want, "download-deliver")
		}
		if got := env.Actions(t, id)[before:]; !slices.Equal(got, want) {
			t.Errorf("%s: recorded %q, want %q", tt.name, got, want)
		}
	}
}

// TestDownloadUnsatisfiable: a range outside the content is refused with its size, and
// nothing is recorded or reserved.
func TestDownloadUnsatisfiable(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, _ := env.Exchange(t, []byte("0123456789"), with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
	empty := env.Register(t, env.Investigator, nil).Evidence.EvidenceID
	for _, tt := range []struct {
		id   string
		who  exhibittest.Member
		r    *api.ByteRange
		size int64
	}{
		{id, env.Partner, rangeFrom(10), 10},
		{id, env.Partner, rangeFrom(1 << 40), 10},
		{id, env.Partner, &api.ByteRange{Suffix: 0, IsSuffix: true}, 10},
		{empty, env.Investigator, rangeFrom(0), 0},
	} {
		before := env.Actions(t, tt.id)
		c, err := env.Service.Download(t.Context(), tt.who.Principal, tt.id, exhibit.DownloadRequest{Range: tt.r})
		var re *exhibit.RangeError
		if !errors.As(err, &re) || re.Size != tt.size || c != nil {
			t.Errorf("%s of %d bytes: got %v, want a *RangeError of size %d", tt.r, tt.size, err, tt.size)
		}
		if after := env.Actions(t, tt.id); !slices.Equal(after, before) {
			t.Errorf("%s: an unsatisfiable range recorded %q", tt.r, after[len(before):])
		}
	}
	if got, _ := env.Download(t, env.Partner, id); string(got) != "0123456789" {
		t.Errorf("after the refused ranges the partner downloads %q, want the content: they reserved nothing", got)
	}
	if got, c := env.Download(t, env.Investigator, empty); len(got) != 0 || c.Length != 0 {
		t.Errorf("the empty content downloads %d bytes, want none", len(got))
	}
}

// TestDownloadIfRange: a range under an If-Range that names the content holds; under any
// other validator the whole content is sent.
func TestDownloadIfRange(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("0123456789")
	id := env.Register(t, env.Investigator, content).Evidence.EvidenceID
	etag := api.ContentETag(exhibittest.Digest(content))
	for _, tt := range []struct {
		ifRange string
		want    string
	}{
		{etag, "56789"},
		{`"0000"`, "0123456789"},
		{"W/" + etag, "0123456789"},
		{"Tue, 01 Dec 2026 10:00:00 GMT", "0123456789"},
	} {
		got, c := env.DownloadRequest(t, env.Investigator, id, exhibit.DownloadRequest{Range: rangeFrom(5), IfRange: tt.ifRange})
		if string(got) != tt.want || c.Partial != (len(tt.want) < len(content)) || c.ETag != etag {
			t.Errorf("If-Range %s: got %q (partial %v, etag %s), want %q", tt.ifRange, got, c.Partial, c.ETag, tt.want)
		}
	}
}

// readPart opens a request, reads n bytes of it and ends it with cause as a client that
// stops there would.
func readPart(t *testing.T, env *exhibittest.Env, s *exhibit.Service, m exhibittest.Member, id string, req exhibit.DownloadRequest, n int64, cause error) *exhibit.Content {
	t.Helper()
	c, err := s.Download(t.Context(), m.Principal, id, req)
	if err != nil {
		t.Fatalf("opening a request of %s: %v", id, err)
	}
	got, err := io.ReadAll(io.LimitReader(c.Body, n))
	c.Body.Close()
	if err != nil || int64(len(got)) != n {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, n)
	}
	if cause != nil {
		c.End(t.Context(), n, cause)
	}
	return c
}

// inProgress returns the partner's grant's downloads and downloads in progress.
func inProgress(t *testing.T, env *exhibittest.Env, id string) (int, int) {
	t.Helper()
	g := env.Show(t, env.Investigator, id).Grants[0]
	return g.Downloads, g.DownloadsInProgress
}

// TestTransferResume: a transfer cut by its client releases its reservation; the same
// client resumes it from where its file ends and the transfer, not a new one, is
// delivered: the grant of one download is used once, and is then used up.
func TestTransferResume(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := threeSegments()
	id, _ := env.Exchange(t, content, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))

	first := readPart(t, env, env.Service, env.Partner, id, exhibit.DownloadRequest{}, 1500000, exhibit.ErrClientGone)
	if d, p := inProgress(t, env, id); d != 0 || p != 0 {
		t.Errorf("after the client left: %d downloads, %d in progress; want 0 and 0 (the reservation released)", d, p)
	}
	got, c := env.DownloadRequest(t, env.Partner, id, exhibit.DownloadRequest{Range: rangeFrom(1500000), TransferID: first.TransferID})
	if c.TransferID != first.TransferID || !bytes.Equal(got, content[1500000:]) {
		t.Errorf("the resumed request runs transfer %s with %d bytes, want %s with the rest", c.TransferID, len(got), first.TransferID)
	}
	if d, p := inProgress(t, env, id); d != 1 || p != 0 {
		t.Errorf("after the resumed transfer: %d downloads, %d in progress; want 1 and 0", d, p)
	}
	want := []string{"register", "share", "accept", "download-start", "download-abandon", "download-resume", "download-deliver"}
	if got := env.Actions(t, id); !slices.Equal(got, want) {
		t.Errorf("got history %q, want %q", got, want)
	}
	abandon := eventAt(t, env, id, 4)
	if abandon.Transfer.ID != first.TransferID || abandon.Transfer.Sent != 1500000 || abandon.Transfer.Request != first.Custody.Seq {
		t.Errorf("the abandon event records %+v, want transfer %s, 1500000 bytes sent, request %d", abandon.Transfer, first.TransferID, first.Custody.Seq)
	}
	if _, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{}); err == nil {
		t.Error("a second transfer under a grant of one download was allowed")
	} else {
		checkErr(t, "a second transfer", err, deniedBy("forbid-download-limit"))
	}
	// The limit is checked first: a delivered transfer is not resumable either
	// (TestTransferNotResumable).
	_, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{TransferID: first.TransferID, Range: rangeFrom(0)})
	checkErr(t, "resuming a delivered transfer", err, deniedBy("forbid-download-limit"))
	env.VerifyBundle(t, env.Investigator, id, content)
}

// eventAt returns the custody event seq of id.
func eventAt(t *testing.T, env *exhibittest.Env, id string, seq int) custody.Event {
	t.Helper()
	b, err := env.Store.Read(eventName(id, seq))
	if err != nil {
		t.Fatal(err)
	}
	var e custody.Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	payload, _ := e.PayloadBytes()
	st, err := custody.ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// TestTransferRangesInSteps: a transfer fetched range by range holds its reservation
// between its requests (nothing is recorded when a range short of the end completes),
// so its next range needs no free download, and it is delivered once.
func TestTransferRangesInSteps(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := threeSegments()
	id, _ := env.Exchange(t, content, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
	half := int64(len(content) / 2)
	a, c := env.DownloadRequest(t, env.Partner, id, exhibit.DownloadRequest{Range: rangeOf(0, half-1)})
	if d, p := inProgress(t, env, id); d != 0 || p != 1 {
		t.Errorf("between ranges: %d downloads, %d in progress; want 0 and 1", d, p)
	}
	_, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
	checkErr(t, "another transfer while the first holds the download", err, deniedBy("forbid-download-limit"))
	b, _ := env.DownloadRequest(t, env.Partner, id, exhibit.DownloadRequest{Range: rangeFrom(half), TransferID: c.TransferID})
	if !bytes.Equal(append(a, b...), content) {
		t.Error("the two ranges do not make the content")
	}
	if d, p := inProgress(t, env, id); d != 1 || p != 0 {
		t.Errorf("after the last range: %d downloads, %d in progress; want 1 and 0", d, p)
	}
	want := []string{"register", "share", "accept", "download-start", "download-resume", "download-deliver"}
	if got := env.Actions(t, id); !slices.Equal(got, want) {
		t.Errorf("got history %q, want %q", got, want)
	}
}

// TestTransferLapse: a request whose gateway dies holds the download until its
// reservation lapses. Meanwhile its client resumes it (on another replica) at once;
// a new transfer waits for the lapse, which is then recorded.
func TestTransferLapse(t *testing.T) {
	t.Parallel()
	const lease = 10 * time.Minute
	for _, resume := range []bool{true, false} {
		env := exhibittest.New(t, exhibittest.Options{TransferLease: lease})
		content := threeSegments()
		id, _ := env.Exchange(t, content, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
		// The gateway dies mid-request: no End.
		crashed := readPart(t, env, env.Service, env.Partner, id, exhibit.DownloadRequest{}, 100000, nil)
		replica := env.Replica(t)
		_, err := replica.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
		checkErr(t, "a new transfer while the dead one holds the download", err, deniedBy("forbid-download-limit"))
		if d, p := inProgress(t, env, id); d != 0 || p != 1 {
			t.Errorf("after the crash: %d downloads, %d in progress; want 0 and 1", d, p)
		}
		if resume {
			c, err := replica.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{Range: rangeFrom(100000), TransferID: crashed.TransferID})
			if err != nil {
				t.Fatalf("resuming the transfer of the dead request: %v", err)
			}
			got, err := io.ReadAll(c.Body)
			c.Body.Close()
			c.End(t.Context(), int64(len(got)), err)
			if !bytes.Equal(got, content[100000:]) {
				t.Errorf("the resumed transfer read %d bytes, want the rest", len(got))
			}
			want := []string{"register", "share", "accept", "download-start", "download-resume", "download-deliver"}
			if got := env.Actions(t, id); !slices.Equal(got, want) {
				t.Errorf("got history %q, want %q", got, want)
			}
			if d, p := inProgress(t, env, id); d != 1 || p != 0 {
				t.Errorf("after the resumed transfer: %d downloads, %d in progress; want 1 and 0", d, p)
			}
			continue
		}
		env.Clock.Advance(lease)
		if d, p := inProgress(t, env, id); d != 0 || p != 0 {
			t.Errorf("after the lapse: %d downloads, %d in progress; want 0 and 0", d, p)
		}
		if got, _ := env.Download(t, env.Partner, id); !bytes.Equal(got, content) {
			t.Errorf("a new transfer after the lapse read %d bytes, want the content", len(got))
		}
		want := []string{"register", "share", "accept", "download-start", "download-abandon", "download-start", "download-deliver"}
		if got := env.Actions(t, id); !slices.Equal(got, want) {
			t.Errorf("got history %q, want %q", got, want)
		}
		if ev := eventAt(t, env, id, 4); ev.Transfer.ID != crashed.TransferID || ev.Transfer.Request != crashed.Custody.Seq {
			t.Errorf("the lapse is recorded as %+v, want the dead request %d of %s", ev.Transfer, crashed.Custody.Seq, crashed.TransferID)
		}
		if d, _ := inProgress(t, env, id); d != 1 {
			t.Errorf("after the lapse and a new transfer: %d downloads, want 1", d)
		}
	}
}

// TestTransferRenewal: a request that runs past half its lease renews the reservation,
// which then holds past the first lease.
func TestTransferRenewal(t *testing.T) {
	t.Parallel()
	const lease = 10 * time.Minute
	env := exhibittest.New(t, exhibittest.Options{TransferLease: lease})
	content := threeSegments()
	id, _ := env.Exchange(t, content, with(env.ShareRequest(exhibittest.AgencyUS), func(r *api.ShareRequest) { r.MaxDownloads = 1 }))
	c, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(c.Body, buf); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(lease/2 + time.Second)
	if _, err := io.ReadFull(c.Body, buf); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(lease/2 - time.Second/2) // past the first lease, before the next renewal
	if d, p := inProgress(t, env, id); d != 0 || p != 1 {
		t.Errorf("past the first lease: %d downloads, %d in progress; want 0 and 1 (renewed)", d, p)
	}
	rest, err := io.ReadAll(c.Body)
	c.Body.Close()
	c.End(t.Context(), int64(2*len(buf)+len(rest)), err)
	want := []string{"register", "share", "accept", "download-start", "download-progress", "download-deliver"}
	if got := env.Actions(t, id); !slices.Equal(got, want) {
		t.Errorf("got history %q, want %q", got, want)
	}
	if ev := eventAt(t, env, id, 4); ev.Transfer.Sent != 1<<20 || ev.Transfer.Request != c.Custody.Seq || !ev.Transfer.LeaseUntil.After(ev.Time) {
		t.Errorf("the renewal records %+v, want 1 MiB sent by request %d and a new lease", ev.Transfer, c.Custody.Seq)
	}
}

// TestTransferNotResumable: a Transfer-Id that is malformed, unknown, someone else's or
// already delivered continues nothing, and nothing is recorded.
func TestTransferNotResumable(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	id, _ := env.Exchange(t, []byte("content"), env.ShareRequest(exhibittest.AgencyUS))
	owners := readPart(t, env, env.Service, env.Investigator, id, exhibit.DownloadRequest{}, 3, exhibit.ErrClientGone)
	_, delivered := env.Download(t, env.Partner, id)
	for _, tt := range []struct {
		name, transfer string
		want           errWant
	}{
		{"malformed", "tr-../../x", invalidInput()},
		{"unknown", "tr-aaaaaaaaaaaaaaaaaaaaaaaaaa", conflictOf(exhibit.ConflictTransferNotResumable)},
		{"another member's", owners.TransferID, conflictOf(exhibit.ConflictTransferNotResumable)},
		{"delivered", delivered.TransferID, conflictOf(exhibit.ConflictTransferNotResumable)},
	} {
		before := env.Actions(t, id)
		_, err := env.Service.Download(t.Context(), env.Partner.Principal, id, exhibit.DownloadRequest{TransferID: tt.transfer})
		checkErr(t, tt.name, err, tt.want)
		if after := env.Actions(t, id); len(after) != len(before) {
			t.Errorf("%s: recorded %q", tt.name, after[len(before):])
		}
	}
}
