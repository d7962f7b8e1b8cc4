package report

import (
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// Facts are what a chain says of its exhibit beyond the content's digest: the
// forensic metadata and the end of the retention period its register event records,
// and its disposal. Only verified events count.
type Facts struct {
	Acquisition *custody.Acquisition
	RetainUntil *time.Time
	Disposal    *Disposal
}

// Disposal is the first verified dispose event of a chain: from it on, the exhibit's
// content and data keys are destroyed; the chain stays.
type Disposal struct {
	Seq       uint64
	Time      time.Time
	Actor     custody.Party
	Authority string
}

// FactsOf returns the facts of the verified events of r (nil: none).
func FactsOf(r *custody.Report) Facts {
	var f Facts
	if r == nil {
		return f
	}
	for _, ve := range r.Events {
		if !ve.Verified() {
			continue
		}
		ev := ve.Event
		switch {
		case ev.Action == custody.ActionRegister:
			if ev.Exhibit != nil && !ev.Exhibit.Acquisition.IsZero() {
				f.Acquisition = ev.Exhibit.Acquisition
			}
			f.RetainUntil = ev.RetainUntil
		case ev.Action == custody.ActionDispose && f.Disposal == nil:
			f.Disposal = &Disposal{Seq: ev.Seq, Time: ev.Time, Actor: ev.Actor, Authority: ev.LegalBasis}
		}
	}
	return f
}

// factRow is one row of the exhibit's facts in the HTML report.
type factRow struct {
	Name, Value string
	Mono        bool
}

// factRows renders the facts as rows for the exhibit's table.
func factRows(f Facts) []factRow {
	var rows []factRow
	add := func(name, v string, mono bool) {
		if v != "" {
			rows = append(rows, factRow{name, v, mono})
		}
	}
	if a := f.Acquisition; a != nil {
		add("Exhibit number", a.ExhibitNumber, false)
		add("Source MD5", a.SourceHashes["md5"], true)
		add("Source SHA-1", a.SourceHashes["sha1"], true)
		add("Source SHA-256", a.SourceHashes["sha256"], true)
		tool := a.Tool
		if a.ToolVersion != "" {
			tool += " " + a.ToolVersion
		}
		add("Acquisition tool", tool, false)
		add("Examiner", a.Examiner, false)
		if a.SeizedAt != nil {
			add("Seized", formatTime(*a.SeizedAt), false)
		}
		add("Seized in", a.SeizedPlace, false)
		add("Notes", a.Notes, false)
	}
	if f.RetainUntil != nil {
		add("Retained until", formatTime(*f.RetainUntil), false)
	}
	return rows
}
