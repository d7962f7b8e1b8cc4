package exhibit_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

func keyed(content []byte, key string) exhibit.Upload {
	u := exhibittest.Upload(content)
	u.IdempotencyKey = key
	return u
}

// TestIdempotentUpload: a retried upload with the same key answers with the first
// exhibit; the same key for other content is refused.
func TestIdempotentUpload(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("seized laptop image")
	first, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, keyed(content, "upload-1")), keyed(content, "upload-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, keyed(content, "upload-1")), keyed(content, "upload-1"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again.Evidence.EvidenceID != first.Evidence.EvidenceID || again.Custody.Digest != first.Custody.Digest {
		t.Errorf("retry registered %s (event %s), want the first exhibit %s (event %s)",
			again.Evidence.EvidenceID, again.Custody.Digest, first.Evidence.EvidenceID, first.Custody.Digest)
	}
	if again.Custody.Proof == "" {
		t.Error("the replayed answer carries no proof")
	}
	_, err = env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, keyed([]byte("other content"), "upload-1")), keyed([]byte("other content"), "upload-1"))
	var mm *exhibit.IdempotencyMismatchError
	if !errors.As(err, &mm) || mm.EvidenceID != first.Evidence.EvidenceID {
		t.Errorf("the key reused for other content: got %v, want an *IdempotencyMismatchError naming %s", err, first.Evidence.EvidenceID)
	}
	// Another member's same key is another key.
	other, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Partner, keyed(content, "upload-1")), keyed(content, "upload-1"))
	if err != nil || other.Evidence.EvidenceID == first.Evidence.EvidenceID {
		t.Errorf("another member's upload with the same key: %v, evidence %s", err, other.Evidence.EvidenceID)
	}
}

// TestUploadStoppedAfterSealing: an upload stops after its content is sealed (the
// event cannot be stored); its retry with the same key registers one exhibit, and
// Sweep quarantines what the stopped attempt left, once.
func TestUploadStoppedAfterSealing(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("phone extraction")
	env.FailCreate(func(name string) error {
		if strings.Contains(name, "/events/") {
			return errors.New("disk full")
		}
		return nil
	})
	if _, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, keyed(content, "k")), keyed(content, "k")); err == nil {
		t.Fatal("the upload succeeded without its event")
	}
	env.FailCreate(nil)
	res, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, keyed(content, "k")), keyed(content, "k"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	again, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, keyed(content, "k")), keyed(content, "k"))
	if err != nil || again.Evidence.EvidenceID != res.Evidence.EvidenceID {
		t.Errorf("second retry: %v, evidence %s; want %s", err, again.Evidence.EvidenceID, res.Evidence.EvidenceID)
	}
	env.Clock.Advance(exhibit.DefaultOrphanGrace) // the stopped attempt's content is old enough
	r, err := env.Service.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Orphans) != 1 || len(r.Quarantined) != 1 || r.Orphans[0] == res.Evidence.EvidenceID {
		t.Fatalf("sweep: %+v, want one orphan, not the registered exhibit", r)
	}
	rec, err := env.Store.Read("quarantine/" + r.Orphans[0] + ".json")
	if err != nil || !bytes.Contains(rec, []byte("sealed")) {
		t.Errorf("quarantine record %q (%v), want one listing the sealed content", rec, err)
	}
	r2, err := env.Service.Sweep(t.Context())
	if err != nil || len(r2.Orphans) != 1 || len(r2.Quarantined) != 0 {
		t.Errorf("second sweep: %+v, %v; want the same orphan, none newly quarantined", r2, err)
	}
	got, _ := env.Download(t, env.Investigator, res.Evidence.EvidenceID)
	if !bytes.Equal(got, content) {
		t.Error("the registered exhibit does not download its content")
	}
}
