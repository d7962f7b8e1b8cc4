package exhibit_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/keys"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	// Three segments of sealed content, the last one short.
	content := make([]byte, 2<<20+12345)
	rand.Read(content)
	res := env.Register(t, env.Investigator, content)

	v := res.Evidence
	if !custody.ValidEvidenceID(v.EvidenceID) {
		t.Errorf("got evidence id %q, want a valid one", v.EvidenceID)
	}
	wantSHA := hex.EncodeToString(exhibittest.Digest(content))
	if v.CaseID != exhibittest.CaseID || v.SHA256 != wantSHA || v.Size != int64(len(content)) ||
		v.Owner != exhibittest.AgencyNL || v.Jurisdiction != "NL" || v.EventCount != 1 || v.Grants == nil || len(v.Grants) != 0 {
		t.Errorf("got view %+v, want case %s, sha256 %s, %d bytes, owned by agency-nl in NL, 1 event, no grants",
			v, exhibittest.CaseID, wantSHA, len(content))
	}
	if rc := res.Custody; rc.Action != string(custody.ActionRegister) || rc.Seq != 0 || rc.EvidenceID != v.EvidenceID ||
		rc.Proof == "" || rc.Checkpoint == "" {
		t.Errorf("got receipt action %q seq %d for %s, want a register event 0 of %s with its proof", rc.Action, rc.Seq, rc.EvidenceID, v.EvidenceID)
	}
	ev := exhibittest.Event(t, res.Custody)
	if ev.Exhibit == nil || ev.Exhibit.SHA256 != wantSHA || ev.Storage == nil || ev.Storage.Cipher != exhibit.CipherName {
		t.Errorf("got register event exhibit %+v, storage %+v; want the content's digest and the cipher %s", ev.Exhibit, ev.Storage, exhibit.CipherName)
	}
	// The content is kept in its owner's jurisdiction, sealed: the plaintext is not in it.
	name := exhibittest.SealedObject(t, res)
	if j, ok := exhibit.ContentJurisdiction(name); !ok || j != "NL" {
		t.Errorf("content stored as %q (jurisdiction %q), want an NL content object", name, j)
	}
	rc, _, err := env.Store.Open(t.Context(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := io.ReadAll(rc)
	rc.Close()
	if bytes.Contains(sealed, content[:64]) {
		t.Error("the stored object holds the plaintext")
	}
	got, _ := env.Download(t, env.Investigator, v.EvidenceID)
	if !bytes.Equal(got, content) {
		t.Errorf("downloaded %d bytes, want the %d registered", len(got), len(content))
	}
	r := env.VerifyBundle(t, env.Investigator, v.EvidenceID, content)
	if !r.ContentChecked || r.EvidenceID != v.EvidenceID {
		t.Errorf("the bundle report covers %s with content checked %v, want %s checked", r.EvidenceID, r.ContentChecked, v.EvidenceID)
	}
}

// errBrokenBody is the failure of an upload body that breaks half way.
var errBrokenBody = errors.New("connection reset by peer")

func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	content := []byte("the seized phone image")
	upload := exhibittest.Upload
	unavailable := exhibittest.NewKeyManager()
	unavailable.SetFail(func(string) error { return keys.ErrUnavailable })
	tests := []struct {
		name   string
		court  bool // register as the court instead of the investigator
		keys   keys.DataKeys
		upload exhibit.Upload
		want   errWant
	}{
		{name: "empty case id", upload: with(upload(content), func(u *exhibit.Upload) { u.CaseID = "" }), want: invalidInput()},
		{name: "case id with a slash", upload: with(upload(content), func(u *exhibit.Upload) { u.CaseID = "CASE/1" }), want: invalidInput()},
		{name: "case id starting with a dot", upload: with(upload(content), func(u *exhibit.Upload) { u.CaseID = ".CASE" }), want: invalidInput()},
		{name: "case id of 65 characters", upload: with(upload(content), func(u *exhibit.Upload) { u.CaseID = strings.Repeat("C", 65) }), want: invalidInput()},
		{name: "description with a newline", upload: with(upload(content), func(u *exhibit.Upload) { u.Description = "phone\nimage" }), want: invalidInput()},
		{name: "description with an escape", upload: with(upload(content), func(u *exhibit.Upload) { u.Description = "phone \x1b[31mimage" }), want: invalidInput()},
		{name: "description not UTF-8", upload: with(upload(content), func(u *exhibit.Upload) { u.Description = "phone \xff" }), want: invalidInput()},
		{name: "description of 1025 bytes", upload: with(upload(content), func(u *exhibit.Upload) { u.Description = strings.Repeat("d", 1025) }), want: invalidInput()},
		{name: "digest mismatch", upload: with(upload(content), func(u *exhibit.Upload) { u.SHA256 = exhibittest.Digest([]byte("other")) }), want: isErr(exhibit.ErrDigestMismatch)},
		{name: "content longer than declared", upload: with(upload(content), func(u *exhibit.Upload) {
			u.Content = io.MultiReader(bytes.NewReader(content), strings.NewReader("appended"))
		}), want: isErr(exhibit.ErrDigestMismatch)},
		{name: "reader fails half way", upload: with(upload(content), func(u *exhibit.Upload) {
			u.Content = io.MultiReader(bytes.NewReader(content[:5]), iotest.ErrReader(errBrokenBody))
		}), want: isErr(errBrokenBody)},
		// An HTTP body shorter than its Content-Length fails with io.ErrUnexpectedEOF:
		// the content ended early, which is not a digest mismatch.
		{name: "reader ends before its length", upload: with(upload(content), func(u *exhibit.Upload) {
			u.Content = io.MultiReader(bytes.NewReader(content[:5]), iotest.ErrReader(io.ErrUnexpectedEOF))
		}), want: isErr(io.ErrUnexpectedEOF)},
		{name: "key manager unavailable", keys: unavailable, upload: upload(content), want: isErr(exhibit.ErrKeysUnavailable)},
		{name: "court registers", court: true, upload: upload(content), want: deniedBy()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := exhibittest.New(t, exhibittest.Options{DataKeys: tt.keys})
			m := env.Investigator
			if tt.court {
				m = env.Court
			}
			_, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, m, tt.upload), tt.upload)
			checkErr(t, "Register", err, tt.want)
			if names, _ := env.Store.List(t.Context(), ""); len(names) != 0 {
				t.Errorf("a refused registration left objects %q, want none", names)
			}
			if cp, _ := env.Log.Checkpoint(t.Context()); cp.Size != 0 {
				t.Errorf("a refused registration left %d log entries, want none", cp.Size)
			}
		})
	}
}

func TestRegisterDeniedSaysWhy(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	_, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Court, exhibittest.Upload([]byte("x"))), exhibittest.Upload([]byte("x")))
	var d *exhibit.DeniedError
	if !errors.As(err, &d) || d.Action != "register" || d.Reason != "register is not permitted: no policy allows it" {
		t.Errorf("got %#v, want a denial of register saying no policy allows it", err)
	}
}

// with returns u changed by f.
func with[T any](v T, f func(*T)) T {
	f(&v)
	return v
}
