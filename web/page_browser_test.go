package web_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evidencegw/evidencegw/internal/report/reporttest"
	"github.com/evidencegw/evidencegw/internal/webdriver"
)

// buildSite runs ./build into a temporary directory: the page, app.js, wasm_exec.js and
// custody-verify.wasm.
func buildSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.CommandContext(t.Context(), "sh", "build", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("./build: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	return dir
}

// pageAssets are the only paths the page may request: its own files.
var pageAssets = []string{"/", "/index.html", "/app.js", "/wasm_exec.js", "/custody-verify.wasm", "/favicon.ico"}

// TestVerifierPage serves the built site on 127.0.0.1, opens it in headless Chromium
// and verifies real bundles through the page's file inputs: a good bundle with its
// evidence file shows VERIFIED, a tampered one FAILED. It takes a screenshot of each and
// checks that the page asked the server for nothing but its own files.
func TestVerifierPage(t *testing.T) {
	webdriver.LookTool(t, "chromium", "chromium-browser")
	webdriver.LookTool(t, "chromedriver")
	site := buildSite(t)
	var mu sync.Mutex
	var requested []string
	files := http.FileServer(http.Dir(site))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requested = append(requested, r.URL.Path)
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()

	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	shots := webdriver.ScreenshotDir(t, "EVIDENCEGW_SCREENSHOT_DIR")
	wd := webdriver.Start(t)
	wd.Resize(t, 1280, 1000)
	tests := []struct {
		name     string
		tampered bool
		evidence bool
		want     string
		wantText []string
	}{
		{name: "verified", evidence: true, want: "verified",
			wantText: []string{"✓ VERIFIED", "6 custody events verified; the evidence file matches"}},
		{name: "tampered", tampered: true, want: "failed",
			wantText: []string{"✗ FAILED", "event 1:", "no trusted signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b := x.Bundle
			if tt.tampered {
				b = x.Tampered(t, 1, reporttest.LegalBasis, "MLAT NL-US 2026/99")
			}
			f := x.WriteFiles(t, dir, b)

			wd.Open(t, srv.URL+"/")
			webdriver.WaitFor(t, "the verifier to load", func() bool {
				var state string
				wd.Eval(t, `return document.getElementById("status").dataset.state`, &state)
				if state == "error" {
					t.Fatalf("the page could not load the verifier: %q", wd.BrowserLog(t))
				}
				return state == "ready"
			})
			wd.ChooseFile(t, "#bundle-file", f.Bundle)
			wd.ChooseFile(t, "#trust-root-file", f.TrustRoot)
			if tt.evidence {
				wd.ChooseFile(t, "#evidence-file", f.Evidence)
			}
			wd.Click(t, "#verify")
			var state string
			webdriver.WaitFor(t, "the verification to finish", func() bool {
				wd.Eval(t, `return document.getElementById("status").dataset.state`, &state)
				return state == "verified" || state == "failed"
			})
			var got struct {
				Result, Verdict, Report string
			}
			wd.Eval(t, `const f = document.getElementById("report");
				const v = document.getElementById("verdict");
				return {Result: v.dataset.result, Verdict: v.innerText,
					Report: f.contentDocument ? f.contentDocument.documentElement.outerHTML : ""};`, &got)
			if state != tt.want || got.Result != tt.want {
				t.Errorf("page state %q, verdict %q (%s), want %q", state, got.Result, got.Verdict, tt.want)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(got.Verdict, w) {
					t.Errorf("verdict %q lacks %q", got.Verdict, w)
				}
			}
			if w := `data-result="` + tt.want + `"`; !strings.Contains(got.Report, w) {
				t.Errorf("the report shown in the page lacks %s", w)
			}
			if n := strings.Count(got.Report, `<tr class="event `); n != 6 {
				t.Errorf("the report shown in the page has %d timeline rows, want 6", n)
			}
			for _, l := range wd.BrowserLog(t) {
				if strings.HasPrefix(l, "SEVERE") && !strings.Contains(l, "favicon.ico") {
					t.Errorf("browser console: %s", l)
				}
			}

			var height int
			wd.Eval(t, `return document.documentElement.scrollHeight`, &height)
			wd.Resize(t, 1280, min(max(height, 1000), 6000))
			shot := filepath.Join(shots, "page-"+tt.name+".png")
			png := wd.Screenshot(t)
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			webdriver.CheckPNG(t, shot, png, 1000, 900)
			wd.Resize(t, 1280, 1000)
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range requested {
		if !slices.Contains(pageAssets, p) {
			t.Errorf("the page requested %s: it must load nothing but its own files", p)
		}
	}
}
