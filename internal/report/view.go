package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// page is what the template renders; every string in it is escaped by html/template.
type page struct {
	Verified bool
	Reason   string
	Exhibit  exhibitView
	Route    string
	Lanes    []lane
	Rows     []row
	Checked  []checkView
	Trust    trustView
	Meta     metaView
	NEvents  int
	// Facts are the exhibit's forensic metadata and retention; Disposal its disposal.
	Facts    []factRow
	Disposal *disposalView
}

type disposalView struct {
	Seq             int
	Time, By, Under string
}

type exhibitView struct {
	ID, Case, SHA256, Size, Description string
}

type metaView struct {
	Generated, Tool, BundleName, BundleSHA256 string
}

// lane is a jurisdiction's column of the timeline.
type lane struct {
	Code     string
	Agencies []string
}

// row is one event of the timeline: a card in the actor's lane, and a note in the
// counterparty's lane when that is another jurisdiction. Full is set instead of Cells
// for an event whose actor is unknown (an unreadable event).
type row struct {
	Seq      int
	Time     string
	Verified bool
	Cells    []cell
	Full     *card
}

type cell struct {
	Card *card
	Note string
}

type card struct {
	Seq          int
	Verified     bool
	Unreadable   bool
	Actor        string
	Words        string
	Who          string
	Counterparty string
	Crossing     string
	LegalBasis   string
	Grant        string
	Detail       string
	Exhibit      string
	Checks       []string
	Failure      string
	KeyID        string
	Digest       string
	LogIndex     string
	// Signed says who signed the event's act with their own key; "" if nobody did.
	Signed string
	// Received, on a download, says whether the member's signed receipt of it
	// arrived; NotReceived is set when it did not.
	Received    string
	NotReceived bool
}

// checkView is one paragraph of "What was checked".
type checkView struct {
	Title   string
	Status  string // ok, fail, warn or info
	Explain string
	Result  []string
	Notes   []string // preformatted text, such as checkpoints
}

type trustView struct {
	Read        bool
	SHA256      string
	Keys        []keyView
	Origin      string
	VerifierKey string
	Quorum      int
}

type keyView struct {
	ID, Algorithm, Valid string
	Used                 int
}

const timeLayout = "2006-01-02 15:04:05 UTC"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

func newPage(r *custody.Report, verr error, meta Meta) page {
	p := page{Verified: verr == nil && r != nil, Trust: newTrustView(r, meta),
		Meta: metaView{Generated: formatTime(meta.Generated), Tool: meta.Tool,
			BundleName: meta.BundleName, BundleSHA256: meta.BundleSHA256}}
	switch {
	case verr != nil:
		p.Reason = verr.Error()
	case r == nil:
		p.Reason = "nothing was verified"
	}
	if r == nil {
		p.Checked = []checkView{{Title: "Nothing was checked", Status: "fail",
			Explain: "The bundle or the trust root could not be read, so no custody event was verified."}}
		return p
	}
	p.NEvents = len(r.Events)
	p.Exhibit = exhibitView{ID: r.EvidenceID, Case: r.CaseID, SHA256: r.SHA256, Size: formatSize(r.Size)}
	if len(r.Events) > 0 && r.Events[0].Event.Exhibit != nil {
		p.Exhibit.Description = r.Events[0].Event.Exhibit.Description
	}
	f := FactsOf(r)
	p.Facts = factRows(f)
	if d := f.Disposal; d != nil {
		p.Disposal = &disposalView{Seq: int(d.Seq), Time: formatTime(d.Time), By: formatParty(&d.Actor), Under: d.Authority}
	}
	p.Lanes = lanes(r.Events)
	p.Route = route(r.Events)
	for i, ve := range r.Events {
		p.Rows = append(p.Rows, newRow(i, ve, p.Lanes))
	}
	p.Checked = checked(r, verr, meta)
	return p
}

// lanes are the jurisdictions of the actors and counterparties, in order of first
// appearance.
func lanes(events []custody.VerifiedEvent) []lane {
	var ls []lane
	add := func(p *custody.Party) {
		if p == nil || p.Jurisdiction == "" {
			return
		}
		i := slices.IndexFunc(ls, func(l lane) bool { return l.Code == p.Jurisdiction })
		if i < 0 {
			ls = append(ls, lane{Code: p.Jurisdiction})
			i = len(ls) - 1
		}
		if p.Agency != "" && !slices.Contains(ls[i].Agencies, p.Agency) {
			ls[i].Agencies = append(ls[i].Agencies, p.Agency)
		}
	}
	for _, ve := range events {
		add(&ve.Event.Actor)
		add(ve.Event.Counterparty)
	}
	return ls
}

// route is the jurisdictions the exhibit was shared across, in order, starting where
// it was registered: e.g. "NL → US".
func route(events []custody.VerifiedEvent) string {
	var hops []string
	for _, ve := range events {
		ev := ve.Event
		j := ev.Actor.Jurisdiction
		if ev.Action == custody.ActionShare {
			j = counterpartyJurisdiction(ev)
		} else if ev.Action != custody.ActionRegister {
			continue
		}
		if j != "" && (len(hops) == 0 || hops[len(hops)-1] != j) {
			hops = append(hops, j)
		}
	}
	return strings.Join(hops, " → ")
}

func counterpartyJurisdiction(ev custody.Event) string {
	if ev.Counterparty == nil {
		return ""
	}
	return ev.Counterparty.Jurisdiction
}

func newRow(i int, ve custody.VerifiedEvent, ls []lane) row {
	ev := ve.Event
	c := newCard(i, ve)
	rw := row{Seq: i, Time: formatTime(ev.Time), Verified: ve.Verified()}
	actor := slices.IndexFunc(ls, func(l lane) bool { return l.Code == ev.Actor.Jurisdiction })
	if actor < 0 {
		rw.Full = c
		return rw
	}
	rw.Cells = make([]cell, len(ls))
	rw.Cells[actor].Card = c
	if cj := counterpartyJurisdiction(ev); cj != "" && cj != ev.Actor.Jurisdiction {
		if k := slices.IndexFunc(ls, func(l lane) bool { return l.Code == cj }); k >= 0 {
			arrow := "⇠ "
			if k < actor {
				arrow = "⇢ "
			}
			rw.Cells[k].Note = arrow + counterpartyNote(ev)
		}
	}
	return rw
}

func newCard(i int, ve custody.VerifiedEvent) *card {
	ev := ve.Event
	c := &card{Seq: i, Verified: ve.Verified(), Unreadable: ve.Statement == nil,
		Actor: ev.Actor.Agency, Words: actionWords(ev), Who: formatParty(&ev.Actor),
		LegalBasis: legalBasis(ev), Detail: ev.Detail, Checks: ve.Checks, Failure: ve.Failure,
		KeyID: ve.KeyID, Digest: ve.Digest}
	if ev.Counterparty != nil {
		c.Counterparty = formatParty(ev.Counterparty)
		c.Crossing = crossing(ev)
	}
	if g := ev.Grant; g != nil {
		c.Grant = formatGrant(ev.Action, g)
	}
	if x := ev.Exhibit; x != nil {
		c.Exhibit = fmt.Sprintf("%s, SHA-256 %s", formatSize(x.Size), x.SHA256)
		if x.Description != "" {
			c.Exhibit = fmt.Sprintf("%q, %s", x.Description, c.Exhibit)
		}
		if a := x.Acquisition; a != nil && a.ExhibitNumber != "" {
			c.Exhibit += ", exhibit number " + a.ExhibitNumber
		}
	}
	if ve.TreeSize > 0 {
		c.LogIndex = fmt.Sprintf("%d of %d", ve.LogIndex, ve.TreeSize)
	}
	c.Signed, c.Received, c.NotReceived = actorSignature(ve)
	if c.Unreadable {
		c.Words = "unreadable event"
	}
	return c
}

// actorSignature says who signed the event's act and, for a download, whether its
// receipt arrived (and for a received event, what it says was received).
func actorSignature(ve custody.VerifiedEvent) (signed, received string, notReceived bool) {
	if a := ve.Act; a != nil {
		signed = fmt.Sprintf("%s, with their own key (certificate of %s, fingerprint %s), signed %s", a.Subject, a.CA, a.Fingerprint[:16], formatTime(a.Time))
	} else if custody.ActActions(ve.Event.Action) && ve.Verified() {
		signed = "not signed by the actor: recorded on the gateway's signature alone"
	}
	download := ve.Event.Action == custody.ActionDownload || ve.Event.Action == custody.ActionDownloadDeliver
	switch {
	case download && ve.Received != nil && ve.Received.Matches:
		received = fmt.Sprintf("received: the member signed that it received %s with the registered SHA-256 (event #%d)", formatSize(ve.Received.Size), ve.Received.Seq)
	case download && ve.Received != nil:
		received = fmt.Sprintf("RECEIVED OTHER BYTES: the member signed that it received SHA-256 %s, not the registered digest (event #%d)", ve.Received.SHA256, ve.Received.Seq)
		notReceived = true
	case download && ve.Verified():
		received, notReceived = "NOT RECEIVED: no signed receipt of this download arrived", true
	case ve.Event.Action == custody.ActionReceived && ve.Act != nil:
		received = fmt.Sprintf("%s received, SHA-256 %s", formatSize(ve.Act.Act.Size), receivedDigest(ve))
	}
	return signed, received, notReceived
}

// receivedDigest is the digest a received event's act names.
func receivedDigest(ve custody.VerifiedEvent) string {
	if ve.Event.Act == nil {
		return ""
	}
	p, err := ve.Event.Act.Envelope.PayloadBytes()
	if err != nil {
		return ""
	}
	st, err := custody.ParseActStatement(p)
	if err != nil {
		return ""
	}
	return st.SHA256()
}

// actionWords says in plain words what the actor did.
func actionWords(ev custody.Event) string {
	switch ev.Action {
	case custody.ActionRegister:
		return "registered the exhibit"
	case custody.ActionShare:
		return "shared with " + partyShort(ev.Counterparty)
	case custody.ActionAccept:
		if ev.Receipt != nil {
			return "accepted (signed receipt)"
		}
		return "accepted"
	case custody.ActionDownload:
		return "downloaded"
	case custody.ActionDownloadStart:
		return "started a download"
	case custody.ActionDownloadResume:
		return "resumed a download"
	case custody.ActionDownloadProgress:
		return "download in progress"
	case custody.ActionDownloadDeliver:
		return "download delivered"
	case custody.ActionDownloadAbandon:
		return "download abandoned"
	case custody.ActionRevoke:
		if ev.Counterparty != nil {
			return "revoked the access of " + partyShort(ev.Counterparty)
		}
		return "revoked"
	case custody.ActionIntegrityFailure:
		return "integrity check FAILED"
	case custody.ActionBundleExport:
		return "exported a court bundle"
	case custody.ActionReceived:
		return "signed the receipt of a download"
	case custody.ActionLegalHold:
		return "placed it under legal hold"
	case custody.ActionLegalHoldRelease:
		return "released the legal hold"
	case custody.ActionKeyRewrap:
		return "rewrapped its data key"
	case custody.ActionDispose:
		return "DISPOSED of it: content and data keys destroyed"
	}
	return fmt.Sprintf("did %q (unknown action)", string(ev.Action))
}

// crossing is the border an event's transfer crosses, in the direction the evidence
// travels: from the holder's jurisdiction to the grantee's. The grantee is the actor of
// an accept or a download, the counterparty of a share or a revoke. "" if the two
// parties are in one jurisdiction.
func crossing(ev custody.Event) string {
	from, to := ev.Actor.Jurisdiction, ev.Counterparty.Jurisdiction
	if ev.Grant != nil && ev.Actor.Agency == ev.Grant.To {
		from, to = to, from
	}
	if from == to {
		return ""
	}
	return from + " → " + to
}

// counterpartyNote is shown in the counterparty's lane.
func counterpartyNote(ev custody.Event) string {
	from := partyShort(&ev.Actor)
	switch ev.Action {
	case custody.ActionShare:
		return "receives access from " + from
	case custody.ActionRevoke:
		return "access revoked by " + from
	}
	return "counterparty of " + from
}

func partyShort(p *custody.Party) string {
	if p == nil {
		return "(nobody named)"
	}
	if p.Jurisdiction == "" {
		return p.Agency
	}
	return p.Agency + " (" + p.Jurisdiction + ")"
}

// formatParty renders "person, role — agency (jurisdiction)".
func formatParty(p *custody.Party) string {
	var who []string
	for _, s := range []string{p.Person, p.Role} {
		if s != "" {
			who = append(who, s)
		}
	}
	if len(who) == 0 {
		return partyShort(p)
	}
	return strings.Join(who, ", ") + " — " + partyShort(p)
}

func formatGrant(a custody.Action, g *custody.Grant) string {
	if a != custody.ActionShare {
		return "acting under grant " + g.ID
	}
	s := fmt.Sprintf("%s to %s, expires %s", g.ID, g.To, formatTime(g.Expires))
	if g.MaxDownloads > 0 {
		s += fmt.Sprintf(", at most %d download(s)", g.MaxDownloads)
	} else {
		s += ", no download limit"
	}
	if g.ViewOnly {
		s += ", view only"
	}
	return s
}

// legalBasis is the legal basis an event states or acts under.
func legalBasis(ev custody.Event) string {
	if ev.LegalBasis != "" {
		return ev.LegalBasis
	}
	if ev.Grant != nil {
		return ev.Grant.LegalBasis
	}
	return ""
}

func formatSize(n int64) string {
	s := fmt.Sprintf("%d bytes", n)
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	f, u := float64(n), ""
	for _, unit := range units {
		if f < 1024 {
			break
		}
		f, u = f/1024, unit
	}
	if u != "" {
		s = fmt.Sprintf("%.1f %s (%s)", f, u, s)
	}
	return s
}
