package caseexport

import (
	"fmt"

	"github.com/evidencegw/evidencegw/custody"
)

// who names a party for a description: "person, role of agency (jurisdiction)".
func who(p custody.Party) string {
	s := p.Agency
	if p.Jurisdiction != "" {
		s += " (" + p.Jurisdiction + ")"
	}
	if p.Person != "" {
		r := p.Person
		if p.Role != "" {
			r += ", " + p.Role + ","
		}
		s = r + " of " + s
	}
	return s
}

// describe says in a sentence what custody event ev records.
func describe(ev custody.Event) string {
	other := ""
	if ev.Counterparty != nil {
		other = who(*ev.Counterparty)
	}
	grant := ""
	if ev.Grant != nil {
		grant = ev.Grant.ID
	}
	var s string
	switch ev.Action {
	case custody.ActionRegister:
		s = fmt.Sprintf("%s registered exhibit %s in case %s", who(ev.Actor), ev.EvidenceID, ev.CaseID)
	case custody.ActionShare:
		s = fmt.Sprintf("%s shared %s with %s by grant %s", who(ev.Actor), ev.EvidenceID, other, grant)
	case custody.ActionAccept:
		s = fmt.Sprintf("%s accepted grant %s of %s from %s with a signed receipt", who(ev.Actor), grant, ev.EvidenceID, other)
	case custody.ActionDownload:
		s = fmt.Sprintf("%s downloaded %s", who(ev.Actor), ev.EvidenceID)
		if grant != "" {
			s += fmt.Sprintf(" under grant %s from %s", grant, other)
		}
	case custody.ActionDownloadStart, custody.ActionDownloadResume, custody.ActionDownloadProgress,
		custody.ActionDownloadDeliver, custody.ActionDownloadAbandon:
		s = describeTransfer(ev, grant, other)
	case custody.ActionRevoke:
		s = fmt.Sprintf("%s revoked grant %s of %s to %s", who(ev.Actor), grant, ev.EvidenceID, other)
	case custody.ActionIntegrityFailure:
		s = fmt.Sprintf("the stored copy of %s failed its integrity check when %s accessed it", ev.EvidenceID, who(ev.Actor))
	case custody.ActionLegalHold:
		s = fmt.Sprintf("%s placed %s under legal hold", who(ev.Actor), ev.EvidenceID)
	case custody.ActionLegalHoldRelease:
		s = fmt.Sprintf("%s released the legal hold on %s", who(ev.Actor), ev.EvidenceID)
	case custody.ActionKeyRewrap:
		s = fmt.Sprintf("%s rewrapped the data key of the sealed copy of %s", who(ev.Actor), ev.EvidenceID)
	case custody.ActionDispose:
		s = fmt.Sprintf("%s disposed of %s: its content and every version of its data key were destroyed", who(ev.Actor), ev.EvidenceID)
	case custody.ActionBundleExport:
		s = fmt.Sprintf("%s exported the custody bundle of %s", who(ev.Actor), ev.EvidenceID)
	default:
		s = fmt.Sprintf("%s: %s of %s", who(ev.Actor), ev.Action, ev.EvidenceID)
	}
	if ev.LegalBasis != "" {
		s += " (legal basis: " + ev.LegalBasis + ")"
	}
	if ev.Detail != "" {
		s += ": " + ev.Detail
	}
	return s
}

// describeTransfer says what an event of a download transfer records.
func describeTransfer(ev custody.Event, grant, other string) string {
	tr := ev.Transfer
	var s string
	switch ev.Action {
	case custody.ActionDownloadStart:
		s = fmt.Sprintf("%s started download transfer %s of %s, bytes %d to %d", who(ev.Actor), tr.ID, ev.EvidenceID, tr.Offset, tr.Offset+tr.Length-1)
	case custody.ActionDownloadResume:
		s = fmt.Sprintf("%s resumed download transfer %s of %s from byte %d", who(ev.Actor), tr.ID, ev.EvidenceID, tr.Offset)
	case custody.ActionDownloadProgress:
		s = fmt.Sprintf("download transfer %s of %s to %s had sent %d bytes of its request and renewed its reservation", tr.ID, ev.EvidenceID, who(ev.Actor), tr.Sent)
	case custody.ActionDownloadDeliver:
		s = fmt.Sprintf("download transfer %s delivered %s to %s", tr.ID, ev.EvidenceID, who(ev.Actor))
	default:
		s = fmt.Sprintf("download transfer %s of %s to %s was abandoned", tr.ID, ev.EvidenceID, who(ev.Actor))
	}
	if grant != "" {
		s += fmt.Sprintf(" under grant %s from %s", grant, other)
	}
	return s
}
