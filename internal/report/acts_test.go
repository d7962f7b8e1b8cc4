package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/internal/report"
)

// TestWriteHTML_ActorSignatures: a bundle of the gateway whose acts its members signed
// shows who signed each act, the download whose receipt arrived as received, and the
// one whose receipt never did as NOT RECEIVED.
func TestWriteHTML_ActorSignatures(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("seized laptop image")
	id, _ := env.Exchange(t, content, env.ShareRequest(exhibittest.AgencyUS))
	_, dl := env.Download(t, env.Partner, id)
	if _, err := env.Service.Received(t.Context(), env.ReceivedAct(t, env.Partner, id, dl.Custody, exhibittest.DigestHex(content), int64(len(content))), id); err != nil {
		t.Fatal(err)
	}
	env.Download(t, env.Partner, id) // never acknowledged
	raw, _, err := env.Service.Bundle(t.Context(), env.Investigator.Principal, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := custody.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	tr := env.TrustRoot(t)
	r, verr := custody.Verify(b, tr, custody.VerifyOptions{})
	if verr != nil {
		t.Fatalf("Verify: %v", verr)
	}
	var out bytes.Buffer
	if err := report.WriteHTML(&out, r, nil, report.Meta{TrustRoot: tr}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, w := range []string{
		"Signed by", "CN=investigator-nl,O=agency-nl,C=NL, with their own key (certificate of CN=agency-nl development CA,O=agency-nl",
		"CN=partner-us,O=agency-us,C=US, with their own key (certificate of CN=agency-us development CA,O=agency-us",
		"signed the receipt of a download", "received: the member signed that it received 19 bytes with the registered SHA-256",
		"NOT RECEIVED: no signed receipt of this download arrived", "Actors&#39; own signatures and receipts",
		"4 event(s) carry their actor&#39;s own verified signature",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}
