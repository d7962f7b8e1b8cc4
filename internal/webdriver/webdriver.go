package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Driver is a WebDriver session of a headless Chromium started by chromedriver.
type Driver struct {
	base string // http://127.0.0.1:port/session/id
}

// elementKey is the key of an element reference in WebDriver JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Start starts chromedriver and a headless Chromium session; both end with the test.
func Start(t testing.TB) *Driver {
	t.Helper()
	chromium := LookTool(t, "chromium", "chromium-browser")
	driver := LookTool(t, "chromedriver")
	port := FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, driver, "--port="+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromedriver: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	WaitFor(t, "chromedriver to listen", func() bool {
		resp, err := http.Get(root + "/status")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": ChromiumFlags(t)},
		"goog:loggingPrefs":  map[string]any{"browser": "ALL"},
	}}}
	wd := &Driver{base: root}
	var session struct {
		SessionID string `json:"sessionId"`
	}
	wd.call(t, http.MethodPost, "/session", caps, &session)
	wd.base = root + "/session/" + session.SessionID
	t.Cleanup(func() { wd.call(t, http.MethodDelete, "", nil, nil) })
	return wd
}

// FreePort returns a TCP port free on 127.0.0.1 a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitFor polls cond until it holds or Timeout passes.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call sends a WebDriver command and decodes the "value" of the answer into out.
func (wd *Driver) call(t testing.TB, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	// Not t.Context(): the session is deleted in a cleanup, after that is done.
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, wd.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webdriver %s %s: %s: %s", method, path, resp.Status, raw)
	}
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	if out != nil {
		if err := json.Unmarshal(answer.Value, out); err != nil {
			t.Fatalf("webdriver %s %s: decoding %s: %v", method, path, answer.Value, err)
		}
	}
}

// Open navigates to url.
func (wd *Driver) Open(t testing.TB, url string) {
	t.Helper()
	wd.call(t, http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// Resize sets the window's size.
func (wd *Driver) Resize(t testing.TB, width, height int) {
	t.Helper()
	wd.call(t, http.MethodPost, "/window/rect", map[string]int{"width": width, "height": height}, nil)
}

// Find returns the reference of the element matching a CSS selector.
func (wd *Driver) Find(t testing.TB, selector string) string {
	t.Helper()
	var el map[string]string
	wd.call(t, http.MethodPost, "/element", map[string]string{"using": "css selector", "value": selector}, &el)
	return el[elementKey]
}

// ChooseFile gives a file to an <input type=file>, as a user choosing it would. For an
// input that takes several, give their paths joined by "\n".
func (wd *Driver) ChooseFile(t testing.TB, selector, path string) {
	t.Helper()
	wd.call(t, http.MethodPost, "/element/"+wd.Find(t, selector)+"/value", map[string]string{"text": path}, nil)
}

// Type types text into the element, as keystrokes.
func (wd *Driver) Type(t testing.TB, selector, text string) {
	t.Helper()
	wd.call(t, http.MethodPost, "/element/"+wd.Find(t, selector)+"/value", map[string]string{"text": text}, nil)
}

// Clear empties an input.
func (wd *Driver) Clear(t testing.TB, selector string) {
	t.Helper()
	wd.call(t, http.MethodPost, "/element/"+wd.Find(t, selector)+"/clear", map[string]any{}, nil)
}

// Click clicks the element.
func (wd *Driver) Click(t testing.TB, selector string) {
	t.Helper()
	wd.call(t, http.MethodPost, "/element/"+wd.Find(t, selector)+"/click", map[string]any{}, nil)
}

// Eval runs a script in the page (its body, ending in return) and decodes the result.
func (wd *Driver) Eval(t testing.TB, script string, out any, args ...any) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	wd.call(t, http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// Screenshot returns a PNG of the window.
func (wd *Driver) Screenshot(t testing.TB) []byte {
	t.Helper()
	var b64 string
	wd.call(t, http.MethodGet, "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return png
}

// BrowserLog returns the browser console messages logged since the last call.
func (wd *Driver) BrowserLog(t testing.TB) []string {
	t.Helper()
	var entries []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	wd.call(t, http.MethodPost, "/se/log", map[string]string{"type": "browser"}, &entries)
	var out []string
	for _, e := range entries {
		out = append(out, e.Level+": "+e.Message)
	}
	return out
}

// EvalAsync runs an asynchronous script in the page: it ends by calling its last
// argument with the result, which is decoded into out.
func (wd *Driver) EvalAsync(t testing.TB, script string, out any, args ...any) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	wd.call(t, http.MethodPost, "/execute/async", map[string]any{"script": script, "args": args}, out)
}
