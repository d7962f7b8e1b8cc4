package gateway

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestUploadForensicMetadata: the forensic query parameters of an upload reach the
// register event as sent (hex digests in lowercase), and the answer shows them.
func TestUploadForensicMetadata(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	content := []byte("disk image")
	q := url.Values{"case_id": {exhibittest.CaseID}, "exhibit_number": {"NL-0042-EX3"}, "source_md5": {strings.Repeat("AB", 16)},
		"tool": {"Guymager"}, "tool_version": {"0.8.13"}, "examiner": {"J. de Vries"}, "seized_at": {"2026-03-01T07:30:00+01:00"},
		"seized_place": {"Rotterdam"}, "notes": {"E01, write blocker"}}
	r := request(t, &ts.env.Investigator, http.MethodPost, "/v1/evidence?"+q.Encode(), bytes.NewReader(content))
	r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(content)))
	var res api.UploadResult
	decode(t, "upload", ts.serve(r), http.StatusCreated, &res)
	ev := exhibittest.Event(t, res.Custody)
	a := ev.Exhibit.Acquisition
	if a == nil || a.ExhibitNumber != "NL-0042-EX3" || a.SourceHashes["md5"] != strings.Repeat("ab", 16) || a.Tool != "Guymager" ||
		a.ToolVersion != "0.8.13" || a.Examiner != "J. de Vries" || a.SeizedAt == nil || a.SeizedAt.Format("15:04Z07:00") != "06:30Z" ||
		a.SeizedPlace != "Rotterdam" || a.Notes != "E01, write blocker" {
		t.Errorf("register event acquisition = %+v, want the parameters sent", a)
	}
	if res.Evidence.Acquisition == nil || res.Evidence.Acquisition.ExhibitNumber != "NL-0042-EX3" {
		t.Errorf("the answer shows acquisition %+v", res.Evidence.Acquisition)
	}
}
