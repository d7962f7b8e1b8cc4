package exhibit

import (
	"maps"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// Bounds of the forensic metadata of an upload (docs/api.md, "Forensic metadata").
const (
	maxExhibitNumber = 128
	maxTool          = 128
	maxToolVersion   = 64
	maxExaminer      = 256
	maxSeizedPlace   = 512
	maxNotes         = 4096
	// seizureClockSkew is how far in the future a seizure time may lie: the clocks of
	// the agency that reports it and of the gateway need not agree.
	seizureClockSkew = 24 * time.Hour
)

// earliestSeizure bounds how far back a seizure time may lie: evidence of digital media
// seized before 1970 is a typo.
var earliestSeizure = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// checkAcquisition checks the forensic metadata of an upload: every text within its
// bound and free of hidden characters (checkText), every source hash a well-formed
// digest of md5, sha1 or sha256, and a seizure time that is neither before 1970 nor
// after now (give or take a day of clock skew). A nil a is no metadata.
func checkAcquisition(a *custody.Acquisition, now time.Time) error {
	if a == nil {
		return nil
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"exhibit_number", a.ExhibitNumber, maxExhibitNumber},
		{"tool", a.Tool, maxTool},
		{"tool_version", a.ToolVersion, maxToolVersion},
		{"examiner", a.Examiner, maxExaminer},
		{"seized_place", a.SeizedPlace, maxSeizedPlace},
		{"notes", a.Notes, maxNotes},
	} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	for alg, digest := range a.SourceHashes {
		if err := custody.CheckSourceHash(alg, digest); err != nil {
			return invalid("%v", err)
		}
	}
	if a.ToolVersion != "" && a.Tool == "" {
		return invalid("tool_version is given without the tool it is a version of")
	}
	if t := a.SeizedAt; t != nil && (t.Before(earliestSeizure) || t.After(now.Add(seizureClockSkew))) {
		return invalid("seized_at %s is not a plausible seizure time: before 1970 or in the future", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// acquisitionFact is the acquisition facts to record: nil when a says nothing, a copy
// with the seizure time in UTC otherwise.
func acquisitionFact(a *custody.Acquisition) *custody.Acquisition {
	if a.IsZero() {
		return nil
	}
	c := *a
	c.SourceHashes = nil
	if len(a.SourceHashes) > 0 {
		c.SourceHashes = maps.Clone(a.SourceHashes)
	}
	if a.SeizedAt != nil {
		t := a.SeizedAt.UTC()
		c.SeizedAt = &t
	}
	return &c
}
