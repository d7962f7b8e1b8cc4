package web_test

import (
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/internal/report/reporttest"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
	"github.com/evidencegw/evidencegw/internal/webdriver"
)

// TestReportInChromium writes HTML reports with `custody-verify --html` for a good
// exhibit and a tampered one, renders them in headless Chromium, takes full-page
// screenshots and checks the rendered DOM.
func TestReportInChromium(t *testing.T) {
	webdriver.LookTool(t, "chromium", "chromium-browser")
	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	shots := webdriver.ScreenshotDir(t, "EVIDENCEGW_SCREENSHOT_DIR")
	tests := []struct {
		name      string
		tampered  bool
		evidence  bool
		wantErr   bool
		wantDOM   []string
		wantCount map[string]int
	}{
		{
			name: "verified", evidence: true,
			wantDOM: []string{`data-result="verified"`, "✓ VERIFIED", "registered the exhibit", "shared with fbi-us (US)",
				"accepted (signed receipt)", "exported a court bundle", "What was checked", "was hashed"},
			wantCount: map[string]int{`<tr class="event verified"`: 6, `<th class="lane">`: 2},
		},
		{
			name: "tampered", tampered: true, wantErr: true,
			wantDOM:   []string{`data-result="failed"`, "✗ FAILED", "no trusted signature", "the chain is broken"},
			wantCount: map[string]int{`<tr class="event verified"`: 4, `<tr class="event failed"`: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b := x.Bundle
			if tt.tampered {
				b = x.Tampered(t, 1, reporttest.LegalBasis, "MLAT NL-US 2026/99")
			}
			f := x.WriteFiles(t, dir, b)
			page := filepath.Join(dir, "report-"+tt.name+".html")
			args := []string{f.Bundle, "--trust-root", f.TrustRoot, "--html", page}
			if tt.evidence {
				args = append(args, "--evidence", f.Evidence)
			}
			if err := verifycmd.Main(args, io.Discard, io.Discard); (err != nil) != tt.wantErr {
				t.Fatalf("custody-verify: %v, want error %v", err, tt.wantErr)
			}
			pageURL := (&url.URL{Scheme: "file", Path: page}).String()

			dom := string(webdriver.RunChromium(t, "--dump-dom", pageURL))
			for _, w := range tt.wantDOM {
				if !strings.Contains(dom, w) {
					t.Errorf("rendered DOM lacks %q", w)
				}
			}
			for w, n := range tt.wantCount {
				if got := strings.Count(dom, w); got != n {
					t.Errorf("rendered DOM has %d × %s, want %d", got, w, n)
				}
			}

			shot := filepath.Join(shots, "report-"+tt.name+".png")
			webdriver.RunChromium(t, "--screenshot="+shot, "--window-size=1280,3400", pageURL)
			data, err := os.ReadFile(shot)
			if err != nil {
				t.Fatal(err)
			}
			webdriver.CheckPNG(t, shot, data, 1280, 3400)
		})
	}
}
