package exhibit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// part is the plaintext of the first part of an upload of one segment per part.
const part = 1<<20 - 40 - 16

func newUploadEnv(t *testing.T) *exhibittest.Env {
	t.Helper()
	return exhibittest.New(t, exhibittest.Options{UploadPartSegments: 1})
}

func start(t *testing.T, s *exhibit.Service, m exhibittest.Member, length int) exhibit.UploadStatus {
	t.Helper()
	st, err := s.StartUpload(t.Context(), m.Principal, exhibit.UploadStart{CaseID: exhibittest.CaseID, Description: "phone image", Length: int64(length)})
	if err != nil {
		t.Fatalf("StartUpload = %v", err)
	}
	return st
}

// finishAct is m's principal with m's signed act registering content uploaded by start.
func finishAct(t *testing.T, m exhibittest.Member, content []byte) exhibit.Principal {
	t.Helper()
	return exhibittest.RegisterAct(t, m, exhibit.Upload{CaseID: exhibittest.CaseID, Description: "phone image", SHA256: exhibittest.Digest(content)})
}

// cut returns a reader of b that then fails as a connection cut short does.
func cut(b []byte) io.Reader {
	return io.MultiReader(bytes.NewReader(b), iotest.ErrReader(io.ErrUnexpectedEOF))
}

func TestResumableUploadResumesAndRegisters(t *testing.T) {
	t.Parallel()
	env := newUploadEnv(t)
	content := make([]byte, 3*part+12345)
	rand.Read(content)
	ctx, p := t.Context(), env.Investigator.Principal
	st := start(t, env.Service, env.Investigator, len(content))

	// The first write is cut in the middle of the second part: only the first is kept.
	got, err := env.Service.WriteUpload(ctx, p, st.UploadID, 0, cut(content[:part+1000]))
	if err != nil || got.Offset != part {
		t.Fatalf("WriteUpload cut after %d bytes = offset %d, %v; want offset %d (the first part), no error", part+1000, got.Offset, err, part)
	}
	// A gateway restarted meanwhile (another Service on the same store) continues it.
	replica := env.Replica(t)
	status, err := replica.UploadStatus(ctx, p, st.UploadID)
	if err != nil || status.Offset != part || status.Length != int64(len(content)) {
		t.Fatalf("UploadStatus = %+v, %v; want offset %d of %d", status, err, part, len(content))
	}
	if _, err := replica.WriteUpload(ctx, p, st.UploadID, part+1000, bytes.NewReader(content[part+1000:])); !isConflict(err, exhibit.ConflictUploadOffset) {
		t.Errorf("WriteUpload at an offset past the durable one = %v, want a %s conflict", err, exhibit.ConflictUploadOffset)
	}
	if _, err := replica.FinishUpload(ctx, p, st.UploadID, exhibittest.Digest(content)); !isConflict(err, exhibit.ConflictUploadIncomplete) {
		t.Errorf("FinishUpload of an incomplete upload = %v, want a %s conflict", err, exhibit.ConflictUploadIncomplete)
	}
	got, err = replica.WriteUpload(ctx, p, st.UploadID, part, bytes.NewReader(content[part:]))
	if err != nil || got.Offset != int64(len(content)) {
		t.Fatalf("WriteUpload of the rest = offset %d, %v; want %d", got.Offset, err, len(content))
	}
	if names, _ := env.Store.List(ctx, ""); len(names) != 0 {
		t.Errorf("before the finish the store has objects %q, want none", names)
	}
	res, err := env.Service.FinishUpload(ctx, finishAct(t, env.Investigator, content), st.UploadID, exhibittest.Digest(content))
	if err != nil {
		t.Fatalf("FinishUpload = %v", err)
	}
	if res.Evidence.Size != int64(len(content)) || res.Evidence.EventCount != 1 {
		t.Errorf("registered %+v, want %d bytes and its register event", res.Evidence, len(content))
	}
	if data, _ := env.Download(t, env.Investigator, res.Evidence.EvidenceID); !bytes.Equal(data, content) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(data), len(content))
	}
	again, err := replica.FinishUpload(ctx, finishAct(t, env.Investigator, content), st.UploadID, exhibittest.Digest(content))
	if err != nil || again.Evidence.EvidenceID != res.Evidence.EvidenceID {
		t.Errorf("FinishUpload again = %s, %v; want the same evidence %s", again.Evidence.EvidenceID, err, res.Evidence.EvidenceID)
	}
	if n := env.Store.Uploads(); n != 0 {
		t.Errorf("%d store uploads in progress after the finish, want 0", n)
	}
	// Expiry forgets the session; the evidence stays.
	env.Clock.Advance(exhibit.DefaultUploadExpiry + time.Minute)
	rep, err := env.Service.ExpireUploads(ctx)
	if err != nil || len(rep.Forgotten) != 1 || len(rep.Expired) != 0 || env.Store.Records() != 0 {
		t.Errorf("ExpireUploads = %+v, %v with %d records left; want the finished session forgotten and no record", rep, err, env.Store.Records())
	}
	if _, err := env.Service.Show(ctx, p, res.Evidence.EvidenceID); err != nil {
		t.Errorf("Show after the session expired = %v", err)
	}
}

func isConflict(err error, kind string) bool {
	var c *exhibit.ConflictError
	return errors.As(err, &c) && c.Kind == kind
}

func TestResumableUploadIsTheOwnersAlone(t *testing.T) {
	t.Parallel()
	env := newUploadEnv(t)
	content := []byte("evidence")
	st := start(t, env.Service, env.Investigator, len(content))
	ctx := t.Context()
	colleague := env.Investigator.Principal
	colleague.Person = "another-investigator-nl"
	for name, p := range map[string]exhibit.Principal{"partner": env.Partner.Principal, "stranger": env.Stranger.Principal,
		"court of the same jurisdiction": env.Court.Principal, "colleague": colleague} {
		if _, err := env.Service.UploadStatus(ctx, p, st.UploadID); !errors.Is(err, exhibit.ErrUploadNotFound) {
			t.Errorf("%s: UploadStatus = %v, want ErrUploadNotFound", name, err)
		}
		if _, err := env.Service.WriteUpload(ctx, p, st.UploadID, 0, bytes.NewReader(content)); !errors.Is(err, exhibit.ErrUploadNotFound) {
			t.Errorf("%s: WriteUpload = %v, want ErrUploadNotFound", name, err)
		}
		if _, err := env.Service.FinishUpload(ctx, p, st.UploadID, exhibittest.Digest(content)); !errors.Is(err, exhibit.ErrUploadNotFound) {
			t.Errorf("%s: FinishUpload = %v, want ErrUploadNotFound", name, err)
		}
		if err := env.Service.CancelUpload(ctx, p, st.UploadID); !errors.Is(err, exhibit.ErrUploadNotFound) {
			t.Errorf("%s: CancelUpload = %v, want ErrUploadNotFound", name, err)
		}
	}
	if _, err := env.Service.UploadStatus(ctx, env.Investigator.Principal, "up-notanid"); !errors.Is(err, exhibit.ErrUploadNotFound) {
		t.Errorf("UploadStatus of a malformed id = %v, want ErrUploadNotFound", err)
	}
	// The court may not register evidence at all: refused before any byte.
	if _, err := env.Service.StartUpload(ctx, env.Court.Principal, exhibit.UploadStart{CaseID: exhibittest.CaseID, Length: 1}); err == nil {
		t.Errorf("StartUpload by a court = nil, want a policy refusal")
	}
}

// assertNothingLeft checks that no object, store upload, record or event remains.
func assertNothingLeft(t *testing.T, env *exhibittest.Env) {
	t.Helper()
	if names, _ := env.Store.List(t.Context(), ""); len(names) != 0 {
		t.Errorf("objects left: %q", names)
	}
	if n := env.Store.Uploads(); n != 0 {
		t.Errorf("%d store uploads left", n)
	}
	if n := env.Store.Records(); n != 0 {
		t.Errorf("%d scratch records left", n)
	}
	if cp, err := env.Log.Checkpoint(t.Context()); err != nil || cp.Size != 0 {
		t.Errorf("custody log has %d events (%v), want none", cp.Size, err)
	}
}

func TestResumableUploadDigestMismatchStoresNothing(t *testing.T) {
	t.Parallel()
	env := newUploadEnv(t)
	content := make([]byte, 2*part+7)
	rand.Read(content)
	ctx, p := t.Context(), env.Investigator.Principal
	st := start(t, env.Service, env.Investigator, len(content))
	if _, err := env.Service.WriteUpload(ctx, p, st.UploadID, 0, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	other := bytes.Clone(content)
	other[0] ^= 1
	if _, err := env.Service.FinishUpload(ctx, p, st.UploadID, exhibittest.Digest(other)); !errors.Is(err, exhibit.ErrDigestMismatch) {
		t.Fatalf("FinishUpload with another digest = %v, want ErrDigestMismatch", err)
	}
	assertNothingLeft(t, env)
	if _, err := env.Service.UploadStatus(ctx, p, st.UploadID); !errors.Is(err, exhibit.ErrUploadNotFound) {
		t.Errorf("UploadStatus after a digest mismatch = %v, want ErrUploadNotFound", err)
	}
}

func TestAbandonedUploadExpiresLeavingNothing(t *testing.T) {
	t.Parallel()
	env := newUploadEnv(t)
	content := make([]byte, 3*part)
	rand.Read(content)
	ctx, p := t.Context(), env.Investigator.Principal
	st := start(t, env.Service, env.Investigator, len(content))
	if _, err := env.Service.WriteUpload(ctx, p, st.UploadID, 0, cut(content[:2*part])); err != nil {
		t.Fatal(err)
	}
	cancelled := start(t, env.Service, env.Investigator, 10)
	if err := env.Service.CancelUpload(ctx, p, cancelled.UploadID); err != nil {
		t.Fatalf("CancelUpload = %v", err)
	}
	if rep, err := env.Service.ExpireUploads(ctx); err != nil || len(rep.Expired) != 0 {
		t.Errorf("ExpireUploads before the expiry = %+v, %v; want nothing expired", rep, err)
	}
	env.Clock.Advance(exhibit.DefaultUploadExpiry)
	if _, err := env.Service.UploadStatus(ctx, p, st.UploadID); !errors.Is(err, exhibit.ErrUploadNotFound) {
		t.Errorf("UploadStatus of an expired session = %v, want ErrUploadNotFound", err)
	}
	rep, err := env.Service.ExpireUploads(ctx)
	if err != nil || len(rep.Expired) != 1 || rep.Expired[0] != st.UploadID {
		t.Fatalf("ExpireUploads = %+v, %v; want %s expired", rep, err, st.UploadID)
	}
	assertNothingLeft(t, env)
}

func TestUploadCompletedBeforeItsEventIsNotAnOrphan(t *testing.T) {
	t.Parallel()
	crash := errors.New("stopped after the completion")
	var stop bool
	env := exhibittest.New(t, exhibittest.Options{UploadPartSegments: 1})
	content := make([]byte, part+10)
	rand.Read(content)
	ctx, p := t.Context(), env.Investigator.Principal
	st := start(t, env.Service, env.Investigator, len(content))
	if _, err := env.Service.WriteUpload(ctx, p, st.UploadID, 0, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	// The register event cannot be logged: the content is published, the event missing.
	env.FailAppend(func([]byte) error {
		if !stop {
			return crash
		}
		return nil
	})
	if _, err := env.Service.FinishUpload(ctx, finishAct(t, env.Investigator, content), st.UploadID, exhibittest.Digest(content)); !errors.Is(err, crash) {
		t.Fatalf("FinishUpload with the log failing = %v, want the log's error", err)
	}
	rep, err := env.Service.Sweep(ctx)
	if err != nil || len(rep.Orphans) != 0 {
		t.Errorf("Sweep during the session = %+v, %v; want no orphan", rep, err)
	}
	stop = true
	res, err := env.Service.FinishUpload(ctx, finishAct(t, env.Investigator, content), st.UploadID, exhibittest.Digest(content))
	if err != nil {
		t.Fatalf("FinishUpload again = %v", err)
	}
	if data, _ := env.Download(t, env.Investigator, res.Evidence.EvidenceID); !bytes.Equal(data, content) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(data), len(content))
	}
}

func TestRegisteredUploadIsComplete(t *testing.T) {
	t.Parallel()
	env := newUploadEnv(t)
	content := make([]byte, 2*part+5)
	rand.Read(content)
	ctx, p := t.Context(), env.Investigator.Principal
	st := start(t, env.Service, env.Investigator, len(content))
	if _, err := env.Service.WriteUpload(ctx, p, st.UploadID, 0, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	res, err := env.Service.FinishUpload(ctx, finishAct(t, env.Investigator, content), st.UploadID, exhibittest.Digest(content))
	if err != nil {
		t.Fatal(err)
	}
	// A client whose registration answer was lost asks where the upload stands.
	status, err := env.Service.UploadStatus(ctx, p, st.UploadID)
	if err != nil || status.Offset != int64(len(content)) || status.EvidenceID != res.Evidence.EvidenceID {
		t.Errorf("UploadStatus after the registration = %+v, %v; want every byte stored and evidence %s", status, err, res.Evidence.EvidenceID)
	}
	if got, err := env.Service.WriteUpload(ctx, p, st.UploadID, int64(len(content)), bytes.NewReader(nil)); err != nil || got.Offset != int64(len(content)) {
		t.Errorf("WriteUpload at the end of a registered upload = %+v, %v; want nothing to do", got, err)
	}
}
