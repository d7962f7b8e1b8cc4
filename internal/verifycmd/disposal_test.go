package verifycmd

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/internal/report/reporttest"
)

// TestReportsShowForensicFactsAndDisposal: the text and JSON reports of a chain that
// ends in a disposal show the forensic metadata, the retention and the disposal.
func TestReportsShowForensicFactsAndDisposal(t *testing.T) {
	x := reporttest.New(t, reporttest.DisposalStory())
	f := x.WriteFiles(t, t.TempDir(), nil)

	var out bytes.Buffer
	if err := Main([]string{f.Bundle, "--trust-root", f.TrustRoot}, &out, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	for _, w := range []string{
		"Exhibit number  " + reporttest.ExhibitNumber, "Source MD5      " + strings.Repeat("0a", 16),
		"Tool            FTK Imager 4.7.1", "Examiner        J. de Vries", "Seized at       2026-02-27T09:00:00Z",
		"Seized in       Rotterdam", "Notes           write blocker used", "Retained until  2026-03-02T09:00:00Z",
		`DISPOSED        2026-03-01T12:00:00Z by politie-nl (NL) j.devries, investigator under "` + reporttest.Authority + `" (event 3)`,
		"dispose", "legal-hold-release", "VERIFIED: 5 events",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, out.String())
		}
	}

	out.Reset()
	if err := Main([]string{f.Bundle, "--trust-root", f.TrustRoot, "--json"}, &out, &out); err != nil {
		t.Fatalf("verify --json: %v", err)
	}
	var got JSONReport
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Acquisition == nil || got.Acquisition.ExhibitNumber != reporttest.ExhibitNumber || got.Acquisition.SeizedAt == nil ||
		!got.Acquisition.SeizedAt.Equal(reporttest.SeizedAt) || got.RetainUntil == nil || !got.RetainUntil.Equal(reporttest.RetainUntil) {
		t.Errorf("JSON report: acquisition %+v, retain until %v", got.Acquisition, got.RetainUntil)
	}
	want := &JSONDisposal{Seq: 3, Time: reporttest.Start.Add(3 * time.Hour), Actor: reporttest.NL, Authority: reporttest.Authority}
	if got.Disposal == nil || !got.Disposal.Time.Equal(want.Time) || got.Disposal.Seq != want.Seq || !reflect.DeepEqual(got.Disposal.Actor, want.Actor) || got.Disposal.Authority != want.Authority {
		t.Errorf("JSON report disposal = %+v, want %+v", got.Disposal, want)
	}
	if got.Events[3].Action != "dispose" || got.Events[3].LegalBasis != reporttest.Authority {
		t.Errorf("JSON event 3 = %+v, want the disposal under its authority", got.Events[3])
	}
}
