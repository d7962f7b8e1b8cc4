package verifycmd

import (
	"os"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/report/reporttest"
)

// testExhibit is what a test bundle is about.
type testExhibit struct {
	dir           string
	bundlePath    string
	trustRootPath string
	evidencePath  string
	content       []byte
	bundle        *custody.Bundle
}

// newTestExhibit builds, with fresh keys, a three-event bundle (register, share,
// accept) for a small evidence file, and writes the bundle, the trust root and the
// evidence file to a temporary directory.
func newTestExhibit(t *testing.T) *testExhibit {
	t.Helper()
	return newTestExhibitWith(t, reporttest.Options{})
}

// newTestExhibitWith is newTestExhibit with the events signed as opts say.
func newTestExhibitWith(t *testing.T, opts reporttest.Options) *testExhibit {
	t.Helper()
	fr := custody.Party{Agency: "police-fr", Jurisdiction: "FR", Person: "alice", Role: "investigator"}
	us := custody.Party{Agency: "agency-us", Jurisdiction: "US", Person: "bob", Role: "investigator"}
	grant := &custody.Grant{ID: reporttest.GrantID, To: "agency-us", LegalBasis: "MLAT 2026/17", Expires: reporttest.Start.Add(30 * 24 * time.Hour)}
	x := reporttest.NewWith(t, []custody.Event{
		{Action: custody.ActionRegister, Actor: fr, Exhibit: &custody.Exhibit{},
			Storage: &custody.StorageFacts{Location: "objects/x", KeyRef: "k", Cipher: "AES-256-GCM"}},
		{Action: custody.ActionShare, Actor: fr, Counterparty: &us, LegalBasis: grant.LegalBasis, Grant: grant},
		{Action: custody.ActionAccept, Actor: us, Grant: grant},
	}, opts)
	dir := t.TempDir()
	f := x.WriteFiles(t, dir, nil)
	return &testExhibit{dir: dir, bundlePath: f.Bundle, trustRootPath: f.TrustRoot, evidencePath: f.Evidence,
		content: x.Content, bundle: x.Bundle}
}

// writeBundle replaces the bundle file with b.
func (x *testExhibit) writeBundle(t *testing.T, b *custody.Bundle) {
	t.Helper()
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, x.bundlePath, data)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
