package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// forensicFlags are the forensic metadata flags of upload (docs/cli.md).
type forensicFlags struct {
	exhibitNumber, md5, sha1, sha256 string
	tool, toolVersion, examiner      string
	seizedAt, seizedPlace, notes     string
}

func (f *forensicFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.exhibitNumber, "exhibit-number", "", "your agency's exhibit `NUMBER` for the evidence")
	fs.StringVar(&f.md5, "md5", "", "MD5 `HEX` of the source medium, as the acquisition tool reported it")
	fs.StringVar(&f.sha1, "sha1", "", "SHA-1 `HEX` of the source medium, as the acquisition tool reported it")
	fs.StringVar(&f.sha256, "sha256", "", "SHA-256 `HEX` of the source medium, as the acquisition tool reported it (FILE's own SHA-256 is computed)")
	fs.StringVar(&f.tool, "tool", "", "acquisition tool `NAME`")
	fs.StringVar(&f.toolVersion, "tool-version", "", "`VERSION` of the acquisition tool (with --tool)")
	fs.StringVar(&f.examiner, "examiner", "", "`NAME` of who acquired the evidence")
	fs.StringVar(&f.seizedAt, "seized-at", "", "`TIME` the source was seized, RFC 3339 (2026-03-01T06:30:00Z or with an offset)")
	fs.StringVar(&f.seizedPlace, "seized-place", "", "`PLACE` where the source was seized")
	fs.StringVar(&f.notes, "notes", "", "free `TEXT` about the acquisition")
}

// acquisition returns the forensic metadata the flags give, nil if none. A hash that
// is not hex of its algorithm's length, or a seizure time that is not RFC 3339, is a
// usage error; the gateway checks the rest (bounds, characters).
func (f *forensicFlags) acquisition() (*custody.Acquisition, error) {
	a := &custody.Acquisition{ExhibitNumber: f.exhibitNumber, Tool: f.tool, ToolVersion: f.toolVersion,
		Examiner: f.examiner, SeizedPlace: f.seizedPlace, Notes: f.notes}
	for _, h := range []struct{ flag, alg, v string }{{"md5", "md5", f.md5}, {"sha1", "sha1", f.sha1}, {"sha256", "sha256", f.sha256}} {
		if h.v == "" {
			continue
		}
		v := strings.ToLower(h.v)
		if err := custody.CheckSourceHash(h.alg, v); err != nil {
			return nil, usagef("--%s: %v", h.flag, err)
		}
		if a.SourceHashes == nil {
			a.SourceHashes = map[string]string{}
		}
		a.SourceHashes[h.alg] = v
	}
	if f.seizedAt != "" {
		t, err := time.Parse(time.RFC3339, f.seizedAt)
		if err != nil {
			return nil, usagef("--seized-at %q: want an RFC 3339 time such as 2026-03-01T06:30:00Z", f.seizedAt)
		}
		t = t.UTC()
		a.SeizedAt = &t
	}
	if f.toolVersion != "" && f.tool == "" {
		return nil, usagef("--tool-version needs --tool")
	}
	if a.IsZero() {
		return nil, nil
	}
	return a, nil
}

// printEvidenceFacts writes the forensic metadata, retention, hold and disposal of an
// evidence view as rows of tw.
func printEvidenceFacts(tw *tabwriter.Writer, ev *api.EvidenceView) {
	if a := ev.Acquisition; a != nil {
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "%s\t%s\n", k, v)
			}
		}
		row("Exhibit number", a.ExhibitNumber)
		for _, alg := range []string{"md5", "sha1", "sha256"} {
			row("Source "+strings.ToUpper(alg), a.SourceHashes[alg])
		}
		row("Tool", strings.TrimSpace(a.Tool+" "+a.ToolVersion))
		row("Examiner", a.Examiner)
		if a.SeizedAt != nil {
			row("Seized at", a.SeizedAt.UTC().Format(time.RFC3339))
		}
		row("Seized in", a.SeizedPlace)
		row("Notes", a.Notes)
	}
	if ev.RetainUntil != nil {
		fmt.Fprintf(tw, "Retained until\t%s\n", ev.RetainUntil.UTC().Format(time.RFC3339))
	}
	if ev.LegalHold {
		fmt.Fprintf(tw, "Legal hold\tyes\n")
	}
	if d := ev.Disposal; d != nil {
		fmt.Fprintf(tw, "Disposed of\t%s by %s under %q (event %d): content destroyed\n",
			d.Time.UTC().Format(time.RFC3339), d.By.Agency, d.Authority, d.Seq)
	}
}
