package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"time"

	"github.com/evidencegw/evidencegw/internal/report"
)

// pageFiles are the console's page, style and script.
//
//go:embed assets
var pageFiles embed.FS

// verifierFiles are the in-browser verifier, when `go generate` built it.
//
//go:embed verifier
var verifierFiles embed.FS

// verifierNames are the files of the verifier the page loads.
var verifierNames = []string{"custody-verify.wasm", "wasm_exec.js"}

// assets are the files the console serves and the policy they run under.
type assets struct {
	page, verifierFS fs.FS
	verifier         bool // the verifier's files are there
	csp              string
	started          time.Time
}

func loadAssets(verifier fs.FS) (*assets, error) {
	page, err := fs.Sub(pageFiles, "assets")
	if err != nil {
		return nil, err
	}
	if verifier == nil {
		if verifier, err = fs.Sub(verifierFiles, "verifier"); err != nil {
			return nil, err
		}
	}
	a := &assets{page: page, verifierFS: verifier, verifier: true, started: time.Now()}
	for _, n := range verifierNames {
		if _, err := fs.Stat(verifier, n); err != nil {
			a.verifier = false
		}
	}
	style, err := reportStyleHash()
	if err != nil {
		return nil, err
	}
	// The court report the verifier writes is shown in a sandboxed frame; its one
	// <style> element is allowed by its hash, nothing else inline.
	a.csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' '" + style + "'; " +
		"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return a, nil
}

// styleElement finds the <style> element of the court report.
var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// reportStyleHash returns the CSP source of the court report's <style> element:
// 'sha256-...' of its text. The report's style is fixed; only its content varies.
func reportStyleHash() (string, error) {
	var b bytes.Buffer
	if err := report.WriteHTML(&b, nil, errors.New("none"), report.Meta{}); err != nil {
		return "", fmt.Errorf("rendering the court report's style: %w", err)
	}
	m := styleElement.FindSubmatch(b.Bytes())
	if m == nil {
		return "", errors.New("the court report has no <style> element")
	}
	sum := sha256.Sum256(m[1])
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// serveAsset serves a file of the page or the verifier.
func (c *Console) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" {
		name = "index.html"
	}
	fsys := c.assets.page
	for _, n := range verifierNames {
		if name == n {
			fsys = c.assets.verifierFS
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		writeProblem(w, consoleProblem(problemNotProxied, http.StatusNotFound, "the console has no file "+name))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if err != nil || fi.IsDir() || !ok {
		writeProblem(w, consoleProblem(problemNotProxied, http.StatusNotFound, "the console has no file "+name))
		return
	}
	http.ServeContent(w, r, name, c.assets.started, rs)
}
