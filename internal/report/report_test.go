package report_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/report"
	"github.com/evidencegw/evidencegw/internal/report/reporttest"
)

// render verifies b (the exhibit's own bundle if nil) and renders the report.
func render(t *testing.T, x *reporttest.Exhibit, b *custody.Bundle, content []byte) (string, error) {
	t.Helper()
	if b == nil {
		b = x.Bundle
	}
	var opts custody.VerifyOptions
	meta := report.Meta{Generated: time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC), Tool: "report test",
		TrustRoot: x.TrustRoot, TrustRootSHA256: sha(x.TrustRootJSON), BundleName: "bundle.json"}
	if content != nil {
		opts.Content = bytes.NewReader(content)
		meta.EvidenceName = "evidence.bin"
	}
	r, verr := custody.Verify(b, x.TrustRoot, opts)
	var out bytes.Buffer
	if err := report.WriteHTML(&out, r, verr, meta); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return out.String(), verr
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestWriteHTML_Verified(t *testing.T) {
	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	got, verr := render(t, x, nil, x.Content)
	if verr != nil {
		t.Fatalf("Verify: %v", verr)
	}
	want := []string{
		`data-result="verified"`, "✓ VERIFIED", reporttest.EvidenceID, reporttest.CaseID, sha(x.Content),
		"forensic image of seized laptop", "NL → US",
		"registered the exhibit", "shared with fbi-us (US)", "accepted (signed receipt)", "downloaded",
		"revoked the access of fbi-us (US)", "exported a court bundle", "receives access from politie-nl (NL)",
		"j.devries, investigator — politie-nl (NL)", "b.smith, analyst — fbi-us (US)",
		reporttest.LegalBasis, "gr-abcdefghijklmnop to fbi-us, expires 2026-03-31 09:00:00 UTC, at most 3 download(s)",
		"2026-03-01 09:00:00 UTC", "2026-03-01 14:00:00 UTC", "investigation closed",
		"6 of 6 events carry a valid signature", x.TrustRoot.EventKeys[0].KeyID, "1 receipt(s)",
		"6 of 6 events proven included in log " + reporttest.Origin, "Signed checkpoint of tree size 6",
		`The file &#34;evidence.bin&#34; was hashed`, sha(x.TrustRootJSON), "Generated 2026-04-02 10:00:00 UTC by report test",
		"NOT RECEIVED: no signed receipt of this download arrived", "not signed by the actor: recorded on the gateway&#39;s signature alone",
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for i := range 6 {
		if w := fmt.Sprintf(`<tr class="event verified" id="event-%d"`, i); !strings.Contains(got, w) {
			t.Errorf("report lacks verified row %d (%s)", i, w)
		}
	}
	if strings.Contains(got, "FAILED") {
		t.Errorf("verified report says FAILED")
	}
	// The partner's accept and download are transfers out of NL, like the share and the
	// revoke: every border line reads in the direction the evidence travels.
	if n := strings.Count(got, "crosses a border: NL → US"); n != 4 {
		t.Errorf("report has %d border lines NL → US, want 4 (share, accept, download, revoke)", n)
	}
	if strings.Contains(got, "crosses a border: US → NL") {
		t.Errorf("report has a border line US → NL: the evidence never travelled that way")
	}
	if n := strings.Count(got, `<th class="lane">`); n != 2 {
		t.Errorf("got %d jurisdiction lanes, want 2 (NL, US)", n)
	}
}

func TestWriteHTML_EscapesBundleFields(t *testing.T) {
	const evil = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`
	events := reporttest.Story(evil)
	events[0].Exhibit.Description = evil
	events[4].Detail = evil
	events[1].Actor.Person = evil
	x := reporttest.New(t, events)
	got, verr := render(t, x, nil, nil)
	if verr != nil {
		t.Fatalf("Verify: %v", verr)
	}
	lower := strings.ToLower(got)
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(lower, bad) {
			t.Errorf("report contains unescaped %q", bad)
		}
	}
	if n := strings.Count(got, `&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;`); n < 4 {
		t.Errorf("escaped legal basis, description, detail and person appear %d times, want at least 4", n)
	}
	if !strings.Contains(got, `content="default-src 'none'; style-src 'unsafe-inline'"`) {
		t.Errorf("report lacks the script-forbidding Content-Security-Policy")
	}
}

func TestWriteHTML_Failures(t *testing.T) {
	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	tests := []struct {
		name       string
		bundle     *custody.Bundle
		content    []byte
		wantFailed []int
		want       []string
	}{
		{
			name:   "altered legal basis",
			bundle: x.Tampered(t, 1, reporttest.LegalBasis, "MLAT NL-US 2026/99"),
			// Event 2 names the digest of the original event 1: the chain breaks there too.
			wantFailed: []int{1, 2},
			want: []string{"event 1:", "no trusted signature", "5 of 6 events carry a valid signature",
				"Event #2 FAILED", "the chain is broken",
				"Event #1 FAILED", "What this event says is not verified", "MLAT NL-US 2026/99"},
		},
		{
			name:       "wrong evidence file",
			content:    []byte("not the exhibit\n"),
			wantFailed: nil,
			want:       []string{"does NOT match the registered SHA-256", "evidence content has SHA-256"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, verr := render(t, x, tt.bundle, tt.content)
			if !errors.Is(verr, custody.ErrVerification) {
				t.Fatalf("Verify error %v, want a verification failure", verr)
			}
			for _, w := range append([]string{`data-result="failed"`, "✗ FAILED"}, tt.want...) {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for i := range 6 {
				state := "verified"
				for _, f := range tt.wantFailed {
					if f == i {
						state = "failed"
					}
				}
				if w := fmt.Sprintf(`<tr class="event %s" id="event-%d"`, state, i); !strings.Contains(got, w) {
					t.Errorf("report lacks %s", w)
				}
			}
			if strings.Contains(got, "VERIFIED") {
				t.Errorf("failed report says VERIFIED")
			}
		})
	}
}

func TestWriteHTML_NoReport(t *testing.T) {
	var out bytes.Buffer
	err := report.WriteHTML(&out, nil, errors.New("reading trust root: <bad> file"), report.Meta{Tool: "t"})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, w := range []string{`data-result="failed"`, "reading trust root: &lt;bad&gt; file", "No custody event could be read", "trust root could not be read"} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

func TestWriteHTML_UnreadableEvent(t *testing.T) {
	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	b := x.Tampered(t, 2, `"_type"`, `"_typo"`)
	got, verr := render(t, x, b, nil)
	if verr == nil {
		t.Fatal("Verify accepted an unreadable event")
	}
	for _, w := range []string{`<tr class="event failed" id="event-2"`, "unreadable event", `colspan="2"`} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

func TestWriteHTML_LogChecks(t *testing.T) {
	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	r, verr := custody.Verify(x.Bundle, x.TrustRoot, custody.VerifyOptions{})
	for _, tt := range []struct {
		status string
		lines  []string
		want   string
	}{
		{"ok", []string{"bundle.json lists every event of ev-x up to tree size 6"}, "lists every event"},
		{"fail", []string{"FAILED: log leaf 7 is event 6 of ev-x, absent from the bundle"}, "absent from the bundle"},
	} {
		var out bytes.Buffer
		meta := report.Meta{Tool: "t", TrustRoot: x.TrustRoot, LogChecks: tt.lines, LogCheckStatus: tt.status}
		if err := report.WriteHTML(&out, r, verr, meta); err != nil {
			t.Fatal(err)
		}
		html := out.String()
		if !strings.Contains(html, "Completeness and consistency of the log") || !strings.Contains(html, tt.want) ||
			!strings.Contains(html, `class="check `+tt.status+`"`) {
			t.Errorf("status %s: the report lacks the log checks section or its result", tt.status)
		}
	}
}

// TestWriteHTML_ForensicFactsAndDisposal: the report shows the forensic metadata and
// retention of the register event, and a disposal, in the exhibit's facts and in the
// timeline.
func TestWriteHTML_ForensicFactsAndDisposal(t *testing.T) {
	x := reporttest.New(t, reporttest.DisposalStory())
	got, verr := render(t, x, nil, x.Content)
	if verr != nil {
		t.Fatalf("Verify: %v", verr)
	}
	for _, w := range []string{
		"<dt>Exhibit number</dt><dd>" + reporttest.ExhibitNumber + "</dd>",
		`<dt>Source MD5</dt><dd class="hash">` + strings.Repeat("0a", 16) + "</dd>",
		`<dt>Source SHA-1</dt><dd class="hash">` + strings.Repeat("1b", 20) + "</dd>",
		"<dt>Acquisition tool</dt><dd>FTK Imager 4.7.1</dd>", "<dt>Examiner</dt><dd>J. de Vries</dd>",
		"<dt>Seized</dt><dd>2026-02-27 09:00:00 UTC</dd>", "<dt>Seized in</dt><dd>Rotterdam</dd>",
		"<dt>Notes</dt><dd>write blocker used</dd>", "<dt>Retained until</dt><dd>2026-03-02 09:00:00 UTC</dd>",
		`<dd id="disposal">2026-03-01 12:00:00 UTC by j.devries, investigator — politie-nl (NL) under “` + reporttest.Authority + `” (event #3)`,
		"placed it under legal hold", "released the legal hold", "DISPOSED of it: content and data keys destroyed",
		", exhibit number " + reporttest.ExhibitNumber,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	// A dispose event that fails verification is no disposal.
	tampered := x.Tampered(t, 3, reporttest.Authority, "forged order")
	got, verr = render(t, x, tampered, nil)
	if verr == nil || strings.Contains(got, `id="disposal"`) {
		t.Errorf("a tampered dispose event: verification error %v, disposal shown %t; want a failure and no disposal", verr, strings.Contains(got, `id="disposal"`))
	}
}
