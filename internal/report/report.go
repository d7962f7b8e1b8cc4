// Package report renders a custody verification as one self-contained HTML page for
// a court: the overall result, a timeline of the custody events with a lane per
// jurisdiction, what was checked and against which pinned keys.
//
// The page has inline CSS only, no scripts and no external assets, and prints on
// paper. Everything taken from the bundle is untrusted and escaped by html/template;
// the page also carries a Content-Security-Policy that forbids scripts, so that a
// mistake in escaping could not run code where the page is opened.
//
// It is part of the court's verifier (cmd/custody-verify, the browser verifier): it may
// import custody and the standard library only, never a network client.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"runtime/debug"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// Meta is what the report says about the verification run, beside the custody report.
type Meta struct {
	// Generated is when the verification ran; shown in UTC.
	Generated time.Time
	// Tool names the verifier and its version (see ToolVersion).
	Tool string
	// TrustRoot is the pinned trust root the bundle was verified against; nil if it
	// could not be read.
	TrustRoot *custody.TrustRoot
	// TrustRootSHA256 is the hex SHA-256 of the trust root file, to compare with the
	// fingerprint the operator published.
	TrustRootSHA256 string
	// WitnessPolicy is the verifier's own witness policy, nil if none was given;
	// WitnessPolicySHA256 the hex SHA-256 of its file.
	WitnessPolicy       *custody.WitnessPolicy
	WitnessPolicySHA256 string
	// BundleName and BundleSHA256 identify the bundle file.
	BundleName   string
	BundleSHA256 string
	// EvidenceName is the evidence file given to be hashed; "" if none was.
	EvidenceName string
	// LogChecks are the results of the checks across bundles and against a log
	// snapshot (completeness), one sentence each; empty if none were asked for.
	// LogCheckStatus is "ok", "warn" (something could not be checked) or "fail".
	LogChecks      []string
	LogCheckStatus string
}

//go:embed report.html.tmpl
var pageTemplateText string

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	// max1 keeps a colspan positive when no event names a jurisdiction.
	"max1": func(n int) int { return max(n, 1) },
}).Parse(pageTemplateText))

// WriteHTML writes the HTML report of a verification that returned r and verr (r may be
// nil when an input could not be read). The result is VERIFIED only if verr is nil.
func WriteHTML(w io.Writer, r *custody.Report, verr error, meta Meta) error {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, newPage(r, verr, meta)); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

// ToolVersion describes the running binary for Meta.Tool: its main package path,
// module version and, when the build recorded it, the VCS revision.
func ToolVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown build"
	}
	v := fmt.Sprintf("%s %s", bi.Path, bi.Main.Version)
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " rev " + s.Value
		}
	}
	return v + " (" + bi.GoVersion + ")"
}
