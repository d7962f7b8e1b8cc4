package webdriver

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Timeout bounds one headless Chromium run or WebDriver command, and every WaitFor; a
// cold start on a small CI machine takes a few seconds.
const Timeout = 90 * time.Second

// LookTool finds a browser tool. A missing one skips the test, unless CI=true, where
// it is a failure: CI must run the browser tests.
func LookTool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("none of %q found: install Debian's chromium and chromium-driver", names)
	}
	t.Skipf("none of %q found: install Debian's chromium and chromium-driver to run this test", names)
	return ""
}

// ChromiumFlags are the flags of every headless Chromium the tests start: no sandbox
// (the tests may run as root), no network of its own, a fresh profile.
func ChromiumFlags(t testing.TB) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
}

// RunChromium runs headless Chromium with args and returns its standard output.
func RunChromium(t testing.TB, args ...string) []byte {
	t.Helper()
	chromium := LookTool(t, "chromium", "chromium-browser")
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append(ChromiumFlags(t), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %q: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// ScreenshotDir is where screenshots go: the directory the environment variable env
// names if set (kept after the test, for people to look at), else a temporary
// directory.
func ScreenshotDir(t testing.TB, env string) string {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		return t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CheckPNG checks that data is a PNG of at least minW×minH pixels with more than a
// handful of colours (not a blank page).
func CheckPNG(t testing.TB, path string, data []byte, minW, minH int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < minW || b.Dy() < minH {
		t.Errorf("screenshot %s is %dx%d, want at least %dx%d", path, b.Dx(), b.Dy(), minW, minH)
	}
	if n := colours(img); n < 16 {
		t.Errorf("screenshot %s has %d colours: the page looks blank", path, n)
	}
	t.Logf("screenshot %s (%dx%d)", path, b.Dx(), b.Dy())
}

// colours counts the distinct colours of a sample of img's pixels.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
